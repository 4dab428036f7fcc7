package dev.flexsc.bench.soak;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The books of one soak run: every operation begun and how it ended, the faults injected,
 * and the violations of the invariants with a line each. An operation {@link Op#settle settles}
 * once; a second settlement is a duplicated completion, one never settled by the end is lost.
 * Thread-safe.
 *
 * <p>The counts travel from the child JVM to the parent as one line ({@link #encode()},
 * {@link #decode}); the violations as lines of their own ({@link #VIOLATION}).
 */
final class Ledger {
    /** How operations ended, and the invariants' breaches. */
    enum Count {
        /** Operations begun. */
        CALLS("calls"),
        /** Completed with the expected result. */
        OK("ok"),
        /** Failed in a way the injected fault explains (engine closed, interrupted, EMFILE, EAGAIN, cancelled). */
        FAILED_EXPECTED("failed as expected"),
        // ---- violations ----
        /** Never settled by the end of the run. */
        LOST("lost"),
        /** Settled twice (a second result or a second completion of a future). */
        DUPLICATED("duplicated"),
        /** A result that is not the call's own (wrong value, wrong bytes): a completion delivered to the wrong caller. */
        WRONG("wrong result"),
        /** An exception no injected fault explains. */
        ERRORS("unexpected error"),
        /** A buffer changed after its call returned to the caller. */
        LATE_WRITES("late writes"),
        /** Guard bytes around a buffer changed (a write outside it). */
        OVERRUNS("overruns"),
        /** An operation past its liveness bound. */
        HANGS("hangs");

        final String label;

        Count(String label) {
            this.label = label;
        }

        boolean isViolation() {
            return ordinal() >= LOST.ordinal();
        }
    }

    /** The faults injected, each counted where it is made. */
    enum Fault {
        STUCK_UFFD_READ("stuck read", "reads into a userfaultfd page (asleep in the kernel until the page is filled)"),
        STUCK_UFFD_POPULATE("stuck populate", "madvise(MADV_POPULATE_WRITE) of a userfaultfd page (same; no signal ends it)"),
        BLOCKED_PIPE("blocked pipe", "reads of a pipe with no data (until written, interrupted or closed)"),
        ENGINE_CLOSES("closes", "engines closed mid-flight"),
        CALLS_AT_CLOSE("calls at close", "calls in flight at those closes"),
        CQ_OVERFLOW_ROUNDS("CQ rounds", "rounds with a CQ of 64 entries and 128 calls in flight"),
        CQ_OVERFLOW_FLUSHES("CQ flushes", "CQ overflow flushes the engine counted in them"),
        INTERRUPTS("interrupts", "Thread.interrupt() of a worker, platform or green"),
        CANCELS("cancels", "Future.cancel(true) of a pool task, or a batch closed unsent"),
        ENTRY_EXHAUSTION_THREADS("crowd", "green threads queued for a free entry"),
        EMFILE("EMFILE", "calls that failed with EMFILE, no descriptor left"),
        THREAD_LIMIT_REFUSALS("thread refusals", "engine, scheduler or pool starts refused, no thread left");

        /** The column heading. */
        final String label;
        /** What one count is. */
        final String meaning;

        Fault(String label, String meaning) {
            this.label = label;
            this.meaning = meaning;
        }
    }

    static final String LINE = "SOAK-LEDGER", VIOLATION = "SOAK-VIOLATION";
    private static final int MAX_VIOLATION_LINES = 40;

    private final Map<Count, LongAdder> counts = new EnumMap<>(Count.class);
    private final Map<Fault, LongAdder> faults = new EnumMap<>(Fault.class);
    private final AtomicLong ids = new AtomicLong();
    /** Operations begun and not settled: the watchdog's view. */
    final Map<Long, Op> inFlight = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicInteger violationLines = new AtomicInteger();

    Ledger() {
        for (Count c : Count.values()) counts.put(c, new LongAdder());
        for (Fault f : Fault.values()) faults.put(f, new LongAdder());
    }

    /** Begins an operation whose liveness bound is {@code boundNanos}; settle it exactly once. */
    Op begin(String kind, long boundNanos) {
        Op op = new Op(this, ids.incrementAndGet(), kind, boundNanos);
        counts.get(Count.CALLS).increment();
        inFlight.put(op.id, op);
        return op;
    }

    void count(Count c) {
        counts.get(c).increment();
    }

    void fault(Fault f) {
        faults.get(f).increment();
    }

    void fault(Fault f, long n) {
        faults.get(f).add(n);
    }

    long get(Count c) {
        return counts.get(c).sum();
    }

    long get(Fault f) {
        return faults.get(f).sum();
    }

    /** Records a violation of kind {@code c} with its description (the first few are kept as lines). */
    void violation(Count c, String what) {
        counts.get(c).increment();
        if (violationLines.incrementAndGet() <= MAX_VIOLATION_LINES) {
            violations.add(c.label + ": " + what);
            System.err.println("soak: VIOLATION " + c.label + ": " + what);
        }
    }

    long violationCount() {
        long n = 0;
        for (Count c : Count.values()) if (c.isViolation()) n += get(c);
        return n;
    }

    List<String> violations() {
        return new ArrayList<>(violations);
    }

    /** Every operation still in flight is lost. Call once, at the end, after every worker was given its bound. */
    void closeBooks() {
        for (Op op : inFlight.values()) {
            violation(Count.LOST, op + " never returned");
        }
        inFlight.clear();
    }

    /** One line: {@code SOAK-LEDGER calls=N ok=N ... STUCK_UFFD_READ=N ...}. */
    String encode() {
        StringBuilder b = new StringBuilder(LINE);
        for (Count c : Count.values()) b.append(' ').append(c.name()).append('=').append(get(c));
        for (Fault f : Fault.values()) b.append(' ').append(f.name()).append('=').append(get(f));
        return b.toString();
    }

    /** The counts of an {@link #encode()}d line (unknown names ignored, missing ones 0). */
    static Map<String, Long> decode(String line) {
        Map<String, Long> m = new java.util.HashMap<>();
        for (String kv : line.substring(LINE.length()).trim().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) m.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
        }
        return m;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d calls, %d ok, %d failed as expected, %d violations",
                get(Count.CALLS), get(Count.OK), get(Count.FAILED_EXPECTED), violationCount());
    }
}
