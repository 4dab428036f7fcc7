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
 * ./flexsc bench [--seconds S] [--warmup S] [--threads 1,16,256,1024] [--calls getpid,write64,pwrite4k]
 *                [--variants all | DIRECT_FFM,FLEXSC_GREEN_ADAPTIVE,IO_URING_GREEN,...] [--no-multicore]
 *     defaults: getpid, write64 and pwrite4k; Variant.QUICK: direct FFM from platform and stock virtual
 *     threads, and per engine FlexSC green threads under ADAPTIVE (the default policy) and EXCEPTIONLESS
 *     (engines this machine lacks print a skip line), each row with its ratio to direct FFM; 1/16/256/1024
 *     threads, 0.4 s warm-up and 0.8 s measured per row; then the multi-core table (MultiCoreTable).
 *     About 2 minutes on 2 cores.
 * ./flexsc bench --jmh [JMH options]     the JMH microbenchmarks with JMH's own output
 * ./flexsc bench --full [--docs DIR]     everything; writes DIR/benchmarks.md (default docs/) and PNG plots
 * ./flexsc bench --study pagefault [--size-mib N]   the page-fault study (default 1024 MiB)
 * ./flexsc bench --study cost                      the per-call cost study (JMH, one call in flight)
 * ./flexsc bench --study batch [--seconds S] [--engines E,..] [--calls getpid,pwrite4k]
 *                                                  SyscallBatch: app CPU per call, batches of 1, 8, 64, 256
 * ./flexsc bench --study batchloop [--batch 64] [--reps 8] [--seconds 0.7] [--warmup 3]
 *                                                  the batch mechanism alone in steady state (no-op engine)
 * ./flexsc bench --study multicore [--seconds 2] [--warmup 3]
 *                                                  the multi-core table alone (MultiCoreTable), longer rows
 * ./flexsc bench --study http [--conns 1,10,100,1000] [--seconds 5] [--servers syscall,jdkhttp,jetty] [--trace] ...
 *                                                  the HTTP servers under load, each in its own JVM pinned to a server CPU
 *                                                  (the load generator on another): see {@link dev.flexsc.bench.http.HttpStudy}
 * ./flexsc bench --study coldread [--file PATH] [--size-mib 2048] [--threads 16,256,1000] [--seconds 2] ...
 *                                                  random 4 KiB reads with the page cache dropped: FlexSC, stock
 *                                                  virtual threads, platform pools, fio (see {@link dev.flexsc.bench.io.ColdReadStudy})
 * ./flexsc bench --study soak [--seconds 10] [--engines E,..] [--phases mixed,fds,threads] [--seed N] [--known run|skip] [--crowd 2000]
 *                                                  the fault-injection soak: every engine, each phase in a child JVM; the
 *                                                  invariants and faults tables (see {@link dev.flexsc.bench.soak.SoakStudy})
 * ./flexsc bench --study policy [--engine SYSCALL_THREADS] [--seconds S] [--warmup S] [--repeat N] [--threads 1,16,256,1024] [--calls getpid,write64,pwrite4k]
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
        double seconds = 0.8, warmup = 0.4;
        int[] threads = {1, 16, 256, 1024};
        List<CallKind> calls = List.of(CallKind.values());
        List<Variant> variants = Variant.QUICK;
        boolean multiCore = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--threads" -> threads = ints(args[++i]);
                case "--calls" -> calls = enums(CallKind.class, args[++i]);
                case "--variants" -> {
                    String v = args[++i];
                    variants = v.equalsIgnoreCase("all") ? List.of(Variant.values()) : enums(Variant.class, v);
                }
                case "--no-multicore" -> multiCore = false;
                default -> {
                    System.err.println("unknown option " + args[i]
                            + "; usage: ./flexsc bench [--seconds S] [--warmup S] [--threads 1,16,256,1024] [--calls getpid,write64,pwrite4k] [--variants all|DIRECT_FFM,IO_URING,...] [--no-multicore] | --jmh ...");
                    System.exit(2);
                }
            }
        }
        printSetup("FlexSC bench", warmup, seconds);
        List<Harness.Result> rows = new ArrayList<>();
        for (CallKind call : calls) {
            for (int t : threads) {
                for (Variant v : variants) {
                    if (v.supports(call)) rows.add(Harness.measure(v, call, t, warmup, seconds));
                }
            }
        }
        System.out.println(table(rows));
        if (multiCore) System.out.println(MultiCoreTable.table(MultiCoreTable.run(warmup, seconds)));
    }

    /** The line that heads a run (machine, JDK, timing per row), then each engine's availability. */
    private static void printSetup(String title, double warmup, double seconds) {
        System.out.println(title + ": " + Runtime.getRuntime().availableProcessors() + " CPUs, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", JDK "
                + Runtime.version() + "; " + warmup + " s warm-up, " + seconds + " s measured per row");
        for (EngineAvailability a : Flexsc.probe()) System.out.println("  " + a);
    }

    /** An option's comma-separated numbers: "1,16,256". */
    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** An option's comma-separated constants of {@code type}, in any case: "getpid,write64". */
    private static <E extends Enum<E>> List<E> enums(Class<E> type, String csv) {
        return Arrays.stream(csv.split(",")).map(s -> Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT))).toList();
    }

    private static void study(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("--study needs one of pagefault, cost, batch, batchloop, multicore, policy, http, coldread, soak");
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
            case "batch" -> {
                double seconds = 1, warmup = 0.5;
                List<dev.flexsc.Engine> engines = null;
                List<CallKind> calls = List.of(CallKind.GETPID, CallKind.PWRITE4K);
                for (int i = 1; i < args.length; i++) {
                    switch (args[i]) {
                        case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                        case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                        case "--engines" -> engines = enums(dev.flexsc.Engine.class, args[++i]);
                        case "--calls" -> calls = enums(CallKind.class, args[++i]);
                        default -> throw new IllegalArgumentException("unknown option " + args[i]
                                + " (--seconds S, --warmup S, --engines E1,E2, --calls getpid,pwrite4k)");
                    }
                }
                printSetup("batch study", warmup, seconds);
                System.out.println(BatchStudy.table(BatchStudy.run(warmup, seconds, engines, calls, System.err::println)));
            }
            case "batchloop" -> {
                int batch = 64, reps = 8;
                double seconds = 0.7, warmup = 3;
                for (int i = 1; i < args.length; i++) {
                    switch (args[i]) {
                        case "--batch" -> batch = Integer.parseInt(args[++i]);
                        case "--reps" -> reps = Integer.parseInt(args[++i]);
                        case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                        case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                        default -> throw new IllegalArgumentException("unknown option " + args[i]
                                + " (--batch N, --reps N, --seconds S, --warmup S)");
                    }
                }
                BatchStudy.mechanismLoop(batch, reps, seconds, warmup, System.out::println);
            }
            case "multicore" -> {
                // A few seconds of warm-up per row: the JIT's compilations count as application CPU.
                double seconds = 2, warmup = 3;
                for (int i = 1; i < args.length; i++) {
                    switch (args[i]) {
                        case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                        case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                        default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--seconds S, --warmup S)");
                    }
                }
                printSetup("multi-core study", warmup, seconds);
                System.out.println(MultiCoreTable.table(MultiCoreTable.run(warmup, seconds)));
            }
            case "policy" -> policyStudy(Arrays.copyOfRange(args, 1, args.length));
            case "http" -> dev.flexsc.bench.http.HttpStudy.main(Arrays.copyOfRange(args, 1, args.length));
            case "coldread" -> dev.flexsc.bench.io.ColdReadStudy.main(Arrays.copyOfRange(args, 1, args.length));
            case "soak" -> dev.flexsc.bench.soak.SoakStudy.main(Arrays.copyOfRange(args, 1, args.length));
            default -> throw new IllegalArgumentException("unknown study " + args[0]
                    + " (pagefault, cost, batch, batchloop, multicore, policy, http, coldread, soak)");
        }
    }

    private static void policyStudy(String[] args) throws Exception {
        double seconds = 0.5, warmup = 0.3;
        int repeats = 3;
        int[] threads = {1, 16, 256, 1024};
        List<CallKind> calls = List.of(CallKind.GETPID, CallKind.WRITE64, CallKind.PWRITE4K);
        dev.flexsc.Engine engine = PolicyStudy.DEFAULT_ENGINE;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--engine" -> engine = dev.flexsc.Engine.valueOf(args[++i].trim().toUpperCase(Locale.ROOT));
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--threads" -> threads = ints(args[++i]);
                case "--calls" -> calls = enums(CallKind.class, args[++i]);
                case "--repeat" -> repeats = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.println("call-policy study: FlexSC green threads on " + engine + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, JDK " + Runtime.version() + "; " + warmup
                + " s warm-up, " + seconds + " s measured per run, best of " + repeats + " runs per policy and cell");
        System.out.print(PolicyStudy.header());
        List<PolicyStudy.Row> rows = PolicyStudy.run(engine, calls, threads, warmup, seconds, repeats, System.out::print);
        System.out.println();
        System.out.println(PolicyStudy.table(rows));
    }

    /**
     * The results as a fixed-width table; ratios are against the best baseline (non-FlexSC
     * variant) measured in the same run for the same call and threads. Skipped variants get
     * a row and, under the table, one line each with the reason; notes on how the syscall
     * CPU of each engine is measured follow.
     */
    public static String table(List<Harness.Result> rows) {
        return Tables.micro(rows);
    }
}
