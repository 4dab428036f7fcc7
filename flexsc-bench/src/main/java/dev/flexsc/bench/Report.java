package dev.flexsc.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code ./flexsc bench --full}: every benchmark, with progress, written to
 * docs/benchmarks.md with PNG plots beside it. The summary opens with FlexSC's best
 * configuration as a ratio to the best baseline measured in the same run.
 */
public final class Report {
    private Report() {}

    /** What --full runs; the smoke test shrinks it. */
    public record Plan(int[] threads, double warmup, double seconds, long pageFaultBytes, int[] workingSetsKiB,
                       double[] workMicros, double localitySeconds, boolean costStudy, int[] httpConnections,
                       int httpSeconds, int httpWarmupSeconds, List<dev.flexsc.bench.http.HttpBench.Kind> httpKinds) {
        public static Plan full() {
            return new Plan(new int[] {1, 16, 256, 1024}, 0.5, 1.5, 1L << 30, new int[] {8, 64, 1024},
                    new double[] {0.1, 1, 20}, 1.5, true, new int[] {1, 10, 100, 1000}, 5, 2,
                    dev.flexsc.bench.http.HttpServers.kinds());
        }
    }

    /** How the HTTP rows are measured: the report's and docs/benchmarks.md's description. */
    static final String HTTP_METHOD = "Every server runs in a JVM of its own, pinned with taskset to the server CPU (CPU 0"
            + " by default) while the load generator runs pinned to another (CPU 1), as the published measurements of the same problem do;"
            + " the server JVM gets -Djdk.virtualThreadScheduler.parallelism and maxPoolSize equal to its CPU count (one"
            + " JDK carrier per server CPU), and FlexSC's defaults, which divide the CPUs the process may use, give it one"
            + " carrier there with the syscall side on the same CPU. *CPU us/request* is the server JVM's user + system"
            + " time over the window (getrusage in the child, so threads that exited count) divided by the requests the"
            + " server answered in that window; *switches/req* is its voluntary + involuntary context switches over the"
            + " same window, per request; *busy %* is each CPU's busy share over the window from /proc/stat (the server's"
            + " CPU first). The JDK HttpServer rows run with -Dsun.net.httpserver.nodelay=true; the real servers' handlers"
            + " read the file whole (Files or FlexscFiles) and write it. One task per connection in the servers written"
            + " here.";

    /**
     * The closing section of docs/benchmarks.md: what each table's columns mean, where things
     * run, and the commands of the studies that are not part of {@code --full}.
     */
    static final String STUDIES = """
            ## The studies, their columns, and how to run them

            ### `./flexsc bench`: the quick table

            Direct FFM from platform and from stock virtual threads, and for every engine FlexSC green threads
            under the default call policy (rows labelled `ADAPTIVE`) beside the same threads posting every call
            (`EXCEPTIONLESS`, the rows without a policy in their label), for getpid, a 64-byte write to /dev/null and
            a 4 KiB pwrite, at 1, 16, 256 and 1024 threads. *vs direct* is a row's calls/s over direct FFM from as many
            platform threads in the same run (issue 14's goal: the default rows >= 0.95x); *vs best base* is over the
            best baseline. `--variants all` measures every variant (JNA, FileChannel, FlexSC from platform threads).

            Then the multi-core table (alone, with longer rows: `./flexsc bench --study multicore [--seconds 2]
            [--warmup 3]`): application CPU (the process's CPU less the syscall side's threads') per 64-byte write
            from 256 green threads with every call posted and executed on a syscall CPU set aside for it (the last CPU
            named as `syscallCpus`, the carriers on the others: SYSCALL_THREADS' executors, IO_URING_SQPOLL's polling
            thread, KERNEL_MODULE's SERVE threads where /dev/flexsc exists; a one-CPU machine skips these rows) against
            a direct write's from 256 platform threads in the same run (*app vs direct*; the goal is <= 0.7x); beside
            them the carrier-local ring's figure for the same call (IO_URING, EXCEPTIONLESS, the defaults: no syscall
            core) and the scheduler's own floor under any posted call: pairs of green threads that unpark each other
            and park, with no system call, on the multi-core rows' carriers. *wake-ups/1k calls* (futex or SQ wake-ups
            the posting threads sent to a sleeping syscall side) and *calls/batch* (calls per executor claim; IO_URING:
            per submitting `io_uring_enter`) come from the engine's counters over the same window. The JIT's
            compilations during a row count as application CPU: the first FlexSC rows of a fresh JVM read high with
            short warm-ups (the quick table's 0.4 s), so the study warms each row up for 3 s.

            ### `--study http`: servers under load, one server core

            ```
            ./flexsc bench --study http [--conns 1,10,100,1000] [--seconds 5] [--warmup 2]
                [--servers syscall,jdkhttp,jetty] [--engines E,..] [--policies EXCEPTIONLESS,ADAPTIVE]
                [--server-cpus 0] [--client-cpus 1] [--no-pin] [--with 'SUFFIX=JVM ARGS'] [--trace]
                [--client flexsc-load|wrk] [--rate R]
            ```

            Each server runs in a JVM of its own (`ServerMain`), started with `taskset -c` on the server CPUs (default:
            the first CPU this process may use, CPU 0 here) while the load generator (below) runs with `taskset -c` on
            the client CPUs (the next one, CPU 1); wrk gets one thread per client CPU. The server JVM gets
            `-Djdk.virtualThreadScheduler.parallelism` and `maxPoolSize` equal to its CPU count, and FlexSC's
            defaults, which divide the CPUs the process may run on, give it one carrier on the server CPU with the
            syscall side on the same CPU (the study prints `flexsc=USER/SYSCALL` per server). A 2 s run of the client warms
            each server up before its cells. Columns: *requests/s*, *p50* and *p99* are the client's; *CPU us/request* is
            the server JVM's user + system time over the window (getrusage in the child, so threads that exited,
            io_uring's io-wq workers among them, count) over the requests the server answered in that window;
            *switches/req* is its voluntary + involuntary context switches over the same window, per request; *busy %*
            is each CPU's busy share of the window from /proc/stat, the whole machine's view: a server waiting on its
            own hand-offs shows an idle server CPU, a client short of CPU a busy client CPU (flexsc-load reads it
            itself over its recorded window, which leaves out its JVM's start and warm-up).

            Servers: `syscall` is the paper's NPTL server (direct calls, a fixed pool), stock virtual threads with JDK
            channels, and the FlexSC server (one green thread per connection) on each engine under each policy;
            `jdkhttp` is the JDK's `com.sun.net.httpserver.HttpServer` (with `-Dsun.net.httpserver.nodelay=true`) and
            `jetty` Jetty 12.1 with a plain handler, each on `Executors.newVirtualThreadPerTaskExecutor()` and on
            `FlexscExecutors.newVirtualThreadPerTaskExecutor()` (FlexSC's defaults: AUTO, ADAPTIVE), the handler reading
            the file with `Files.readAllBytes` or `FlexscFiles.readAllBytes`; and Jetty's `ResourceHandler` on each
            executor (it caches the file's content and serves it without a blocking handler, so it measures Jetty
            and the executor's hand-offs, not file reads). `--with 'providers=-Dx=y -Dz'` adds, for every server, a row
            with those JVM arguments: a mode that is only JVM flags (FlexSC's SelectorProvider and FileSystemProvider,
            when they exist) is measured that way.

            `--trace` follows each measured window with one of the same length under `perf trace -s -p PID` (tracefs
            mounted at /sys/kernel/tracing first where it is not; a printed skip where perf trace does not work) and
            prints system calls per request, futex calls per request (a steady state without cross-thread wake-ups
            makes none) and the most frequent calls by name. Calls FlexSC posts to io_uring do not appear by name:
            the kernel runs them inside `io_uring_enter` (or the SQ polling thread), which is what the trace counts.

            ### The load generator, and wrk's latency

            `--client flexsc-load` (the default) is `ClosedLoopClient`, in a JVM of its own pinned to the client CPUs:
            per connection one platform thread with a blocking socket, sending its next GET when the last response has
            been read whole. A request's latency is CLOCK_MONOTONIC time (`System.nanoTime`) from just before its first
            byte is written to just after its last response byte is read (connect time is outside), recorded in an
            HdrHistogram (3 significant digits); every response's status and Content-Length are checked, and a wrong
            one is an error, not a sample. Each measured cell starts with 1 s of load that is not recorded, for the
            client JVM's JIT. It checks itself: a connection's requests follow one another, so requests x mean latency
            <= connections x run time, and a run that breaks this fails. It prints, beside its own percentiles, what
            wrk would have printed for the same samples. `--rate R` paces it instead: every connection still has one
            request in flight at most, but sends on a schedule of R requests/s in all, and a latency counts from the
            request's scheduled send (wrk2's model), so servers are compared at the same offered load and a stall is
            charged for every request it held back. A send the client itself makes late counts too: pace well below
            what the client CPU can do (its busy share is in the table).

            `--client wrk` runs wrk 4.1.0 (Debian's 4.1.0-3). Its requests/s are sound; its latency percentiles are
            not those of the requests it made. wrk (src/wrk.c and src/stats.c of wg/wrk) takes `gettimeofday` in
            microseconds when it writes a request's first byte and again when the response completes, and records the
            difference in a histogram of 1 us buckets: one request in flight per connection (no pipelining without a
            script), connect time outside, a vDSO clock read on every host (the clock source, tsc here, is not the
            issue). Then, after the run and before it prints, it corrects for coordinated omission: with the expected
            interval taken as run time / (requests / connections), the mean time between a connection's requests,
            every recorded latency L of at least twice that interval gets synthetic samples at L - interval,
            L - 2 interval, and so on down to the interval. That models a client that would have kept sending at the
            mean rate through a stall; wrk applies it to every run, though it sends in a closed loop, and its Latency
            mean and stdev and the `--latency` percentiles all include the synthetic samples. At one connection the
            mean interval is the mean latency, tens of microseconds here, so one stall of a few milliseconds becomes
            hundreds of samples and the p99 is made of them. On a keep-alive Python server with TCP_NODELAY,
            `wrk -t1 -c1 -d3s --latency` printed 45,098 requests in 3.04 s, p50 26 us, p99 27.9 ms and a mean of
            1.32 ms (59 s of latency in a 3 s run); `ClosedLoopClient` on the same server recorded p50 17 us, p99
            0.84-1.17 ms and a mean of 0.063-0.079 ms (2.95 s of latency in 3.0 s), and its samples, corrected as
            wrk corrects them, give p99 12-20 ms. So wrk's p99 says how long and how often the server stalled, weighted
            by the stall over the mean interval; the p99 figures quoted from earlier wrk runs (docs/engines.md) compare
            only with each other.

            ### `--study coldread`: random 4 KiB reads, page cache dropped

            ```
            ./flexsc bench --study coldread [--file PATH] [--size-mib 2048] [--threads 16,256,1000] [--seconds 2]
                [--modes buffered,direct] [--readers flexsc,vt,pool64,pool256] [--drop auto|drop_caches|fadvise]
                [--no-hog] [--fio-depth 64] [--engine E] [--policy P]
            ```

            A 2 GiB file of random bytes, created once at `java.io.tmpdir`/flexsc-coldread.dat (`/tmp` here; written on
            first use) and reused while its size matches and it is not sparse; put it on a disk, not tmpfs.
            Before each window the page cache is dropped: `echo 1 > /proc/sys/vm/drop_caches` where that is writable
            (root), else `posix_fadvise(POSIX_FADV_DONTNEED)` on the file, which drops the same pages of that file
            for any user (the output says which). *cached % b/a* is the file's share in the page cache at the start
            and the end of the window (mincore(2)): the reads' own misses fill it, so a small file warms up within a
            window. Readers: FlexscExecutors' green threads making FlexSC preads (the shared runtime, or
            `--engine`/`--policy`); stock virtual threads with `FileChannel.read(buf, position)`; fixed pools of 64
            and 256 platform threads with FileChannel serving N request streams (a stream's latency includes its
            wait for a pool thread). Each at N threads, buffered and O_DIRECT: *reads/s*, *p99 ms* and the process's
            *CPU us/read*; then the same readers, cache dropped again, beside one CPU-bound thread of their kind that
            never parks: *reads/s+hog* and *hog %*, its work rate against its rate alone (a carrier stuck in a read,
            or held by the CPU-bound thread, runs nothing else). Then fio, one job, random 4 KiB reads through io_uring
            at queue depth 64, buffered and direct, cache dropped (a printed skip where fio is not installed). The
            last lines give FlexSC's reads/s against stock virtual threads' and fio's, and the CPU-bound thread's
            progress: the terms of issue 14's goals. About 3 minutes with the defaults.

            ### Final figures

            Take them on a quiet machine (no builds or other benchmarks: they share the two CPUs with the server and
            the client): `./flexsc bench`, `./flexsc bench --study http --trace` (about 15 minutes with every server) and
            `./flexsc bench --study coldread`; `./flexsc bench --full` regenerates this page. Figures quoted from
            `--study http` before the study pinned its servers (docs/engines.md, docs/io.md) were taken with the server
            in the benchmark's own JVM, unpinned, beside wrk on the same two CPUs, with wrk's latency; `--no-pin --servers syscall` is the
            closest setting now.
            """;

    /** Whether an HTTP row's server runs on FlexSC (its label names FlexSC or one of its classes). */
    static boolean flexscServer(String label) {
        return label.toLowerCase(Locale.ROOT).contains("flexsc");
    }

    private record SummaryRow(String benchmark, String flexsc, String baseline, double ratio, String why) {}

    /** One sentence on why FlexSC's best microbenchmark row wins or loses, from the measured figures. */
    static String microWhy(double ratio, Harness.Result bestF, Harness.Result bestB) {
        boolean green = bestF.variant().threading == Variant.Threading.FLEXSC_GREEN;
        String how = switch (bestF.variant().engine) {
            case IO_URING -> (green ? "each call costs a green-thread park and unpark, and " : "each caller waits for its own"
                    + " completion, and ") + "the ring's io_uring_enter runs the call on the application core itself";
            case IO_URING_SQPOLL -> (green ? "each call costs a green-thread park and unpark plus" : "each caller waits for")
                    + " the kernel's polling thread on the syscall core";
            default -> green
                    ? "each call costs a green-thread park and unpark plus the hand-off to the syscall core"
                    : "each platform-thread caller waits for its own completion, a round trip to the syscall core";
        };
        return String.format(Locale.ROOT, "%s: %s (%.0f ns of application CPU per call against %.0f ns direct), and"
                        + " the baseline also runs on the core FlexSC gives to its syscall side.",
                ratio >= 1 ? "Wins" : "Loses", how, bestF.appCpuNsPerCall(), bestB.appCpuNsPerCall());
    }

    public static void run(Path docs, Plan plan, String command, Consumer<String> progress) throws Exception {
        Files.createDirectories(docs);
        MachineInfo machine = MachineInfo.read();
        StringBuilder body = new StringBuilder();
        List<SummaryRow> summary = new ArrayList<>();

        // 1. microbenchmarks
        body.append("## Microbenchmarks: getpid, 64-byte write, 4 KiB pwrite\n\n")
                .append("Every variant makes the same call in a loop from N threads for ").append(plan.seconds())
                .append(" s after ").append(plan.warmup()).append(" s of warm-up. The variants: direct calls from platform")
                .append(" threads (FFM, JNA, the JDK's FileChannel) and from stock virtual threads, and every FlexSC engine")
                .append(" (SYSCALL_THREADS, IO_URING, IO_URING_SQPOLL, KERNEL_MODULE) called from platform threads and from")
                .append(" FlexSC green threads; an engine this machine cannot run is listed as skipped with Flexsc.probe()'s")
                .append(" reason. *calls/s* counts calls completed inside the window (per-thread counters sampled at both ends,")
                .append(" with the CPU clocks). *app CPU* is the whole process's CPU time minus the syscall side's (callers,")
                .append(" carriers, JIT, GC; time blocked is not CPU time), per call; *syscall CPU* is the CPU time (schedstat) of")
                .append(" the engine's own threads, per call, as the notes under each table say: for IO_URING the calling")
                .append(" thread does the work itself inside io_uring_enter, so that cost is application CPU; for")
                .append(" IO_URING_SQPOLL it is the kernel's SQ polling thread. io_uring has no getpid: those engines route it")
                .append(" to a SYSCALL_THREADS fallback. *stall ms* is the longest stretch of the window in which no call")
                .append(" completed (sampled every ").append(Harness.SAMPLE_MILLIS).append(" ms). FlexSC's platform-thread")
                .append(" callers are pinned to the user CPUs and its green threads run on carriers pinned there, so every")
                .append(" variant uses all cores; pinned callers cannot move away from outside load on their CPU, so these rows")
                .append(" collapse on a busy machine (256 writers fell to about 10k calls/s with other processes on the user CPU):")
                .append(" run the report on a quiet machine. Ratios are against the best baseline measured in the same run at the same")
                .append(" thread count.\n\n");
        for (CallKind call : CallKind.values()) {
            List<Harness.Result> rows = new ArrayList<>();
            for (int t : plan.threads()) {
                for (Variant v : Variant.values()) {
                    if (!v.supports(call)) continue;
                    progress.accept(String.format(Locale.ROOT, "micro: %s, %s, %d threads", call.label, v.label, t));
                    Harness.Result r = Harness.measure(v, call, t, plan.warmup(), plan.seconds());
                    if (r.skipped()) progress.accept("  skipped: " + r.skipReason());
                    rows.add(r);
                }
            }
            body.append("### ").append(call.label).append("\n\n```\n").append(Main.table(rows)).append("```\n\n");
            Map<String, double[][]> series = new LinkedHashMap<>();
            Map<String, double[][]> cpu = new LinkedHashMap<>();
            for (Variant v : Variant.values()) {
                List<Harness.Result> vs = rows.stream().filter(r -> r.variant() == v && !r.skipped()).toList();
                if (vs.isEmpty()) continue;
                double[] x = vs.stream().mapToDouble(Harness.Result::threads).toArray();
                series.put(v.label, new double[][] {x, vs.stream().mapToDouble(Harness.Result::callsPerSecond).toArray()});
                cpu.put(v.label, new double[][] {x, vs.stream().mapToDouble(r -> r.appCpuNsPerCall()
                        + (v.flexsc ? r.syscallCpuNsPerCall() : 0)).toArray()});
            }
            String stem = "bench-" + call.name().toLowerCase(Locale.ROOT);
            Plots.throughput(docs.resolve(stem + ".png"), call.label + ": throughput against concurrency", series);
            Plots.lines(docs.resolve(stem + "-cpu.png"), call.label + ": CPU per call (application + syscall side)",
                    "concurrent callers", "ns of CPU per call", cpu);
            body.append("![").append(call.label).append("](").append(stem).append(".png)\n\n")
                    .append("![").append(call.label).append(" CPU per call](").append(stem).append("-cpu.png)\n\n");
            Harness.Result bestF = rows.stream().filter(r -> r.variant().flexsc && !r.skipped())
                    .max(Comparator.comparingDouble(Harness.Result::callsPerSecond)).orElseThrow();
            Harness.Result bestB = rows.stream().filter(r -> !r.variant().flexsc && !r.skipped())
                    .max(Comparator.comparingDouble(Harness.Result::callsPerSecond)).orElseThrow();
            double ratio = bestF.callsPerSecond() / bestB.callsPerSecond();
            summary.add(new SummaryRow(call.label + " (calls/s)", bestF.variant().label + ", " + bestF.threads() + " threads",
                    bestB.variant().label + ", " + bestB.threads() + " threads", ratio, microWhy(ratio, bestF, bestB)));
        }

        // 2. cost study
        if (plan.costStudy()) {
            progress.accept("cost study (JMH)");
            List<CostStudy.Row> cost = CostStudy.run();
            body.append("## Cost per call, one in flight (the seeds' study)\n\nJMH, average time, 1 fork, 2x1 s warm-up,")
                    .append(" 3x1 s measured. `getpidViaSyscall` goes through syscall() (no vDSO); `enosysSyscall` is")
                    .append(" number 511, which the kernel rejects right after the trap.\n\n```\n")
                    .append(CostStudy.table(cost)).append("```\n\n");
            Plots.bars(docs.resolve("bench-cost.png"), "Cost per call, one in flight", "ns per call",
                    cost.stream().map(CostStudy.Row::what).toList(), cost.stream().map(CostStudy.Row::nsPerCall).toList());
            body.append("![cost per call](bench-cost.png)\n\n");
            Optional<CostStudy.Row> f = cost.stream().filter(r -> r.what().contains("Flexsc")).findFirst();
            Optional<CostStudy.Row> d = cost.stream().filter(r -> r.what().equals("getpidViaSyscall")).findFirst();
            if (f.isPresent() && d.isPresent()) {
                double ratio = d.get().nsPerCall() / f.get().nsPerCall();
                summary.add(new SummaryRow("getpid latency, 1 in flight (speed = 1/latency)", "SYSCALL_THREADS",
                        "direct syscall()", ratio, String.format(Locale.ROOT, "Loses: with one call in flight nothing"
                        + " is batched or overlapped; FlexSC adds the cross-core round trip (%.0f ns against %.0f ns),"
                        + " as the paper found for unbatched calls on one core.", f.get().nsPerCall(), d.get().nsPerCall())));
            }
        }

        // 3. page faults
        progress.accept("page-fault study, " + (plan.pageFaultBytes() >> 20) + " MiB");
        List<PageFaultStudy.Row> pf = PageFaultStudy.run(plan.pageFaultBytes());
        body.append("## Page faults: first touch of a ").append(plan.pageFaultBytes() >> 20)
                .append(" MiB private anonymous mapping\n\nEach row maps, touches every page once and unmaps; the time")
                .append(" per page includes the mmap. The random order is a permutation fixed before timing.\n\n```\n")
                .append(PageFaultStudy.table(pf)).append("```\n\n");
        List<PageFaultStudy.Row> pfOk = pf.stream().filter(r -> !Double.isNaN(r.nsPerPage())).toList();
        Plots.bars(docs.resolve("bench-pagefault.png"), "Page-fault cost", "ns per page",
                pfOk.stream().map(r -> r.method() + " (" + r.order() + ")").toList(),
                pfOk.stream().map(PageFaultStudy.Row::nsPerPage).toList());
        body.append("![page faults](bench-pagefault.png)\n\n");
        PageFaultStudy.Row bestOff = pfOk.stream().filter(r -> r.method().startsWith("FlexSC"))
                .min(Comparator.comparingDouble(PageFaultStudy.Row::nsPerPage)).orElseThrow();
        PageFaultStudy.Row bestSeq = pfOk.stream().filter(r -> !r.method().startsWith("FlexSC") && r.order().equals("sequential"))
                .min(Comparator.comparingDouble(PageFaultStudy.Row::nsPerPage)).orElseThrow();
        double pfRatio = bestSeq.nsPerPage() / bestOff.nsPerPage();
        summary.add(new SummaryRow("sequential first touch (speed = 1/ns per page)", bestOff.method(), bestSeq.method(),
                pfRatio, String.format(Locale.ROOT, "%s: the syscall CPU populates pages ahead of the walker, but both"
                + " cores then fault and zero pages of the same mm at once, and inline %s already amortises a trap"
                + " over many pages (%.0f against %.0f ns per page).", pfRatio >= 1 ? "Wins" : "Loses", bestSeq.method(),
                bestOff.nsPerPage(), bestSeq.nsPerPage())));

        // 4. locality
        progress.accept("locality benchmark");
        List<Locality.Row> loc = Locality.run(plan.workingSetsKiB(), plan.workMicros(), plan.localitySeconds());
        body.append("## Locality: user work between calls\n\nEach thread alternates a slice of work over its own working")
                .append(" set with a 64-byte write to /dev/null. Direct: one platform thread per core, pinned. FlexSC:")
                .append(" eight FlexSC green threads per carrier on the user CPUs (the carrier works for one while the")
                .append(" others' calls run), the syscall CPU left to the syscall threads: the same two cores. The figure is slices of user work per second.")
                .append(" User-mode IPC: ").append(machine.perfCounters()).append(".\n\n```\n")
                .append(Locality.table(loc)).append("```\n\n");
        Locality.Row bestLoc = loc.stream().max(Comparator.comparingDouble(Locality.Row::ratio)).orElseThrow();
        summary.add(new SummaryRow("user work between calls (slices/s)", String.format(Locale.ROOT,
                "%d KiB set, %.1f us/call", bestLoc.workingSetKiB(), bestLoc.workMicros()), "direct, same cell",
                bestLoc.ratio(), bestLoc.ratio() >= 1
                ? "Wins where the work per call is small: the user core keeps its caches while the other core runs the calls."
                : "Loses even in its best cell: overlapping calls with other green threads' work does not pay for"
                  + " giving a whole core of two to syscall threads, and a virtual-thread switch per call costs about"
                  + " as much as the call."));

        // 5. HTTP
        body.append("## HTTP static files under load\n\n");
        dev.flexsc.bench.http.HttpBench.Options httpOptions = new dev.flexsc.bench.http.HttpBench.Options(
                dev.flexsc.bench.http.Pinning.defaults(), plan.httpWarmupSeconds(),
                dev.flexsc.bench.http.HttpBench.DEFAULT_SETTLE_SECONDS, false, dev.flexsc.bench.http.HttpBench.DEFAULT_CLIENT);
        String noWrk = dev.flexsc.bench.http.HttpBench.unavailabilityCause(httpOptions.pinning(), httpOptions.client());
        if (noWrk != null) {
            body.append("Skipped: ").append(noWrk).append(".\n\n");
            progress.accept("http: skipped, " + noWrk);
        } else {
            Path root = Files.createTempDirectory("flexsc-http");
            dev.flexsc.bench.http.StaticFiles.create(root);
            List<dev.flexsc.bench.http.HttpBench.Row> http;
            try {
                http = dev.flexsc.bench.http.HttpBench.run(plan.httpKinds(), plan.httpConnections(),
                        plan.httpSeconds(), "16k.bin", root, httpOptions, progress);
            } finally {
                dev.flexsc.bench.http.StaticFiles.delete(root);
            }
            body.append(httpOptions.client().label()).append(" on loopback (\"The load generator\" below), ").append(plan.httpSeconds()).append(" s per cell after a ")
                    .append(httpOptions.warmupSeconds()).append(" s warm-up per server, 16 KiB file, keep-alive. ")
                    .append(HTTP_METHOD).append("\n\n```\n")
                    .append(dev.flexsc.bench.http.HttpBench.table(http)).append("```\n\n");
            Map<String, double[][]> series = new LinkedHashMap<>();
            for (dev.flexsc.bench.http.HttpBench.Row r : http) series.putIfAbsent(r.server(), null);
            for (String name : new ArrayList<>(series.keySet())) {
                List<dev.flexsc.bench.http.HttpBench.Row> rs = http.stream().filter(r -> r.server().equals(name)).toList();
                series.put(name, new double[][] {rs.stream().mapToDouble(dev.flexsc.bench.http.HttpBench.Row::connections).toArray(),
                        rs.stream().mapToDouble(dev.flexsc.bench.http.HttpBench.Row::requestsPerSec).toArray()});
            }
            Plots.lines(docs.resolve("bench-http.png"), "HTTP 16 KiB: requests/s against connections", "connections",
                    "requests per second", series);
            Map<String, double[][]> p99 = new LinkedHashMap<>();
            for (String name : series.keySet()) {
                List<dev.flexsc.bench.http.HttpBench.Row> rs = http.stream().filter(r -> r.server().equals(name)).toList();
                p99.put(name, new double[][] {rs.stream().mapToDouble(dev.flexsc.bench.http.HttpBench.Row::connections).toArray(),
                        rs.stream().mapToDouble(dev.flexsc.bench.http.HttpBench.Row::p99Ms).toArray()});
            }
            Plots.lines(docs.resolve("bench-http-p99.png"), "HTTP 16 KiB: p99 latency against connections", "connections",
                    "p99 latency (ms)", p99);
            body.append("![HTTP throughput](bench-http.png)\n\n![HTTP p99](bench-http-p99.png)\n\n");
            var bestF = http.stream().filter(r -> flexscServer(r.server()))
                    .max(Comparator.comparingDouble(dev.flexsc.bench.http.HttpBench.Row::requestsPerSec)).orElseThrow();
            var bestB = http.stream().filter(r -> !flexscServer(r.server()))
                    .max(Comparator.comparingDouble(dev.flexsc.bench.http.HttpBench.Row::requestsPerSec)).orElseThrow();
            double ratio = bestF.requestsPerSec() / bestB.requestsPerSec();
            summary.add(new SummaryRow("HTTP 16 KiB (requests/s)", bestF.server() + ", " + bestF.connections() + " conns",
                    bestB.server() + ", " + bestB.connections() + " conns", ratio, String.format(Locale.ROOT,
                    "%s: %.1f us of server CPU per request against %.1f; every request is several calls (recv, open,"
                            + " fstat, send, sendfile, close) and the load generator shares the two cores with the server.",
                    ratio >= 1 ? "Wins" : "Loses", bestF.cpuUsPerRequest(), bestB.cpuUsPerRequest())));
        }

        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\nGenerated by `").append(command).append("` on ").append(LocalDate.now())
                .append(". Figures from one run on one machine; compare within a run only.\n\n")
                .append(machine.markdown()).append("\n## Summary\n\n")
                .append("| benchmark | FlexSC's best | best baseline | FlexSC / baseline | why |\n|---|---|---|---:|---|\n");
        for (SummaryRow r : summary) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2fx | %s |%n", r.benchmark(), r.flexsc(),
                    r.baseline(), r.ratio(), r.why()));
        }
        md.append("\n").append(body).append(STUDIES);
        Files.writeString(docs.resolve("benchmarks.md"), md.toString());
        progress.accept("wrote " + docs.resolve("benchmarks.md"));
    }
}
