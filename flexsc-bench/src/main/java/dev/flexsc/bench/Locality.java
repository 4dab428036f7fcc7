package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.SyscallInvoker;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The locality benchmark after the paper: each thread alternates a slice of user-mode work
 * over its own working set with one system call (a 64-byte write to /dev/null). Reports the
 * throughput of user work (slices per second) at equal core budgets: direct calls from one
 * platform thread per core, against FlexSC green threads (8 per carrier) on the user CPUs
 * with the syscall CPU left to the syscall threads.
 */
public final class Locality {
    private Locality() {}

    /** One cell: working set, work per call, and slices/s for each side. */
    public record Row(int workingSetKiB, double workMicros, double directSlicesPerSec, double flexscSlicesPerSec,
                      int directThreads, int flexscThreads) {
        public double ratio() {
            return flexscSlicesPerSec / directSlicesPerSec;
        }
    }

    /** Measures every working set and work size given; seconds per side per cell. */
    public static List<Row> run(int[] workingSetsKiB, double[] workMicros, double seconds) throws Exception {
        int cpus = Runtime.getRuntime().availableProcessors();
        long iterPerMicro = calibrate();
        List<Row> rows = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (int ws : workingSetsKiB) {
                for (double w : workMicros) {
                    long iters = Math.max(1, (long) (w * iterPerMicro));
                    double direct = side(null, null, cpus, ws, iters, seconds, arena);
                    double flexsc;
                    int flexscThreads;
                    try (dev.flexsc.threads.FlexscRuntime rt = dev.flexsc.threads.FlexscRuntime.open(
                            FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build())) {
                        int[] user = rt.engine().config().userCpus();
                        // green threads, 8 per carrier: the carrier works for one while the others' calls run
                        flexscThreads = user.length * 8;
                        flexsc = side(rt.engine(), rt.threadFactory(), flexscThreads, ws, iters, seconds, arena);
                    }
                    rows.add(new Row(ws, w, direct, flexsc, cpus, flexscThreads));
                }
            }
        }
        return rows;
    }

    /** Iterations of the work loop per microsecond on this machine (1 MiB working set). */
    static long calibrate() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ws = a.allocate(1 << 20, 64);
            long n = 2_000_000, t0 = System.nanoTime();
            work(ws, n, 1);
            long ns = Math.max(1, System.nanoTime() - t0);
            return Math.max(1, n * 1000 / ns);
        }
    }

    /** The user-mode work: a strided read-modify-write walk over the working set. */
    static long work(MemorySegment ws, long iters, long seed) {
        long size = ws.byteSize() / 8, idx = seed % size, acc = seed;
        for (long i = 0; i < iters; i++) {
            long v = ws.getAtIndex(ValueLayout.JAVA_LONG, idx);
            ws.setAtIndex(ValueLayout.JAVA_LONG, idx, v + acc);
            acc = acc * 6364136223846793005L + v;
            idx = (idx + 8 + (acc & 7)) % size; // one cache line forward, jittered
        }
        return acc;
    }

    private static double side(FlexscEngine engine, java.util.concurrent.ThreadFactory green, int threads, int wsKiB,
                               long iters, double seconds, Arena arena) throws Exception {
        SyscallInvoker inv = engine == null ? DirectSyscalls.invoker() : (SyscallInvoker) engine;
        int fd = DirectSyscalls.syscalls().openat(dev.flexsc.Syscalls.AT_FDCWD, "/dev/null", 01 | 02000000, 0);
        MemorySegment buf = arena.allocate(64);
        AtomicLong slices = new AtomicLong();
        int[] user = engine == null ? null : engine.config().userCpus();
        long deadline = System.nanoTime() + (long) (seconds * 1e9), warmEnd = System.nanoTime() + (long) (seconds * 0.3e9);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int cpu = user == null ? t % Runtime.getRuntime().availableProcessors() : user[t % user.length];
            int seed = t + 1;
            Runnable body = () -> {
                if (green == null) LibFlexsc.flexsc_pin_self(cpu);
                MemorySegment ws = arena.allocate((long) wsKiB << 10, 64);
                long n = 0, sink = 0;
                try {
                    while (System.nanoTime() < deadline) {
                        sink += work(ws, iters, seed);
                        long r = inv.invoke(SyscallTable.WRITE, fd, buf.address(), 64, 0, 0, 0);
                        if (r != 64) throw new IllegalStateException("write returned " + r);
                        if (System.nanoTime() > warmEnd) n++;
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                slices.addAndGet(n + (sink == 42 ? 1 : 0));
            };
            Thread th = green != null ? green.newThread(body) : Thread.ofPlatform().unstarted(body);
            th.start();
            ts.add(th);
        }
        for (Thread t : ts) t.join();
        DirectSyscalls.syscalls().close(fd);
        return slices.get() / (seconds * 0.7);
    }

    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-12s %-12s %18s %18s %10s%n";
        sb.append(String.format(Locale.ROOT, fmt, "working set", "work/call", "direct slices/s", "FlexSC slices/s", "FlexSC/direct"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.workingSetKiB() + " KiB", r.workMicros() + " us",
                    String.format(Locale.ROOT, "%,.0f", r.directSlicesPerSec()),
                    String.format(Locale.ROOT, "%,.0f", r.flexscSlicesPerSec()), String.format(Locale.ROOT, "%.2fx", r.ratio())));
        }
        return sb.toString();
    }
}
