package dev.flexsc.bench.http;

import org.HdrHistogram.AtomicHistogram;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The HTTP study's own load generator ({@code --client flexsc-load}): a closed loop of
 * HTTP/1.1 keep-alive GETs, one platform thread and one blocking socket per connection, each
 * sending its next request when the last response has been read whole. Every request's latency
 * is the CLOCK_MONOTONIC time ({@link System#nanoTime()}) from just before its first byte is
 * written to just after its last response byte is read; connect time is outside it. Every
 * response's status and body length are checked ({@link ResponseReader}); a wrong one is an
 * error, not a sample.
 *
 * <p>Why blocking threads and not one epoll loop as wrk: a request's clock then stops in the
 * thread that the response wakes, not after whatever other connections' events an event loop
 * handles first; at 1 and 10 connections the client's share of a latency is one wake-up. The
 * cost is a context switch per response on the client CPU, which the study's busy column shows
 * (docs/benchmarks.md has the measurement that this client is not the bottleneck at 1-100
 * connections).
 *
 * <p>The run: connect every connection, then {@code warmup} of load that is not recorded (this
 * JVM's JIT compiles the loop), then {@code duration} recorded: a request that starts in the
 * window is recorded when it completes. A request still unanswered {@code timeout} after the
 * window ends has its connection closed and is counted as an error. Since each connection's
 * requests follow one another, the recorded latencies of a connection add up to at most the
 * time from the window's start to its last completion: {@link Result#consistent()} checks that
 * for the run, and {@link #main} fails a run that breaks it.
 *
 * <p>Paced ({@code --rate R}): each connection still has at most one request in flight, but
 * sends on a schedule of R requests per second in all, spread evenly over the connections, and
 * a request's latency counts from its scheduled send, not from when the connection was free to
 * send it (wrk2's correction for coordinated omission, here on real schedules, not the synthetic
 * samples wrk adds). Two servers are then compared at the same offered load; a server that
 * stalls is charged for every request the stall held back. The client's own lateness (a send
 * woken late on a busy client CPU) is charged too, so pace well below what the client CPU can
 * do.
 */
public final class ClosedLoopClient {
    private ClosedLoopClient() {}

    /** Latencies above this are clamped to it (a request is bounded by duration + timeout anyway). */
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(3600);

    /**
     * How the run is made. {@code expectedBodyBytes} < 0: any length is accepted.
     * {@code ratePerSec} > 0 paces the connections to that many requests per second in all
     * (see {@link ClosedLoopClient}); 0 is the closed loop.
     */
    public record Config(InetSocketAddress server, String path, int connections, Duration warmup, Duration duration,
                         Duration timeout, long expectedBodyBytes, double ratePerSec) {
        public Config {
            if (connections < 1) throw new IllegalArgumentException("connections must be >= 1, was " + connections);
            if (!(ratePerSec >= 0) || Double.isInfinite(ratePerSec)) throw new IllegalArgumentException("a rate of " + ratePerSec);
            if (duration.isNegative() || duration.isZero()) throw new IllegalArgumentException("a run of " + duration);
            if (warmup.isNegative() || timeout.isNegative()) throw new IllegalArgumentException("a negative warm-up or timeout");
            if (!path.startsWith("/")) throw new IllegalArgumentException("a request path must start with '/': " + path);
        }

        /** The closed loop: every connection sends its next request as soon as the last one is answered. */
        public Config(InetSocketAddress server, String path, int connections, Duration warmup, Duration duration,
                      Duration timeout, long expectedBodyBytes) {
            this(server, path, connections, warmup, duration, timeout, expectedBodyBytes, 0);
        }

        /** Nanoseconds between one connection's scheduled sends when paced, else 0. */
        long periodNanos() {
            return ratePerSec == 0 ? 0 : Math.max(1, Math.round(1e9 * connections / ratePerSec));
        }
    }

    /**
     * A run's figures.
     *
     * @param requests good responses recorded in the window
     * @param errors bad statuses or lengths, broken connections and timeouts, warm-up included
     * @param firstError what the first error was, or null
     * @param elapsedNanos from the window's start to the last recorded completion
     * @param latencySumNanos the exact sum of the recorded latencies (not the histogram's estimate)
     * @param latencyNanos every recorded latency
     * @param cpuNanos this process's CPU time over the window (threads, JIT and GC together)
     * @param cpuBusy each CPU's busy share over the window ({@link CpuTimes}; index = CPU number)
     * @param paced whether the run was paced (latency from each request's scheduled send)
     */
    public record Result(int connections, long requests, long errors, String firstError, long elapsedNanos,
                         long latencySumNanos, Histogram latencyNanos, long cpuNanos, double[] cpuBusy, boolean paced) {
        public double requestsPerSec() {
            return elapsedNanos == 0 ? 0 : requests * 1e9 / elapsedNanos;
        }

        /** The latency at {@code percentile} (0-100) in ms, NaN without requests. */
        public double percentileMs(double percentile) {
            return requests == 0 ? Double.NaN : latencyNanos.getValueAtPercentile(percentile) / 1e6;
        }

        public double meanMs() {
            return requests == 0 ? Double.NaN : latencySumNanos / 1e6 / requests;
        }

        /**
         * True if requests x mean latency <= connections x run time: what a closed loop
         * guarantees, and what wrk's figures break (docs/benchmarks.md, "wrk's latency").
         * Always true for a paced run, whose latencies count from the scheduled sends and so
         * overlap when the server falls behind.
         */
        public boolean consistent() {
            return paced || latencySumNanos <= elapsedNanos * connections;
        }

        /**
         * The latencies as wrk 4.1 reports them: with, for each, synthetic samples at the mean
         * interval between a connection's requests below it (a correction for coordinated
         * omission, which wrk applies to every run), so that the figures can be set side by side.
         */
        public Histogram asWrkReports() {
            long perConnection = requests / connections;
            return perConnection == 0 ? latencyNanos.copy()
                    : latencyNanos.copyCorrectedForCoordinatedOmission(elapsedNanos / perConnection);
        }

        public double cpuMicrosPerRequest() {
            return requests == 0 ? Double.NaN : cpuNanos / 1e3 / requests;
        }
    }

    /**
     * Makes the run {@code config} describes and returns its figures.
     *
     * @throws IOException if a connection cannot be made at the start, or a connection thread
     *         does not stop after its socket was closed
     */
    public static Result run(Config config) throws IOException, InterruptedException {
        byte[] request = ("GET " + config.path() + " HTTP/1.1\r\nHost: " + config.server().getHostString() + ":"
                + config.server().getPort() + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        AtomicHistogram histogram = new AtomicHistogram(HIGHEST_NANOS, 3);
        List<Connection> conns = new ArrayList<>();
        try {
            for (int i = 0; i < config.connections(); i++) conns.add(new Connection(config, request, histogram));
        } catch (IOException e) {
            for (Connection c : conns) c.close();
            throw new IOException("connect to " + config.server() + " (connection " + (conns.size() + 1) + " of "
                    + config.connections() + "): " + e.getMessage(), e);
        }
        CountDownLatch go = new CountDownLatch(1);
        long start = System.nanoTime();
        long windowStart = start + config.warmup().toNanos();
        long windowEnd = windowStart + config.duration().toNanos();
        List<Thread> threads = new ArrayList<>();
        long period = config.periodNanos();
        for (Connection c : conns) {
            // The window's bounds are plain fields written before go.countDown() and read after
            // go.await() in the thread: the latch orders the stores before the loads.
            c.windowStart = windowStart;
            c.windowEnd = windowEnd;
            // paced: the connections' schedules are spread evenly over one period
            c.nextSend = start + period * threads.size() / config.connections();
            threads.add(Thread.ofPlatform().name("flexsc-load-" + threads.size()).stackSize(256 << 10)
                    .start(() -> c.loop(go)));
        }
        go.countDown();
        sleepUntil(windowStart);
        long cpu0 = processCpuNanos();
        CpuTimes busy0 = CpuTimes.read();
        long joinBy = windowEnd + config.timeout().toNanos();
        for (int i = 0; i < threads.size(); i++) {
            Thread t = threads.get(i);
            long left = joinBy - System.nanoTime();
            if (left > 0) t.join(Duration.ofNanos(left));
            if (t.isAlive()) conns.get(i).timeOut();
        }
        for (int i = 0; i < threads.size(); i++) {
            if (!threads.get(i).join(Duration.ofSeconds(30))) {
                throw new IOException(threads.get(i).getName() + " did not stop 30 s after its socket was closed");
            }
        }
        long cpu1 = processCpuNanos();
        double[] busy = busy0.busyShareUntil(CpuTimes.read());
        // Thread.join orders every store of a connection thread before these loads.
        long requests = 0, errors = 0, sum = 0, lastEnd = windowStart;
        String firstError = null;
        for (Connection c : conns) {
            requests += c.recorded;
            errors += c.errors;
            sum += c.latencySum;
            lastEnd = Math.max(lastEnd, c.lastEnd);
            if (firstError == null) firstError = c.firstError;
            c.close();
        }
        return new Result(config.connections(), requests, errors, firstError, lastEnd - windowStart, sum,
                histogram.copy(), cpu1 - cpu0, busy, config.ratePerSec() > 0);
    }

    private static void sleepUntil(long deadline) {
        for (long left; (left = deadline - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** One connection and the thread's loop over it; every field but {@link #channel} and {@link #timedOut} is the thread's own until join. */
    private static final class Connection {
        private final Config config;
        private final ByteBuffer request;
        private final AtomicHistogram histogram;
        private final ResponseReader reader = new ResponseReader();
        /** Volatile: the thread replaces it on reconnect, {@link #timeOut} closes it from the main thread. */
        private volatile SocketChannel channel;
        /** Volatile: set by {@link #timeOut} before it closes the channel, read by the thread when its I/O fails. */
        private volatile boolean timedOut;
        long windowStart, windowEnd, nextSend;
        long recorded, errors, latencySum, lastEnd;
        String firstError;

        Connection(Config config, byte[] request, AtomicHistogram histogram) throws IOException {
            this.config = config;
            this.request = ByteBuffer.allocateDirect(request.length).put(request).flip();
            this.histogram = histogram;
            this.channel = open(config.server());
        }

        private static SocketChannel open(InetSocketAddress server) throws IOException {
            SocketChannel ch = SocketChannel.open(server);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true); // as wrk: each request leaves at once
            return ch;
        }

        void loop(CountDownLatch go) {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            lastEnd = windowStart;
            long period = config.periodNanos();
            while (true) {
                long t0;
                if (period > 0) {
                    // Paced: the latency counts from the scheduled send, so a server that falls
                    // behind is charged for the requests its stall held back (wrk2's model).
                    t0 = nextSend;
                    if (t0 - windowEnd >= 0) break;
                    sleepUntil(t0);
                    nextSend += period;
                } else if ((t0 = System.nanoTime()) - windowEnd >= 0) {
                    break;
                }
                SocketChannel ch = channel;
                try {
                    request.rewind();
                    while (request.hasRemaining()) ch.write(request);
                    int status = reader.read(ch);
                    long t1 = System.nanoTime();
                    if (status != 200) {
                        error("status " + status);
                    } else if (config.expectedBodyBytes() >= 0 && reader.bodyBytes() != config.expectedBodyBytes()) {
                        error("a body of " + reader.bodyBytes() + " bytes, expected " + config.expectedBodyBytes());
                    } else if (t0 - windowStart >= 0) {
                        histogram.recordValue(Math.min(t1 - t0, HIGHEST_NANOS));
                        latencySum += t1 - t0;
                        recorded++;
                        lastEnd = t1;
                    }
                    if (!reader.keepAlive()) {
                        error("the server closed a kept-alive connection (Connection: close)");
                        reconnect();
                    }
                } catch (IOException e) {
                    if (timedOut) {
                        error("no response within " + config.timeout().toMillis() + " ms after the run's end");
                        return;
                    }
                    error(e.getClass().getSimpleName() + ": " + e.getMessage());
                    try {
                        reconnect();
                    } catch (IOException again) {
                        error("reconnect: " + again.getMessage());
                        return;
                    }
                }
            }
        }

        private void error(String what) {
            errors++;
            if (firstError == null) firstError = what;
        }

        private void reconnect() throws IOException {
            closeQuietly(channel);
            if (timedOut) throw new IOException("timed out");
            channel = open(config.server());
            // Pairs with timeOut(): this volatile store of the channel, then the load of timedOut;
            // there the store of timedOut, then the load of the channel. Volatile accesses are
            // sequentially consistent, so one side sees the other's store: timeOut closes the new
            // channel, or this thread does, and no read can block on a channel nobody closes.
            if (timedOut) {
                closeQuietly(channel);
                throw new IOException("timed out");
            }
        }

        void timeOut() {
            timedOut = true; // volatile store before the load of the channel: see reconnect()
            closeQuietly(channel);
        }

        void close() {
            closeQuietly(channel);
        }

        private static void closeQuietly(SocketChannel ch) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing a socket we are done with: nothing to do about a failure
            }
        }
    }

    /**
     * The line {@link LoadClient} reads: "flexsc-load result REQUESTS ERRORS ELAPSED_NS P50_NS P99_NS BUSY",
     * BUSY each CPU's busy share over the window, comma-separated, "-" for a CPU that did not tick.
     */
    static final String RESULT = "flexsc-load result";

    private static final String USAGE = "ClosedLoopClient --connections N --seconds S [--warmup S] [--timeout S]"
            + " [--expect-bytes N] [--rate REQUESTS_PER_S] http://HOST:PORT/PATH";

    /**
     * {@code java -cp ... dev.flexsc.bench.http.ClosedLoopClient --connections N --seconds S URL}:
     * one run, printed for people and as one {@value #RESULT} line. Exit status 0; 2 if the
     * run broke {@link Result#consistent()} (a bug in this client: its figures are not to be
     * used); 1 for bad arguments or a server it cannot connect to.
     */
    public static void main(String[] args) throws Exception {
        Config config;
        try {
            config = parse(args);
        } catch (RuntimeException e) {
            System.err.println("flexsc-load: " + e.getMessage() + "; usage: " + USAGE);
            System.exit(1);
            return;
        }
        Result r;
        try {
            r = run(config);
        } catch (IOException e) {
            System.err.println("flexsc-load: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println(describe(config.server() + config.path(), r));
        System.out.printf(Locale.ROOT, "%s %d %d %d %d %d %s%n", RESULT, r.requests(), r.errors(), r.elapsedNanos(),
                r.requests() == 0 ? 0 : r.latencyNanos().getValueAtPercentile(50),
                r.requests() == 0 ? 0 : r.latencyNanos().getValueAtPercentile(99),
                java.util.Arrays.stream(r.cpuBusy()).mapToObj(b -> Double.isNaN(b) ? "-" : String.format(Locale.ROOT, "%.4f", b))
                        .collect(java.util.stream.Collectors.joining(",")));
        if (!r.consistent()) {
            System.err.printf(Locale.ROOT, "flexsc-load: inconsistent: %d requests x %.3f ms mean > %d connections x %.3f s%n",
                    r.requests(), r.meanMs(), r.connections(), r.elapsedNanos() / 1e9);
            System.exit(2);
        }
    }

    static Config parse(String[] args) {
        int connections = 1;
        double seconds = 5, warmup = 1, timeout = 5;
        long expect = -1;
        double rate = 0;
        String url = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--connections" -> connections = Integer.parseInt(value(args, ++i));
                case "--seconds" -> seconds = Double.parseDouble(value(args, ++i));
                case "--warmup" -> warmup = Double.parseDouble(value(args, ++i));
                case "--timeout" -> timeout = Double.parseDouble(value(args, ++i));
                case "--expect-bytes" -> expect = Long.parseLong(value(args, ++i));
                case "--rate" -> rate = Double.parseDouble(value(args, ++i));
                default -> {
                    if (args[i].startsWith("--") || url != null) throw new IllegalArgumentException("unknown argument " + args[i]);
                    url = args[i];
                }
            }
        }
        if (url == null) throw new IllegalArgumentException("no URL");
        URI u = URI.create(url);
        if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0) {
            throw new IllegalArgumentException("an http://HOST:PORT/PATH URL, was " + url);
        }
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        return new Config(new InetSocketAddress(u.getHost(), u.getPort()), path, connections, seconds(warmup),
                seconds(seconds), seconds(timeout), expect, rate);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
        return args[i];
    }

    private static Duration seconds(double s) {
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    /**
     * The run for people: the figures, and for a closed loop the consistency check and what wrk
     * would have printed for the same samples.
     */
    static String describe(String target, Result r) {
        Histogram h = r.latencyNanos();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "flexsc-load: %d requests in %.3f s (%.0f/s) over %d connections to %s, %d errors%s%n",
                r.requests(), r.elapsedNanos() / 1e9, r.requestsPerSec(), r.connections(), target, r.errors(),
                r.firstError() == null ? "" : " (first: " + r.firstError() + ")"));
        if (r.requests() == 0) return sb.append("  no request completed in the window").toString();
        sb.append(String.format(Locale.ROOT, "  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f%n",
                r.percentileMs(50), r.percentileMs(90), r.percentileMs(99), r.percentileMs(99.9), h.getMaxValue() / 1e6, r.meanMs()));
        sb.append(String.format(Locale.ROOT, "  client CPU: %.1f us/request; busy %%: %s", r.cpuMicrosPerRequest(),
                java.util.stream.IntStream.range(0, r.cpuBusy().length).mapToObj(cpu -> "cpu" + cpu + " "
                        + (Double.isNaN(r.cpuBusy()[cpu]) ? "-" : String.format(Locale.ROOT, "%.0f", 100 * r.cpuBusy()[cpu])))
                        .collect(java.util.stream.Collectors.joining(", "))));
        if (r.paced()) return sb.append("\n  paced: latencies count from each request's scheduled send").toString();
        Histogram w = r.asWrkReports();
        sb.append(String.format(Locale.ROOT, "%n  check: %d requests x %.3f ms mean = %.3f s %s %d connections x %.3f s run%n",
                r.requests(), r.meanMs(), r.latencySumNanos() / 1e9, r.consistent() ? "<=" : "> (INCONSISTENT)",
                r.connections(), r.elapsedNanos() / 1e9));
        sb.append(String.format(Locale.ROOT, "  as wrk 4.1 would print these samples (%d synthetic added): p50 %.3f  p99 %.3f  mean %.3f ms",
                w.getTotalCount() - h.getTotalCount(), w.getValueAtPercentile(50) / 1e6, w.getValueAtPercentile(99) / 1e6,
                w.getMean() / 1e6));
        return sb.toString();
    }
}
