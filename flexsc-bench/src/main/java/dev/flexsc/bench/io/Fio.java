package dev.flexsc.bench.io;

import dev.flexsc.bench.ExternalTool;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        int status = ExternalTool.status("fio", "--version");
        return status == 0 ? null : status == Integer.MIN_VALUE ? "fio is not installed (apt-get install fio)"
                : "fio --version failed (status " + status + ")";
    }

    /** Runs fio on {@code file} for {@code seconds}: randread, bs 4k, ioengine io_uring, iodepth {@code depth}. */
    public static Result run(Path file, long size, boolean direct, int depth, int seconds) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=coldread", "--filename=" + file, "--readonly",
                "--rw=randread", "--bs=4k", "--ioengine=io_uring", "--iodepth=" + depth, "--direct=" + (direct ? 1 : 0),
                "--size=" + size, "--norandommap", "--time_based", "--runtime=" + seconds, "--output-format=json"));
        return parse(ExternalTool.output(cmd, seconds + 60L));
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
