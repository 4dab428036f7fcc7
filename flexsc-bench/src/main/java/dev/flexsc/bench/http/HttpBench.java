package dev.flexsc.bench.http;

import dev.flexsc.bench.ExternalTool;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Drives the HTTP servers with a load generator ({@link LoadClient}: this project's
 * closed-loop client or wrk) on loopback, each server in a JVM of its own ({@link ServerProcess})
 * pinned as {@link Pinning} says: bounded duration, one run per server and connection count.
 * Each row: requests per second, p50 and p99 latency (the client's), and over the same
 * window, from the server JVM's getrusage, its CPU time and its context switches per request
 * (divided by the requests the server answered in the window), and the busy share of each CPU
 * from /proc/stat (over the client's recorded window where it measures that itself:
 * {@link LoadClient.Load#cpuBusy()}). With a trace, a second window of the same length under
 * {@code perf trace} gives the system calls per request by name.
 */
public final class HttpBench {
    private HttpBench() {}

    /** A server under test: started on a document root, stopped by close(). */
    public interface Server extends AutoCloseable {
        int port() throws IOException;

        /** Requests answered so far (every response, 404s included). */
        long requests();

        @Override
        void close() throws Exception;
    }

    /**
     * One server of the study: its label, the {@link HttpServers} spec its JVM starts, and
     * the extra JVM arguments that JVM gets on top of the pinning's ({@link Pinning#serverJvmArgs()}).
     */
    public record Kind(String label, String spec, List<String> jvmArgs) {
        public Kind {
            jvmArgs = List.copyOf(jvmArgs);
        }

        /**
         * The same server with {@code more} JVM arguments, labelled {@code label + ", " + suffix}:
         * how a mode that is only JVM flags (FlexSC's providers, say) becomes one more row.
         */
        public Kind with(String suffix, List<String> more) {
            List<String> args = new ArrayList<>(jvmArgs);
            args.addAll(more);
            return new Kind(label + ", " + suffix, spec, args);
        }
    }

    /**
     * How the study measures: where it pins, the warm-up per server, at most how many more
     * seconds of load the server gets after it until its JIT settled ({@link #settle}; 0: none),
     * whether it traces system calls, which client makes the load, and at what rate the
     * measured cells are paced ({@code ratePerSec} requests per second in all; 0: a closed loop;
     * flexsc-load only).
     */
    public record Options(Pinning pinning, int warmupSeconds, int settleSeconds, boolean trace, LoadClient client,
                          double ratePerSec) {
        public Options {
            if (ratePerSec < 0) throw new IllegalArgumentException("a negative rate: " + ratePerSec);
            client.checkRate(ratePerSec);
        }

        /** Closed-loop cells. */
        public Options(Pinning pinning, int warmupSeconds, int settleSeconds, boolean trace, LoadClient client) {
            this(pinning, warmupSeconds, settleSeconds, trace, client, 0);
        }

        public static Options defaults() {
            return new Options(Pinning.defaults(), 2, DEFAULT_SETTLE_SECONDS, false, DEFAULT_CLIENT);
        }
    }

    /**
     * The study's client: this project's, since wrk's latency percentiles include samples it
     * made up ({@link LoadClient#WRK}).
     */
    public static final LoadClient DEFAULT_CLIENT = LoadClient.FLEXSC_LOAD;

    /**
     * The default bound on the warm-up's rounds after the fixed warm-up. A server with FlexSC's
     * providers on has more code to compile than on the JDK's (FFM downcalls, the providers'
     * paths): with a 2 s warm-up alone, its compiler threads took half the server's CPU samples
     * in the measured window that followed (docs/io.md, "Where Jetty's time goes").
     */
    public static final int DEFAULT_SETTLE_SECONDS = 20;

    /** A one-second round in which the JIT compiled for at most this share of it is settled. */
    static final double SETTLED_JIT_SHARE = 0.05;

    /** True if {@code jitMillis} of compiling in a round of {@code roundMillis} means the JIT settled. */
    static boolean jitSettled(long jitMillis, long roundMillis) {
        return jitMillis <= SETTLED_JIT_SHARE * roundMillis;
    }

    /**
     * Loads the server in rounds of one second, at most {@code options.settleSeconds()}, until
     * a round in which its JIT compilers spent at most {@link #SETTLED_JIT_SHARE} of the round,
     * so that a cell measures the server rather than its compilation. Returns the progress line
     * that says how it ended.
     */
    private static String settle(Kind k, ServerProcess s, int connections, String file, long bytes, Options options)
            throws IOException {
        long jit = s.sample().jitMillis();
        if (jit < 0) return "http: " + k.label() + ": its JVM does not report JIT time; no settling rounds";
        long last = 0, lastRound = 0;
        for (int round = 1; round <= options.settleSeconds(); round++) {
            long t0 = System.nanoTime();
            options.client().run(s.port(), connections, 1, file, bytes, options.pinning(), LoadClient.UNRECORDED);
            long now = s.sample().jitMillis();
            last = now - jit;
            lastRound = (System.nanoTime() - t0) / 1_000_000;
            jit = now;
            if (jitSettled(last, lastRound)) {
                return String.format(Locale.ROOT, "http: %s: JIT settled after %d s more warm-up (%d ms compiling in the last %d ms)",
                        k.label(), round, last, lastRound);
            }
        }
        return String.format(Locale.ROOT, "http: %s: JIT still compiling after %d s more warm-up (%d ms in the last %d ms):"
                + " its cells include compilation", k.label(), options.settleSeconds(), last, lastRound);
    }

    /**
     * System calls per request of one traced window.
     *
     * @param requests requests the server answered in the traced window
     * @param calls calls by name, most frequent first
     */
    public record Trace(long requests, Map<String, Long> calls) {
        public double perRequest(String name) {
            return (double) calls.getOrDefault(name, 0L) / requests;
        }

        public double totalPerRequest() {
            return (double) calls.values().stream().mapToLong(Long::longValue).sum() / requests;
        }
    }

    /**
     * One cell.
     *
     * @param requests requests the server answered inside the window (CPU and switches are per one of these)
     * @param cpuBusy each CPU's busy share over the window (index = CPU number)
     * @param trace the traced window's calls, or null
     */
    public record Row(String server, int connections, double requestsPerSec, double p50Ms, double p99Ms,
                      double cpuUsPerRequest, double switchesPerRequest, long requests, double[] cpuBusy, long errors,
                      Trace trace) {}

    /** Null if the default client and (when pinning) taskset can run here, else why not. */
    public static String unavailabilityCause() {
        return unavailabilityCause(Pinning.NONE, DEFAULT_CLIENT);
    }

    /** Null if {@code client} and the pinning's taskset can run here, else why not. */
    public static String unavailabilityCause(Pinning pinning, LoadClient client) {
        String why = client.unavailabilityCause();
        if (why != null) return why;
        if (pinning.pinned()) {
            String cpus = Pinning.list(pinning.serverCpus()) + "," + Pinning.list(pinning.clientCpus());
            if (ExternalTool.status("taskset", "-c", cpus, "true") != 0) {
                return "taskset -c " + cpus + " does not run here (util-linux missing, or a CPU outside this process's set)";
            }
        }
        return null;
    }

    /** Runs the client against every kind at every connection count; {@code file} (under {@code root}) is the path requested. */
    public static List<Row> run(List<Kind> kinds, int[] connections, int seconds, String file, Path root, Options options,
                                java.util.function.Consumer<String> progress) throws Exception {
        List<Row> rows = new ArrayList<>();
        int max = Arrays.stream(connections).max().orElse(1);
        long bytes = java.nio.file.Files.size(root.resolve(file));
        for (Kind k : kinds) {
            try (ServerProcess s = ServerProcess.start(k, root, max, options.pinning())) {
                progress.accept(String.format(Locale.ROOT, "http: %s: server JVM %d (%s)", k.label(), s.pid(), s.where()));
                if (options.warmupSeconds() > 0) {
                    options.client().run(s.port(), Math.min(100, max), options.warmupSeconds(), file, bytes,
                            options.pinning(), LoadClient.UNRECORDED);
                }
                if (options.settleSeconds() > 0) progress.accept(settle(k, s, Math.min(100, max), file, bytes, options));
                for (int c : connections) {
                    progress.accept(String.format(Locale.ROOT, "http: %s, %d connections, %d s", k.label(), c, seconds));
                    rows.add(cell(k.label(), s, c, seconds, file, bytes, options));
                }
            }
        }
        return rows;
    }

    private static Row cell(String label, ServerProcess s, int connections, int seconds, String file, long bytes,
                            Options options) throws Exception {
        ServerProcess.Sample s0 = s.sample();
        CpuTimes t0 = CpuTimes.read();
        LoadClient.Load load = options.client().run(s.port(), connections, seconds, file, bytes, options.pinning(), options.ratePerSec());
        CpuTimes t1 = CpuTimes.read();
        ServerProcess.Sample s1 = s.sample();
        long requests = s1.requests() - s0.requests();
        ProcessUsage used = s1.usage().minus(s0.usage());
        Trace trace = null;
        if (options.trace()) {
            try (SyscallTrace tr = SyscallTrace.attach(s.pid())) {
                long r0 = s.sample().requests();
                options.client().run(s.port(), connections, seconds, file, bytes, options.pinning(), options.ratePerSec());
                long r1 = s.sample().requests();
                trace = new Trace(r1 - r0, tr.stop());
            }
        }
        return new Row(label, connections, load.requestsPerSec(), load.p50Ms(), load.p99Ms(), requests == 0 ? Double.NaN : used.cpuNanos() / 1e3 / requests,
                requests == 0 ? Double.NaN : (double) used.switches() / requests, requests,
                load.cpuBusy() != null ? load.cpuBusy() : t0.busyShareUntil(t1),
                load.errors(), trace);
    }

    /**
     * The rows as a fixed-width table: requests/s, latency, the server's CPU and context
     * switches per request, and each CPU's busy percentage over the window ("cpu0/cpu1").
     */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(48, rows.stream().mapToInt(r -> r.server().length()).max().orElse(0));
        int cpus = rows.stream().mapToInt(r -> r.cpuBusy().length).max().orElse(0);
        String busyHead = "busy % " + java.util.stream.IntStream.range(0, cpus).mapToObj(c -> "cpu" + c)
                .collect(Collectors.joining("/"));
        String fmt = "%-" + w + "s %6s %12s %9s %9s %14s %12s %" + Math.max(busyHead.length(), 9) + "s %7s%n";
        sb.append(String.format(Locale.ROOT, fmt, "server", "conns", "requests/s", "p50 ms", "p99 ms", "CPU us/request",
                "switches/req", busyHead, "errors"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.server(), r.connections(), String.format(Locale.ROOT, "%,.0f", r.requestsPerSec()),
                    String.format(Locale.ROOT, "%.2f", r.p50Ms()), String.format(Locale.ROOT, "%.2f", r.p99Ms()),
                    String.format(Locale.ROOT, "%.1f", r.cpuUsPerRequest()), String.format(Locale.ROOT, "%.2f", r.switchesPerRequest()),
                    Arrays.stream(r.cpuBusy()).mapToObj(b -> Double.isNaN(b) ? "-" : String.format(Locale.ROOT, "%.0f", 100 * b))
                            .collect(Collectors.joining("/")), r.errors()));
        }
        return sb.toString();
    }

    /** How many calls of each name the trace table shows, most frequent first. */
    static final int TRACE_TOP = 8;

    /**
     * The traced rows: system calls per request in all, futex calls per request (the
     * cross-thread wake-ups and sleeps a steady state should not need), and the most
     * frequent calls per request by name.
     */
    public static String traceTable(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(48, rows.stream().mapToInt(r -> r.server().length()).max().orElse(0));
        String fmt = "%-" + w + "s %6s %10s %10s %10s  %s%n";
        sb.append(String.format(Locale.ROOT, fmt, "server (traced window)", "conns", "requests", "calls/req", "futex/req",
                "calls per request by name"));
        for (Row r : rows) {
            Trace t = r.trace();
            if (t == null) continue;
            if (t.requests() == 0) {
                sb.append(String.format(Locale.ROOT, fmt, r.server(), r.connections(), 0, "-", "-", "no request in the traced window"));
                continue;
            }
            String top = t.calls().keySet().stream().limit(TRACE_TOP)
                    .map(n -> String.format(Locale.ROOT, "%s %.2f", n, t.perRequest(n))).collect(Collectors.joining(", "));
            sb.append(String.format(Locale.ROOT, fmt, r.server(), r.connections(), t.requests(),
                    String.format(Locale.ROOT, "%.2f", t.totalPerRequest()), String.format(Locale.ROOT, "%.2f", t.perRequest("futex")), top));
        }
        return sb.toString();
    }
}
