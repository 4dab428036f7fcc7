package dev.flexsc.bench;

import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./flexsc bench}: the bundled microbenchmarks, printed as a table.
 *
 * <pre>
 * ./flexsc bench [--seconds S] [--warmup S] [--threads 1,4] [--calls getpid,write64,pwrite4k]
 * ./flexsc bench --jmh [JMH options]     the JMH microbenchmarks with JMH's own output
 * ./flexsc bench --full [--docs DIR]     everything; writes DIR/benchmarks.md (default docs/) and PNG plots
 * ./flexsc bench --study pagefault [--size-mib N]   the page-fault study (default 1024 MiB)
 * ./flexsc bench --study cost                      the per-call cost study (JMH, one call in flight)
 * ./flexsc bench --study policy [--seconds S] [--warmup S] [--repeat N] [--threads 1,16,256,1024] [--calls getpid,write64,pwrite4k]
 *                                                  DIRECT, EXCEPTIONLESS and ADAPTIVE on FlexSC green threads
 * </pre>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--jmh")) {
            org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length > 0 && args[0].equals("--full")) {
            java.nio.file.Path docs = java.nio.file.Path.of(args.length > 2 && args[1].equals("--docs") ? args[2] : "docs");
            long t0 = System.nanoTime();
            Report.run(docs, Report.Plan.full(), "./flexsc bench --full", msg -> System.out.printf(Locale.ROOT,
                    "[%4.0f s] %s%n", (System.nanoTime() - t0) / 1e9, msg));
            return;
        }
        if (args.length > 0 && args[0].equals("--study")) {
            study(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        double seconds = 2, warmup = 1;
        int[] threads = {1, 8};
        List<CallKind> calls = List.of(CallKind.GETPID, CallKind.WRITE64);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--calls" -> calls = Arrays.stream(args[++i].split(","))
                        .map(s -> CallKind.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                default -> {
                    System.err.println("unknown option " + args[i]
                            + "; usage: ./flexsc bench [--seconds S] [--warmup S] [--threads 1,4] [--calls getpid,write64,pwrite4k] | --jmh ...");
                    System.exit(2);
                }
            }
        }
        System.out.println("FlexSC bench: " + Runtime.getRuntime().availableProcessors() + " CPUs, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", JDK "
                + Runtime.version() + "; " + warmup + " s warm-up, " + seconds + " s measured per row");
        for (EngineAvailability a : Flexsc.probe()) System.out.println("  " + a);
        List<Harness.Result> rows = new ArrayList<>();
        for (CallKind call : calls) {
            for (int t : threads) {
                for (Variant v : Variant.values()) {
                    if (v.supports(call)) rows.add(Harness.measure(v, call, t, warmup, seconds));
                }
            }
        }
        System.out.println(table(rows));
    }

    private static void study(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("--study needs pagefault or cost");
        switch (args[0]) {
            case "pagefault" -> {
                long mib = 1024;
                for (int i = 1; i < args.length; i++) {
                    if (args[i].equals("--size-mib")) mib = Long.parseLong(args[++i]);
                    else throw new IllegalArgumentException("unknown option " + args[i]);
                }
                System.out.println("page-fault study: " + mib + " MiB private anonymous mapping, "
                        + Runtime.getRuntime().availableProcessors() + " CPUs");
                System.out.println(PageFaultStudy.table(PageFaultStudy.run(mib << 20)));
            }
            case "cost" -> System.out.println(CostStudy.table(CostStudy.run()));
            case "policy" -> policyStudy(Arrays.copyOfRange(args, 1, args.length));
            default -> throw new IllegalArgumentException("unknown study " + args[0] + " (pagefault, cost, policy)");
        }
    }

    private static void policyStudy(String[] args) throws Exception {
        double seconds = 0.5, warmup = 0.3;
        int repeats = 3;
        int[] threads = {1, 16, 256, 1024};
        List<CallKind> calls = List.of(CallKind.GETPID, CallKind.WRITE64, CallKind.PWRITE4K);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--calls" -> calls = Arrays.stream(args[++i].split(","))
                        .map(s -> CallKind.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                case "--repeat" -> repeats = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.println("call-policy study: FlexSC green threads on SYSCALL_THREADS, "
                + Runtime.getRuntime().availableProcessors() + " CPUs, JDK " + Runtime.version() + "; " + warmup
                + " s warm-up, " + seconds + " s measured per run, best of " + repeats + " runs per policy and cell");
        System.out.print(PolicyStudy.header());
        List<PolicyStudy.Row> rows = PolicyStudy.run(calls, threads, warmup, seconds, repeats, System.out::print);
        System.out.println();
        System.out.println(PolicyStudy.table(rows));
    }

    /** The results as a fixed-width table; ratios are against DIRECT_FFM for the same call and threads. */
    public static String table(List<Harness.Result> rows) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-22s %-42s %7s %14s %10s %16s %20s%n";
        sb.append(String.format(Locale.ROOT, fmt, "call", "variant", "threads", "calls/s", "vs direct",
                "app CPU ns/call", "syscall CPU ns/call"));
        for (Harness.Result r : rows) {
            double base = rows.stream().filter(b -> b.variant() == Variant.DIRECT_FFM && b.call() == r.call()
                    && b.threads() == r.threads()).mapToDouble(Harness.Result::callsPerSecond).findFirst().orElse(Double.NaN);
            sb.append(String.format(Locale.ROOT, fmt, r.call().label, r.variant().label, r.threads(),
                    String.format(Locale.ROOT, "%,.0f", r.callsPerSecond()),
                    String.format(Locale.ROOT, "%.2fx", r.callsPerSecond() / base),
                    String.format(Locale.ROOT, "%.0f", r.appCpuNsPerCall()),
                    r.variant().flexsc ? String.format(Locale.ROOT, "%.0f", r.syscallCpuNsPerCall()) : "-"));
        }
        return sb.toString();
    }
}
