package dev.flexsc.nativeimpl.uring;

import dev.flexsc.abi.SyscallTable;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** The io_uring engines' counters, in one place (read by {@link UringEngine#uringStats()}). Thread-safe. */
final class UringCounters {
    final LongAdder submitted = new LongAdder();
    final LongAdder completed = new LongAdder();
    final LongAdder submitEnters = new LongAdder();
    final LongAdder waitEnters = new LongAdder();
    final LongAdder sqThreadSleeps = new LongAdder();
    final LongAdder sqWakeups = new LongAdder();
    final LongAdder callerParks = new LongAdder();
    final LongAdder overflowFlushes = new LongAdder();
    final LongAdder sqFullWaits = new LongAdder();
    final LongAdder cancels = new LongAdder();
    final LongAdder resubmits = new LongAdder();
    /** Eventfd writes that woke a sleeping carrier (or its next sleep). */
    final LongAdder carrierWakes = new LongAdder();
    /** io_uring_enter calls that failed unexpectedly (the SQEs stay queued and go with the next entry). */
    final LongAdder machineryFailures;
    /** Calls with no ring operation (or whose shape the ring would not run as the syscall) made directly. */
    private final LongAdder[] directCalls = new LongAdder[SyscallTable.NR_LIMIT];
    /** The sum of {@link #directCalls}: posted by the call policy, made directly by the engine. */
    final LongAdder directTotal = new LongAdder();
    private final LongAdder[] ringCalls = new LongAdder[SyscallTable.NR_LIMIT];
    private final LongAdder[] fallbackCalls = new LongAdder[SyscallTable.NR_LIMIT];

    /** Counters of their own (a ring that belongs to no engine: the probe's). */
    UringCounters() {
        this(new LongAdder());
    }

    /** @param machineryFailures the engine's count of machinery failures, which these add to */
    UringCounters(LongAdder machineryFailures) {
        this.machineryFailures = machineryFailures;
        for (SyscallTable.Call c : SyscallTable.all().values()) {
            ringCalls[c.nr()] = new LongAdder();
            fallbackCalls[c.nr()] = new LongAdder();
            directCalls[c.nr()] = new LongAdder();
        }
    }

    /** A call ran on the ring (once per call, however many SQEs it took). */
    void ranOnRing(int nr) {
        ringCalls[nr].increment();
    }

    /** A call ran on the SYSCALL_THREADS fallback. */
    void ranOnFallback(int nr) {
        fallbackCalls[nr].increment();
    }

    /** A call the ring has no operation for (or would not run as the syscall) was made directly. */
    void ranDirectly(int nr) {
        directCalls[nr].increment();
        directTotal.increment();
    }

    /**
     * A readiness wait made directly (poll(2) on a thread with no carrier ring): in the per-call
     * counts, but not in {@link #directTotal}, which counts the calls the call policy posted.
     */
    void madeDirectly(int nr) {
        directCalls[nr].increment();
    }

    /** Per call name, calls the engine made directly instead of posting them (no ring operation). */
    Map<String, Long> directCalls() {
        return byName(directCalls);
    }

    /** Per call name, calls that ran on the ring. */
    Map<String, Long> ringCalls() {
        return byName(ringCalls);
    }

    /** Per call name, calls that ran on the fallback. */
    Map<String, Long> fallbackCalls() {
        return byName(fallbackCalls);
    }

    private static Map<String, Long> byName(LongAdder[] counts) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (SyscallTable.Call c : SyscallTable.all().values()) {
            long n = counts[c.nr()].sum();
            if (n > 0) m.put(c.name(), n);
        }
        return m;
    }
}
