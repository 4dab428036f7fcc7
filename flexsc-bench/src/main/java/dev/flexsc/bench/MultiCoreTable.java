package dev.flexsc.bench;

import dev.flexsc.threads.FlexscRuntime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The paper's multi-core mode in one small table (issue 14's goal "exception-less for real"):
 * application CPU per 64-byte write to /dev/null from 256 FlexSC green threads when every
 * call is posted (EXCEPTIONLESS) and executed on a syscall core (SYSCALL_THREADS'
 * executors, IO_URING_SQPOLL's polling thread, the module's SERVE threads where
 * /dev/flexsc exists), beside a direct write's application CPU from as many platform
 * threads, and the scheduler's own cost per call: a green thread that parks and is
 * unparked, with no system call (pairs of green threads unparking each other). What a
 * posted call can save the application core is the direct call's cost less that floor.
 */
public final class MultiCoreTable {
    private MultiCoreTable() {}

    /** The concurrency the goal is stated at. */
    static final int THREADS = 256;
    /** The label of the park/unpark row. */
    static final String PARK_UNPARK = "FlexSC green threads, park + unpark, no system call";

    /** One row: calls/s and CPU per call (application side, syscall side; NaN where none), or a skip. */
    public record Row(String what, double callsPerSecond, double appCpuNsPerCall, double syscallCpuNsPerCall, String skip) {}

    /** Measures the rows: direct, each syscall-core engine (EXCEPTIONLESS), the scheduler's park/unpark. */
    public static List<Row> run(double warmupSeconds, double seconds) throws Exception {
        List<Row> rows = new ArrayList<>();
        for (Variant v : List.of(Variant.DIRECT_FFM, Variant.FLEXSC_GREEN, Variant.IO_URING_SQPOLL_GREEN,
                Variant.KERNEL_MODULE_GREEN)) {
            Harness.Result r = Harness.measure(v, CallKind.WRITE64, THREADS, warmupSeconds, seconds);
            rows.add(new Row(v.label, r.callsPerSecond(), r.appCpuNsPerCall(), v.flexsc ? r.syscallCpuNsPerCall() : Double.NaN,
                    r.skipReason()));
        }
        rows.add(parkUnpark(warmupSeconds, seconds));
        return rows;
    }

    /**
     * {@value #THREADS} green threads in pairs on a FlexscRuntime (Variant.FLEXSC_GREEN's), each
     * op unparking its partner and parking: one park, one unpark and one switch per op, the
     * floor under any posted call's cost to the application core.
     */
    static Row parkUnpark(double warmupSeconds, double seconds) throws Exception {
        String why = Variant.FLEXSC_GREEN.unavailabilityCause();
        if (why != null) return new Row(PARK_UNPARK, Double.NaN, Double.NaN, Double.NaN, why);
        try (FlexscRuntime rt = Variant.FLEXSC_GREEN.openRuntime()) {
            // Each worker publishes itself (volatile set) before it reads its partner (volatile
            // get): of two partners, at least the second to publish sees the first and unparks
            // it, so no pair starts with both parked.
            AtomicReferenceArray<Thread> workers = new AtomicReferenceArray<>(THREADS);
            Harness.Window w = Harness.runWindow(THREADS, t -> () -> {
                workers.set(t, Thread.currentThread());
                Thread partner = workers.get(t ^ 1);
                if (partner != null) LockSupport.unpark(partner);
                LockSupport.park();
                return 0;
            }, (body, t) -> rt.threadFactory().newThread(body), t -> -1, warmupSeconds, seconds,
                    new Harness.ThreadCpuTracker(Variant.FLEXSC_GREEN.syscallThreadNames()), () -> null,
                    Harness.STOP_TIMEOUT_MILLIS, () -> {
                        // after the stop is published, one permit each: every worker's next park
                        // returns and it sees the stop, though its partner has left
                        for (int i = 0; i < THREADS; i++) {
                            Thread x = workers.get(i);
                            if (x != null) LockSupport.unpark(x);
                        }
                    });
            if (w.failure() != null) throw new IllegalStateException("park/unpark failed", w.failure());
            if (w.stuck() > 0) throw new IllegalStateException(w.stuck() + " park/unpark workers did not stop");
            return new Row(PARK_UNPARK, w.calls() / (w.nanos() / 1e9), (double) (w.processCpu() - w.syscallCpu()) / w.calls(),
                    Double.NaN, null);
        }
    }

    /** The rows as a table, with each row's application CPU against the direct write's. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder("multi-core mode: 64-byte writes to /dev/null from " + THREADS
                + " threads, every FlexSC call posted (EXCEPTIONLESS) and run on the syscall core\n");
        String fmt = "%-55s %14s %16s %20s %12s%n";
        sb.append(String.format(Locale.ROOT, fmt, "variant", "calls/s", "app CPU ns/call", "syscall CPU ns/call",
                "app vs direct"));
        double direct = rows.stream().filter(r -> r.what().equals(Variant.DIRECT_FFM.label) && r.skip() == null)
                .mapToDouble(Row::appCpuNsPerCall).findFirst().orElse(Double.NaN);
        for (Row r : rows) {
            if (r.skip() != null) {
                sb.append(String.format(Locale.ROOT, fmt, r.what(), "skipped", "-", "-", "-"));
                continue;
            }
            sb.append(String.format(Locale.ROOT, fmt, r.what(), String.format(Locale.ROOT, "%,.0f", r.callsPerSecond()),
                    String.format(Locale.ROOT, "%.0f", r.appCpuNsPerCall()),
                    Double.isNaN(r.syscallCpuNsPerCall()) ? "-" : String.format(Locale.ROOT, "%.0f", r.syscallCpuNsPerCall()),
                    String.format(Locale.ROOT, "%.2fx", r.appCpuNsPerCall() / direct)));
        }
        for (Row r : rows) if (r.skip() != null) sb.append("skipped: ").append(r.what()).append(": ").append(r.skip()).append('\n');
        sb.append("goal (issue 14): a posted write's application CPU <= 0.7x of the direct write's; the park + unpark row is"
                + " the scheduler's floor under it.\n");
        return sb.toString();
    }
}
