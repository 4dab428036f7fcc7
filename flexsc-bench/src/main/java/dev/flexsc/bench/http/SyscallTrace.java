package dev.flexsc.bench.http;

import dev.flexsc.bench.ExternalTool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * System calls of a running process over a window, by name, from {@code perf trace -s -p PID}
 * (which counts every thread's calls through the raw_syscalls tracepoints). Tracing slows
 * the traced process (every call takes a tracepoint), so the HTTP study traces a window of
 * its own after each measured one and reports only counts per request from it.
 */
public final class SyscallTrace implements AutoCloseable {
    /** How long perf may take to attach before the window starts, and to write its summary after SIGINT. */
    static final long ATTACH_MILLIS = 1500, STOP_SECONDS = 30;

    private final Process perf;
    private final Path output;

    private SyscallTrace(Process perf, Path output) {
        this.perf = perf;
        this.output = output;
    }

    /**
     * Null if {@code perf trace} works here, else why not. Mounts tracefs at
     * /sys/kernel/tracing first where it is not mounted (perf trace reads the syscall
     * tracepoints' formats there); a failed mount is left to perf's own error.
     */
    public static String unavailabilityCause() {
        try {
            if (!Files.isDirectory(Path.of("/sys/kernel/tracing/events"))) {
                ExternalTool.run(List.of("mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"), 30);
            }
            String out = ExternalTool.run(List.of("perf", "trace", "-s", "--", "true"), 30).output();
            return out.contains("syscall") && out.contains("calls") ? null
                    : "perf trace gave no summary here: " + out.lines().filter(l -> !l.isBlank()).findFirst().orElse("(no output)");
        } catch (IOException e) {
            return "perf is not installed (apt-get install linux-perf): " + e.getMessage();
        }
    }

    /** Attaches to every thread of {@code pid}; the window runs until {@link #stop()}. */
    public static SyscallTrace attach(long pid) throws IOException {
        Path output = Files.createTempFile("flexsc-perf-trace", ".txt");
        Process perf = new ProcessBuilder("perf", "trace", "-s", "-o", output.toString(), "-p", Long.toString(pid))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Thread.sleep(ATTACH_MILLIS);
        } catch (InterruptedException e) {
            perf.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while perf attached");
        }
        if (!perf.isAlive()) {
            String why = Files.readString(output);
            Files.deleteIfExists(output);
            throw new IOException("perf trace -p " + pid + " exited at once: " + why);
        }
        return new SyscallTrace(perf, output);
    }

    /**
     * Ends the window (SIGINT, on which perf writes its summary) and returns the calls made
     * in it, by name, summed over the threads.
     */
    public Map<String, Long> stop() throws IOException {
        new ProcessBuilder("kill", "-INT", Long.toString(perf.pid())).start();
        try {
            if (!perf.waitFor(STOP_SECONDS, TimeUnit.SECONDS)) {
                perf.destroyForcibly();
                throw new IOException("perf trace did not write its summary within " + STOP_SECONDS + " s of SIGINT");
            }
        } catch (InterruptedException e) {
            perf.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while perf trace wrote its summary");
        }
        return parse(Files.readString(output));
    }

    /** The rows of every per-thread table of a {@code perf trace -s} summary, summed by call name, most frequent first. */
    static Map<String, Long> parse(String summary) {
        Map<String, Long> calls = new TreeMap<>();
        Matcher m = ROW.matcher(summary);
        while (m.find()) calls.merge(m.group(1), Long.parseLong(m.group(2)), Long::sum);
        Map<String, Long> sorted = new LinkedHashMap<>();
        calls.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** "   read   1234   0   12.345   0.001 ...": name, calls, errors, then the times. */
    private static final Pattern ROW = Pattern.compile("(?m)^\\s+([a-z_][a-z0-9_]*)\\s+(\\d+)\\s+(\\d+)\\s+[0-9.]+\\s");

    @Override
    public void close() throws IOException {
        if (perf.isAlive()) perf.destroyForcibly();
        Files.deleteIfExists(output);
    }
}
