package dev.flexsc.bench.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A snapshot of /proc/stat's per-CPU counters (USER_HZ ticks), to tell how busy each CPU
 * was over a window: the whole machine's view, so a server that waits on its own hand-offs
 * (an idle server CPU under load) shows beside one that is short of CPU.
 */
public record CpuTimes(long[] busy, long[] total) {
    /**
     * Reads /proc/stat: for each {@code cpuN} line, busy = user + nice + system + irq +
     * softirq + steal and total = busy + idle + iowait (guest time is already in user).
     * Index N is CPU N; a CPU missing from the file (offline) counts zero.
     */
    public static CpuTimes read() throws IOException {
        long[] busy = new long[0], total = new long[0];
        for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
            if (!line.startsWith("cpu") || line.startsWith("cpu ")) continue;
            String[] f = line.trim().split("\\s+");
            int cpu = Integer.parseInt(f[0].substring(3));
            if (cpu >= busy.length) {
                busy = Arrays.copyOf(busy, cpu + 1);
                total = Arrays.copyOf(total, cpu + 1);
            }
            long user = Long.parseLong(f[1]), nice = Long.parseLong(f[2]), system = Long.parseLong(f[3]),
                    idle = Long.parseLong(f[4]), iowait = Long.parseLong(f[5]), irq = Long.parseLong(f[6]),
                    softirq = Long.parseLong(f[7]), steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            busy[cpu] = user + nice + system + irq + softirq + steal;
            total[cpu] = busy[cpu] + idle + iowait;
        }
        return new CpuTimes(busy, total);
    }

    /** Each CPU's busy share (0..1) from {@code this} to {@code later}; NaN for a CPU that did not tick. */
    public double[] busyShareUntil(CpuTimes later) {
        double[] share = new double[Math.min(busy.length, later.busy.length)];
        for (int c = 0; c < share.length; c++) {
            long t = later.total[c] - total[c];
            share[c] = t <= 0 ? Double.NaN : (double) (later.busy[c] - busy[c]) / t;
        }
        return share;
    }
}
