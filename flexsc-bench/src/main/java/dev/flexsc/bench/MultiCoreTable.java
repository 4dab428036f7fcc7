package dev.flexsc.bench;

import dev.flexsc.FlexscConfig;
import dev.flexsc.threads.FlexscRuntime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The paper's multi-core mode in one small table (issue 14's goal "exception-less for real"):
 * application CPU per 64-byte write to /dev/null from 256 FlexSC green threads when every
 * call is posted (EXCEPTIONLESS) and executed on a syscall core set aside for it (the last
 * CPU this process may use, named as {@code syscallCpus}, so the carriers run on the others:
 * SYSCALL_THREADS' executors, IO_URING_SQPOLL's polling thread, the module's SERVE threads
 * where /dev/flexsc exists), beside a direct write's application CPU from as many platform
 * threads measured in the same run, the carrier-local ring's figure for the same call
 * (IO_URING under EXCEPTIONLESS with the defaults: each carrier submits and reaps its own
 * calls, no syscall core), and the scheduler's own cost per call: a green thread that parks
 * and is unparked, with no system call (pairs of green threads unparking each other, on the
 * multi-core rows' carriers). What a posted call can save the application core is the direct
 * call's cost less that floor. Application CPU is the process's CPU time less the syscall
 * side's threads' (Harness), so the JIT, GC and the carriers' idle spinning count.
 */
public final class MultiCoreTable {
    private MultiCoreTable() {}

    /** The concurrency the goal is stated at. */
    static final int THREADS = 256;
    /** The label of the park/unpark row. */
    static final String PARK_UNPARK = "FlexSC green threads, park + unpark, no system call";
    /** Suffix of the rows whose syscall side has a CPU of its own. */
    static final String SET_ASIDE = ", syscall CPU set aside";
    /** Suffix of the carrier-local ring's row (the default mode: each carrier runs its own calls, no syscall core). */
    static final String CARRIER_LOCAL = ", carrier-local ring";

    /**
     * One row: calls/s and CPU per call (application side, syscall side; NaN where none), or a
     * skip; for engine rows, over the same window, the engine's counters per call that say
     * where the application side's time goes: wake-ups the submitters sent to sleeping syscall
     * threads (a futex or SQ wake-up system call on the application core), and calls per batch
     * the syscall side claimed (IO_URING: per submitting io_uring_enter); NaN where none.
     */
    public record Row(String what, double callsPerSecond, double appCpuNsPerCall, double syscallCpuNsPerCall,
                      double wakeupsPerCall, double callsPerBatch, String skip) {
        Row(String what, double callsPerSecond, double appCpuNsPerCall, String skip) {
            this(what, callsPerSecond, appCpuNsPerCall, Double.NaN, Double.NaN, Double.NaN, skip);
        }
    }

    /** Measures the rows: direct, each syscall-core engine (EXCEPTIONLESS), the carrier-local ring, the scheduler's park/unpark. */
    public static List<Row> run(double warmupSeconds, double seconds) throws Exception {
        List<Row> rows = new ArrayList<>();
        rows.add(row(Variant.DIRECT_FFM, null, Variant.DIRECT_FFM.label, warmupSeconds, seconds));
        FlexscConfig shared = FlexscConfig.defaults();
        String noSpareCpu = shared.userCpus().length < 2
                ? "one CPU: no CPU to set aside for the syscall side (the multi-core mode needs two)" : null;
        for (Variant v : List.of(Variant.FLEXSC_GREEN, Variant.IO_URING_SQPOLL_GREEN, Variant.KERNEL_MODULE_GREEN)) {
            String label = v.label + SET_ASIDE;
            if (noSpareCpu != null) {
                rows.add(new Row(label, Double.NaN, Double.NaN, noSpareCpu));
                continue;
            }
            rows.add(row(v, multiCore(v), label, warmupSeconds, seconds));
        }
        rows.add(row(Variant.IO_URING_GREEN, null, Variant.IO_URING_GREEN.label + CARRIER_LOCAL, warmupSeconds, seconds));
        rows.add(parkUnpark(noSpareCpu == null ? multiCore(Variant.FLEXSC_GREEN) : shared, warmupSeconds, seconds));
        return rows;
    }

    /**
     * The multi-core mode's configuration for {@code v}: its engine under EXCEPTIONLESS with
     * the last CPU this process may use named as the syscall CPU, so the carriers run on the
     * others and the syscall side (executors, SQ polling thread, SERVE threads) has that CPU
     * alone; KERNEL_MODULE sends every call to its SERVE threads ({@code moduleCarrierLocal(false)}).
     */
    static FlexscConfig multiCore(Variant v) {
        int[] syscall = FlexscConfig.defaults().syscallCpus();
        FlexscConfig c = FlexscConfig.builder().engine(v.engine).policy(v.policy).syscallCpus(syscall)
                .moduleCarrierLocal(false).build();
        if (!c.syscallCpusSetAside()) throw new IllegalStateException(v + ": syscall CPUs " + java.util.Arrays.toString(syscall)
                + " are not set aside from the carriers' " + java.util.Arrays.toString(c.userCpus()));
        return c;
    }

    private static Row row(Variant v, FlexscConfig config, String label, double warmupSeconds, double seconds) throws Exception {
        Harness.Result r = Harness.measure(v, config, CallKind.WRITE64, THREADS, warmupSeconds, seconds, null);
        dev.flexsc.EngineStats d = r.engineDelta();
        if (d == null || r.calls() == 0) {
            return new Row(label, r.callsPerSecond(), r.appCpuNsPerCall(), v.flexsc ? r.syscallCpuNsPerCall() : Double.NaN,
                    Double.NaN, Double.NaN, r.skipReason());
        }
        return new Row(label, r.callsPerSecond(), r.appCpuNsPerCall(), r.syscallCpuNsPerCall(),
                (double) d.wakeups() / r.calls(), d.batches() == 0 ? Double.NaN : (double) d.executed() / d.batches(),
                r.skipReason());
    }

    /**
     * {@value #THREADS} green threads in pairs on a FlexscRuntime opened with {@code config}, each
     * op unparking its partner and parking: one park, one unpark and one switch per op, the
     * floor under any posted call's cost to the application core.
     */
    static Row parkUnpark(FlexscConfig config, double warmupSeconds, double seconds) throws Exception {
        String why = Variant.FLEXSC_GREEN.unavailabilityCause();
        if (why != null) return new Row(PARK_UNPARK, Double.NaN, Double.NaN, why);
        try (FlexscRuntime rt = FlexscRuntime.open(config)) {
            // Each worker publishes itself (volatile set) before it reads its partner (volatile
            // get): of two partners, at least the second to publish sees the first and unparks
            // it, so no pair starts with both parked.
            AtomicReferenceArray<Thread> workers = new AtomicReferenceArray<>(THREADS);
            AtomicBoolean stopped = new AtomicBoolean();
            Harness.Window w = Harness.runWindow(THREADS, t -> () -> {
                workers.set(t, Thread.currentThread());
                Thread partner = workers.get(t ^ 1);
                if (partner != null) LockSupport.unpark(partner);
                // Volatile read after the volatile publish above; pairs with the stop below,
                // which sets stopped, then reads every worker: either this worker sees the stop
                // and does not park, or the stop sees it and leaves it a permit.
                if (!stopped.get()) LockSupport.park();
                return 0;
            }, (body, t) -> rt.threadFactory().newThread(body), t -> -1, warmupSeconds, seconds,
                    new Harness.ThreadCpuTracker(Variant.FLEXSC_GREEN.syscallThreadNames()), () -> null,
                    Harness.STOP_TIMEOUT_MILLIS, () -> {
                        // After the stop is published, one permit each: every worker's next park
                        // returns and it sees the stop, though its partner has left. A worker that
                        // had not published itself yet (one that never ran before the window
                        // ended, common with short windows in a cold JVM) gets no permit, and
                        // sees the flag instead.
                        stopped.set(true);
                        for (int i = 0; i < THREADS; i++) {
                            Thread x = workers.get(i);
                            if (x != null) LockSupport.unpark(x);
                        }
                    });
            if (w.failure() != null) throw new IllegalStateException("park/unpark failed", w.failure());
            if (w.stuck() > 0) throw new IllegalStateException(w.stuck() + " park/unpark workers did not stop");
            return new Row(PARK_UNPARK, w.calls() / (w.nanos() / 1e9), (double) (w.processCpu() - w.syscallCpu()) / w.calls(),
                    null);
        }
    }

    /** The rows as a table, with each row's application CPU against the direct write's. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder("multi-core mode: 64-byte writes to /dev/null from " + THREADS
                + " threads, every FlexSC call posted (EXCEPTIONLESS), run on a syscall CPU set aside or on the"
                + " carrier's own ring\n");
        String fmt = "%-72s %12s %16s %20s %14s %16s %14s%n";
        sb.append(String.format(Locale.ROOT, fmt, "variant", "calls/s", "app CPU ns/call", "syscall CPU ns/call",
                "app vs direct", "wake-ups/1k calls", "calls/batch"));
        double direct = rows.stream().filter(r -> r.what().equals(Variant.DIRECT_FFM.label) && r.skip() == null)
                .mapToDouble(Row::appCpuNsPerCall).findFirst().orElse(Double.NaN);
        for (Row r : rows) {
            if (r.skip() != null) {
                sb.append(String.format(Locale.ROOT, fmt, r.what(), "skipped", "-", "-", "-", "-", "-"));
                continue;
            }
            sb.append(String.format(Locale.ROOT, fmt, r.what(), String.format(Locale.ROOT, "%,.0f", r.callsPerSecond()),
                    String.format(Locale.ROOT, "%.0f", r.appCpuNsPerCall()), orDash("%.0f", r.syscallCpuNsPerCall()),
                    String.format(Locale.ROOT, "%.2fx", r.appCpuNsPerCall() / direct),
                    orDash("%.1f", r.wakeupsPerCall() * 1000), orDash("%.1f", r.callsPerBatch())));
        }
        for (Row r : rows) if (r.skip() != null) sb.append("skipped: ").append(r.what()).append(": ").append(r.skip()).append('\n');
        sb.append("goal (issue 14): a posted write's application CPU <= 0.7x of the direct write's; the park + unpark row is"
                + " the scheduler's floor under it.\n");
        return sb.toString();
    }

    private static String orDash(String format, double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, v);
    }
}
