package dev.flexsc.bench.http;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drives the HTTP servers with wrk (Debian's package) on loopback: bounded duration, one
 * run per server and connection count; requests per second, p50 and p99 latency, and the
 * server process's CPU per request.
 */
public final class HttpBench {
    private HttpBench() {}

    /** A server under test: started on a document root, stopped by close(). */
    public interface Server extends AutoCloseable {
        int port() throws IOException;

        @Override
        void close() throws Exception;
    }

    /** Starts one kind of server; {@code maxConnections} sizes its pools. */
    @FunctionalInterface
    public interface ServerFactory {
        Server start(Path root, int maxConnections) throws Exception;
    }

    public record Kind(String label, ServerFactory factory) {}

    public record Row(String server, int connections, double requestsPerSec, double p50Ms, double p99Ms,
                      double cpuUsPerRequest, long errors) {}

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** Null if wrk can run here, else why not. */
    public static String unavailabilityCause() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(10, TimeUnit.SECONDS);
            return null;
        } catch (IOException | InterruptedException e) {
            return "wrk is not installed (apt-get install wrk)";
        }
    }

    /** Runs wrk against every kind at every connection count; {@code file} is the path requested. */
    public static List<Row> run(List<Kind> kinds, int[] connections, int seconds, String file, Path root,
                                java.util.function.Consumer<String> progress) throws Exception {
        List<Row> rows = new ArrayList<>();
        int max = java.util.Arrays.stream(connections).max().orElse(1);
        for (Kind k : kinds) {
            try (Server s = k.factory().start(root, max)) {
                for (int c : connections) {
                    progress.accept(String.format(Locale.ROOT, "http: %s, %d connections, %d s", k.label(), c, seconds));
                    rows.add(wrk(k.label(), s.port(), c, seconds, file));
                }
            }
        }
        return rows;
    }

    private static Row wrk(String label, int port, int connections, int seconds, String file) throws Exception {
        int threads = Math.max(1, Math.min(2, connections));
        long cpu0 = OS.getProcessCpuTime();
        Process p = new ProcessBuilder("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency",
                "--timeout", "5s", "http://127.0.0.1:" + port + "/" + file).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("wrk did not finish");
        }
        long cpu1 = OS.getProcessCpuTime();
        if (p.exitValue() != 0) throw new IOException("wrk failed: " + out);
        double rps = number(out, "Requests/sec:\\s+([0-9.]+)");
        long total = (long) number(out, "([0-9]+) requests in");
        long errors = 0;
        Matcher m = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
        if (m.find()) for (int i = 1; i <= 4; i++) errors += Long.parseLong(m.group(i));
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
        if (non2xx.find()) errors += Long.parseLong(non2xx.group(1));
        return new Row(label, connections, rps, latencyMs(out, "50%"), latencyMs(out, "99%"),
                total == 0 ? Double.NaN : (cpu1 - cpu0) / 1e3 / total, errors);
    }

    private static double number(String out, String regex) throws IOException {
        Matcher m = Pattern.compile(regex).matcher(out);
        if (!m.find()) throw new IOException("cannot read wrk's output (" + regex + "): " + out);
        return Double.parseDouble(m.group(1));
    }

    static double latencyMs(String out, String pct) throws IOException {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(pct) + "\\s+([0-9.]+)(us|ms|s)").matcher(out);
        if (!m.find()) throw new IOException("no " + pct + " latency in wrk's output: " + out);
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "ms" -> v;
            default -> v * 1000;
        };
    }

    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        int w = Math.max(48, rows.stream().mapToInt(r -> r.server().length()).max().orElse(0));
        String fmt = "%-" + w + "s %6s %12s %9s %9s %14s %7s%n";
        sb.append(String.format(Locale.ROOT, fmt, "server", "conns", "requests/s", "p50 ms", "p99 ms", "CPU us/request", "errors"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.server(), r.connections(), String.format(Locale.ROOT, "%,.0f", r.requestsPerSec()),
                    String.format(Locale.ROOT, "%.2f", r.p50Ms()), String.format(Locale.ROOT, "%.2f", r.p99Ms()),
                    String.format(Locale.ROOT, "%.1f", r.cpuUsPerRequest()), r.errors()));
        }
        return sb.toString();
    }
}
