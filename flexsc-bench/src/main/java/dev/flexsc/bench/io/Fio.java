package dev.flexsc.bench.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fio's figure for the same reads, run in the same study: one job, random 4 KiB reads of
 * the whole file through io_uring at a queue depth, buffered or O_DIRECT. What the kernel
 * and the disk give a program that keeps that many reads in flight from one thread.
 */
public final class Fio {
    private Fio() {}

    /** One fio run: reads per second, p99 completion latency, CPU per read (fio's usr + sys over its runtime). */
    public record Result(double iops, double p99Ms, double cpuUsPerRead, long reads) {}

    /** Null if fio runs here, else why not. */
    public static String unavailabilityCause() {
        try {
            Process p = new ProcessBuilder("fio", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : "fio --version failed";
        } catch (IOException | InterruptedException e) {
            return "fio is not installed (apt-get install fio)";
        }
    }

    /** Runs fio on {@code file} for {@code seconds}: randread, bs 4k, ioengine io_uring, iodepth {@code depth}. */
    public static Result run(Path file, long size, boolean direct, int depth, int seconds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=coldread", "--filename=" + file, "--readonly",
                "--rw=randread", "--bs=4k", "--ioengine=io_uring", "--iodepth=" + depth, "--direct=" + (direct ? 1 : 0),
                "--size=" + size, "--norandommap", "--time_based", "--runtime=" + seconds, "--output-format=json"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("fio did not finish");
        }
        if (p.exitValue() != 0) throw new IOException("fio failed: " + out);
        return parse(out);
    }

    /** The figures of fio's JSON output (its first job's read section). */
    static Result parse(String json) throws IOException {
        int read = json.indexOf("\"read\" :");
        if (read < 0) throw new IOException("no read section in fio's output: " + json);
        String r = json.substring(read);
        double iops = number(r, "iops"), runtimeMs = number(r, "runtime"), reads = number(r, "total_ios");
        double p99Ns = number(r, "99.000000");
        double cpuShare = (number(json, "usr_cpu") + number(json, "sys_cpu")) / 100;
        return new Result(iops, p99Ns / 1e6, reads == 0 ? Double.NaN : cpuShare * runtimeMs * 1e3 / reads, (long) reads);
    }

    private static double number(String s, String key) throws IOException {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*([0-9.eE+-]+)").matcher(s);
        if (!m.find()) throw new IOException("no " + key + " in fio's output");
        return Double.parseDouble(m.group(1));
    }
}
