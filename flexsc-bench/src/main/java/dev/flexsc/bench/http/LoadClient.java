package dev.flexsc.bench.http;

import dev.flexsc.bench.ExternalTool;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load generators the HTTP study can drive a server with ({@code --client}), each run
 * pinned to the client CPUs ({@link Pinning#clientPrefix()}) for a bounded time, with one
 * result: requests per second, p50 and p99 latency, errors.
 * <ul>
 * <li>{@link #FLEXSC_LOAD}, the default: {@link ClosedLoopClient} in a JVM of its own; every
 * figure is of the requests it recorded.
 * <li>{@link #WRK}: wrk 4.1 (Debian's package). Its latency percentiles are not those of the
 * requests it made: before printing, it adds synthetic samples to its histogram for every
 * latency above twice the mean interval between a connection's requests (its correction for
 * coordinated omission, applied to every run, closed loop or not), so at 1 and 10 connections
 * one stall of the server becomes hundreds of samples and p99 is mostly made up
 * (docs/benchmarks.md, "wrk's latency"). Its requests per second are sound.
 * </ul>
 */
public enum LoadClient {
    WRK("wrk"),
    FLEXSC_LOAD("flexsc-load");

    /**
     * One run's figures; {@code p50Ms}, {@code p99Ms} NaN if no request completed. {@code cpuBusy}:
     * each CPU's busy share over the recorded window where the client measured it (flexsc-load,
     * whose run also holds its JVM's start and warm-up), else null.
     */
    public record Load(double requestsPerSec, double p50Ms, double p99Ms, long errors, double[] cpuBusy) {}

    /** Seconds of unrecorded load at the start of every flexsc-load run of a cell, for its JVM's JIT. */
    static final int CLIENT_WARMUP_SECONDS = 1;

    /** {@link #run}'s rate for load that only warms the server up: no client warm-up, a closed loop. */
    static final double UNRECORDED = -1;

    /** How long a request may go unanswered before it counts as an error (wrk's --timeout, flexsc-load's). */
    static final int TIMEOUT_SECONDS = 5;

    private final String label;

    LoadClient(String label) {
        this.label = label;
    }

    /** The name {@code --client} takes and the study prints. */
    public String label() {
        return label;
    }

    /** The client {@code --client NAME} names. */
    public static LoadClient named(String name) {
        for (LoadClient c : values()) if (c.label.equals(name.trim().toLowerCase(Locale.ROOT))) return c;
        throw new IllegalArgumentException("--client: unknown client " + name + " (wrk, flexsc-load)");
    }

    /**
     * Refuses a paced rate ({@code rate} > 0) to a client that runs only a closed loop (wrk).
     *
     * @throws IllegalArgumentException naming the client
     */
    public void checkRate(double rate) {
        if (rate > 0 && this != FLEXSC_LOAD) {
            throw new IllegalArgumentException("a paced rate needs --client flexsc-load (" + label + " runs a closed loop)");
        }
    }

    /** Null if this client can run here, else why not. */
    public String unavailabilityCause() {
        if (this == WRK && ExternalTool.status("wrk", "--version") == Integer.MIN_VALUE) {
            return "wrk is not installed (apt-get install wrk)";
        }
        return null;
    }

    /**
     * Loads the server on {@code port} with {@code connections} for {@code seconds}, asking for
     * {@code /file}; a response whose body is not {@code expectedBytes} long is an error.
     * {@code rate}: for a measured cell 0 (a closed loop) or the requests per second in all to
     * pace at (flexsc-load only), and flexsc-load first warms its own JIT for
     * {@value #CLIENT_WARMUP_SECONDS} s; {@link #UNRECORDED} for the server's warm-up rounds.
     *
     * @throws IOException if the client fails or its output cannot be read
     */
    public Load run(int port, int connections, int seconds, String file, long expectedBytes, Pinning pinning,
                    double rate) throws IOException {
        List<String> cmd = command(port, connections, seconds, file, expectedBytes, pinning, rate);
        String out = ExternalTool.output(cmd, seconds + CLIENT_WARMUP_SECONDS + TIMEOUT_SECONDS + 60L);
        return this == WRK ? parseWrk(out) : parseFlexscLoad(out);
    }

    /** The command line of one run. */
    List<String> command(int port, int connections, int seconds, String file, long expectedBytes, Pinning pinning,
                         double rate) {
        List<String> cmd = new ArrayList<>(pinning.clientPrefix());
        String url = "http://127.0.0.1:" + port + "/" + file;
        checkRate(rate);
        if (this == WRK) {
            cmd.addAll(List.of("wrk", "-t" + pinning.wrkThreads(connections), "-c" + connections, "-d" + seconds + "s",
                    "--latency", "--timeout", TIMEOUT_SECONDS + "s", url));
            return cmd;
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The serial collector: no GC threads competing with the connection threads on the client CPU.
        cmd.addAll(List.of("-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), ClosedLoopClient.class.getName(),
                "--connections", Integer.toString(connections), "--seconds", Integer.toString(seconds),
                "--warmup", Integer.toString(rate == UNRECORDED ? 0 : CLIENT_WARMUP_SECONDS), "--timeout", Integer.toString(TIMEOUT_SECONDS),
                "--expect-bytes", Long.toString(expectedBytes)));
        if (rate > 0) cmd.addAll(List.of("--rate", Double.toString(rate)));
        cmd.add(url);
        return cmd;
    }

    static Load parseFlexscLoad(String out) throws IOException {
        Matcher m = Pattern.compile(Pattern.quote(ClosedLoopClient.RESULT) + " (\\d+) (\\d+) (\\d+) (\\d+) (\\d+) (\\S+)").matcher(out);
        if (!m.find()) throw new IOException("no '" + ClosedLoopClient.RESULT + "' line in flexsc-load's output: " + out);
        long requests = Long.parseLong(m.group(1)), elapsed = Long.parseLong(m.group(3));
        return new Load(elapsed == 0 ? 0 : requests * 1e9 / elapsed,
                requests == 0 ? Double.NaN : Long.parseLong(m.group(4)) / 1e6,
                requests == 0 ? Double.NaN : Long.parseLong(m.group(5)) / 1e6, Long.parseLong(m.group(2)),
                java.util.Arrays.stream(m.group(6).split(",")).mapToDouble(b -> b.equals("-") ? Double.NaN : Double.parseDouble(b))
                        .toArray());
    }

    static Load parseWrk(String out) throws IOException {
        return new Load(number(out, "Requests/sec:\\s+([0-9.]+)"), wrkLatencyMs(out, "50%"), wrkLatencyMs(out, "99%"),
                wrkErrors(out), null);
    }

    private static long wrkErrors(String out) {
        long errors = 0;
        Matcher m = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
        if (m.find()) for (int i = 1; i <= 4; i++) errors += Long.parseLong(m.group(i));
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
        if (non2xx.find()) errors += Long.parseLong(non2xx.group(1));
        return errors;
    }

    private static double number(String out, String regex) throws IOException {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) throw new IOException("cannot read wrk's output (" + regex + "): " + out);
        return Double.parseDouble(m.group(1));
    }

    static double wrkLatencyMs(String out, String pct) throws IOException {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(pct) + "\\s+([0-9.]+)(us|ms|s)").matcher(out);
        if (!m.find()) throw new IOException("no " + pct + " latency in wrk's output: " + out);
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "ms" -> v;
            default -> v * 1000;
        };
    }
}
