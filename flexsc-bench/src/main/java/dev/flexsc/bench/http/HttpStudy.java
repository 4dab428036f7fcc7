package dev.flexsc.bench.http;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./flexsc bench --study http}: the HTTP servers under load, each in its own pinned
 * JVM (see {@link HttpBench} for the columns and {@link Pinning} for where things run).
 *
 * <pre>
 * --study http [--conns 1,10,100,1000] [--seconds 5] [--warmup 2] [--settle 20]
 *              [--servers syscall,jdkhttp,jetty] [--engines E,..] [--policies EXCEPTIONLESS,ADAPTIVE]
 *              [--server-cpus 0] [--client-cpus 1] [--no-pin] [--with 'SUFFIX=-Dx=y -Dz'] [--trace]
 *              [--client flexsc-load|wrk] [--rate R]
 * </pre>
 *
 * {@code --client}: the load generator ({@link LoadClient}); flexsc-load by default, since
 * wrk's latency percentiles include samples it made up. {@code --rate R}: flexsc-load paces
 * every measured cell at R requests per second in all ({@link ClosedLoopClient}), so servers
 * are compared at the same offered load.
 * {@code --settle S}: after the warm-up, up to S more one-second rounds of load until the
 * server's JIT settled ({@link HttpBench.Options}; 0: none).
 * {@code --servers}: {@code syscall} is the two baselines and the FlexSC server on each engine
 * under each policy; {@code jdkhttp} and {@code jetty} the real servers ({@link HttpServers#realServers()}):
 * stock virtual threads, FlexscExecutors, and FlexscExecutors with FlexSC's providers on
 * ({@link HttpServers#withProviders}).
 * {@code --with} adds, for each server, one more row with those JVM arguments (a mode that is
 * only JVM flags). {@code --trace} adds, after each measured window, one under
 * {@code perf trace} and a table of system calls per request.
 */
public final class HttpStudy {
    private HttpStudy() {}

    private static final String USAGE = "--study http [--conns 1,10,100,1000] [--seconds S] [--warmup S] [--settle S]"
            + " [--servers syscall,jdkhttp,jetty] [--engines E1,E2] [--policies P1,P2] [--server-cpus LIST]"
            + " [--client-cpus LIST] [--no-pin] [--with 'SUFFIX=JVM ARGS'] [--trace] [--client flexsc-load|wrk] [--rate R]";

    public static void main(String[] args) throws Exception {
        int seconds = 5, warmup = 2, settle = HttpBench.DEFAULT_SETTLE_SECONDS;
        int[] conns = {1, 10, 100, 1000};
        List<String> servers = List.of("syscall", "jdkhttp", "jetty");
        List<Engine> engines = null;
        List<CallPolicy> policies = List.of(CallPolicy.EXCEPTIONLESS, CallPolicy.ADAPTIVE);
        int[] serverCpus = null, clientCpus = null;
        boolean pin = true, trace = false;
        LoadClient client = HttpBench.DEFAULT_CLIENT;
        double rate = 0;
        List<String[]> with = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--settle" -> settle = Integer.parseInt(args[++i]);
                case "--conns" -> conns = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--servers" -> servers = Arrays.asList(args[++i].toLowerCase(Locale.ROOT).split(","));
                case "--engines" -> engines = Arrays.stream(args[++i].split(","))
                        .map(s -> Engine.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                case "--policies" -> policies = Arrays.stream(args[++i].split(","))
                        .map(s -> CallPolicy.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                case "--server-cpus" -> serverCpus = FlexscConfig.parseCpus("--server-cpus", args[++i]);
                case "--client-cpus" -> clientCpus = FlexscConfig.parseCpus("--client-cpus", args[++i]);
                case "--no-pin" -> pin = false;
                case "--trace" -> trace = true;
                case "--client" -> client = LoadClient.named(args[++i]);
                case "--rate" -> rate = Double.parseDouble(args[++i]);
                case "--with" -> {
                    String w = args[++i];
                    int eq = w.indexOf('=');
                    if (eq <= 0) throw new IllegalArgumentException("--with wants SUFFIX=JVM ARGS, was " + w);
                    with.add(new String[] {w.substring(0, eq), w.substring(eq + 1)});
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; usage: " + USAGE);
            }
        }
        Pinning pinning = pinning(pin, serverCpus, clientCpus);
        client.checkRate(rate);
        String unavailable = HttpBench.unavailabilityCause(pinning, client);
        if (unavailable != null) {
            System.out.println("http study: skipped, " + unavailable);
            return;
        }
        if (trace) {
            String why = SyscallTrace.unavailabilityCause();
            if (why != null) {
                System.out.println("http study: --trace skipped, " + why);
                trace = false;
            }
        }
        List<HttpBench.Kind> kinds = kinds(servers, engines, policies);
        for (String[] w : with) {
            List<String> more = Arrays.stream(w[1].trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
            List<HttpBench.Kind> all = new ArrayList<>(kinds);
            for (HttpBench.Kind k : kinds) all.add(k.with(w[0], more));
            kinds = all;
        }
        System.out.println("http study: " + client.label() + (rate > 0 ? " paced at " + rate + " requests/s" : "")
                + " on loopback, 16 KiB file, keep-alive, " + seconds + " s per cell after a "
                + warmup + " s warm-up per server; " + pinning.describe() + "; every server in its own JVM"
                + (pinning.pinned() ? " with " + String.join(" ", pinning.serverJvmArgs()) : "") + "; "
                + Runtime.getRuntime().availableProcessors() + " CPUs, JDK " + Runtime.version());
        Path root = Files.createTempDirectory("flexsc-http");
        try {
            StaticFiles.create(root);
            List<HttpBench.Row> rows = HttpBench.run(kinds, conns, seconds, "16k.bin", root,
                    new HttpBench.Options(pinning, warmup, settle, trace, client, rate), System.err::println);
            System.out.println(HttpBench.table(rows));
            if (trace) System.out.println(HttpBench.traceTable(rows));
        } finally {
            StaticFiles.delete(root);
        }
    }

    /** The pinning the options ask for: the defaults, with either side overridden, or none. */
    static Pinning pinning(boolean pin, int[] serverCpus, int[] clientCpus) {
        if (!pin) return Pinning.NONE;
        Pinning d = Pinning.defaults();
        if (serverCpus == null && clientCpus == null) return d;
        if (!d.pinned() && (serverCpus == null || clientCpus == null)) {
            throw new IllegalArgumentException("this process may use one CPU: give both --server-cpus and --client-cpus");
        }
        return new Pinning(serverCpus != null ? serverCpus : d.serverCpus(), clientCpus != null ? clientCpus : d.clientCpus());
    }

    /** The servers of the groups named: syscall (over {@code engines} x {@code policies}; null: every engine here), jdkhttp, jetty. */
    static List<HttpBench.Kind> kinds(List<String> groups, List<Engine> engines, List<CallPolicy> policies) {
        List<HttpBench.Kind> kinds = new ArrayList<>();
        for (String g : groups) {
            switch (g.trim()) {
                case "syscall" -> kinds.addAll(HttpServers.studyKinds(usableEngines(engines), policies));
                case "jdkhttp", "jetty" -> HttpServers.realServers().stream()
                        .filter(k -> k.spec().startsWith(g.trim())).forEach(kinds::add);
                default -> throw new IllegalArgumentException("--servers: unknown group " + g + " (syscall, jdkhttp, jetty)");
            }
        }
        return kinds;
    }

    /** {@code engines} (null: every engine available here) less those this machine cannot run, each printed with why. */
    private static List<Engine> usableEngines(List<Engine> engines) {
        List<Engine> usable = new ArrayList<>();
        for (EngineAvailability a : Flexsc.probe()) {
            if (a.engine() == Engine.AUTO) continue;
            boolean asked = engines == null || engines.contains(a.engine());
            if (asked && a.available()) usable.add(a.engine());
            else if (asked && engines != null) System.out.println("  " + a.engine() + ": skipped, " + a.reason());
        }
        if (engines != null && engines.contains(Engine.AUTO)) usable.addFirst(Engine.AUTO);
        return usable;
    }
}
