package dev.flexsc.threads;

import dev.flexsc.jfr.BatchReaped;
import dev.flexsc.spi.PendingCall;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One carrier's counters and its {@link BatchReaped} events. Written by the carrier's own OS
 * thread only (plain increments, nothing allocated unless a JFR recording wants the event);
 * read racily by {@link FlexscScheduler#stats()} and {@link FlexscStats}, as statistics. The
 * sleep counters are the exception: they are published with release stores so that a reader
 * never sees a sleep counted without its idle time, or counted twice.
 */
final class CarrierStats {
    private static final VarHandle SLEEP_START, IDLE_NANOS, SLEEPS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SLEEP_START = l.findVarHandle(CarrierStats.class, "sleepStart", long.class);
            IDLE_NANOS = l.findVarHandle(CarrierStats.class, "idleNanos", long.class);
            SLEEPS = l.findVarHandle(CarrierStats.class, "sleeps", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Reaped-batch sizes in log2 buckets: 1, 2-3, 4-7, ..., 128+. */
    static final int REAP_BUCKETS = 8;

    private final FlexscScheduler scheduler;
    /** Continuations run, taken from another carrier, and sleeps announced but not taken (work found on the recheck). */
    long dispatches, steals, spinWakes;
    /** Polls of the carrier's calls (its contexts and pending page-engine calls), on the budget or idle. */
    long polls;
    /**
     * Calls whose completion this carrier reaped for a parked owner (its own contexts' and the
     * page engines' watched calls), and the batches they came in.
     */
    private long reaped, reapBatches;
    private final long[] reapSizes = new long[REAP_BUCKETS];
    /** Sleeps taken and the time spent in them (release stores, see {@link #sleepEnded}). */
    @SuppressWarnings("unused")
    private long sleeps, idleNanos;
    /**
     * nanoTime when the sleep in progress began, 0 when awake: lets {@link #reapCounters()}
     * count a sleep that has not ended yet (an idle carrier may sleep for seconds).
     */
    @SuppressWarnings("unused")
    private long sleepStart;

    CarrierStats(FlexscScheduler scheduler) {
        this.scheduler = scheduler;
    }

    /** Calls reaped so far (carrier thread: exact; others: racy). */
    long reaped() {
        return reaped;
    }

    /** Carrier thread: a sleep begins; returns its start for {@link #sleepEnded}. */
    long sleepBegins() {
        long t0 = System.nanoTime(); // idle time: only around the sleep, never on the run path
        // Start, then the count, both released: a reader that sees this sleep counted
        // (acquire in counters()) sees its start too, so no sleep shows without idle time
        // (the MXBean's CarrierSleeps and CarrierIdleNanos).
        SLEEP_START.setRelease(this, t0 == 0 ? 1 : t0);
        SLEEPS.setRelease(this, sleeps + 1);
        return t0;
    }

    /** Carrier thread: the sleep that began at {@code t0} ended. */
    void sleepEnded(long t0) {
        // Clear the start before adding the sleep (release): a reader that sees the new total
        // then sees the start cleared, so it never counts one sleep twice (it may miss the
        // ending one for an instant instead).
        SLEEP_START.setRelease(this, 0L);
        IDLE_NANOS.setRelease(this, idleNanos + (System.nanoTime() - t0));
    }

    /**
     * Carrier thread: one reaped batch of {@code fired} calls, with {@code stillPending} left.
     * With {@code jfr} (a recording wants {@link BatchReaped}) also the event: {@code first}
     * names its engine and group ({@code mixedGroups}: -1), {@code oldestWatchedAt} its latency.
     */
    void batchReaped(int fired, int stillPending, PendingCall first, boolean jfr, boolean mixedGroups,
                     long oldestWatchedAt) {
        reaped += fired;
        reapBatches++;
        reapSizes[Math.min(REAP_BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(fired))]++; // log2 buckets
        if (jfr) {
            BatchReaped e = new BatchReaped();
            e.engine = first.engine() != null ? first.engine().name() : scheduler.config().engine().name();
            e.group = mixedGroups ? -1 : first.group();
            e.size = fired;
            e.stillPending = stillPending;
            e.latency = oldestWatchedAt == Long.MAX_VALUE ? 0 : System.nanoTime() - oldestWatchedAt;
            e.commit();
        }
    }

    /** Carrier thread: {@code n} calls completed on the carrier's own contexts (a poll or an idle). */
    void contextReaped(int n) {
        reaped += n;
        reapBatches++;
        reapSizes[Math.min(REAP_BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(n))]++; // log2 buckets
    }

    /** Continuations run so far (racy plain read from other threads: the monitor's hint). */
    long dispatchCount() {
        return dispatches;
    }

    /** A snapshot: dispatches, reaped, sleeps, steals, spin wakes (racy plain reads). */
    long[] counters() {
        long slept = (long) SLEEPS.getAcquire(this); // pairs with the release in sleepBegins()
        return new long[] {dispatches, reaped, slept, steals, spinWakes};
    }

    /**
     * Batches reaped, time asleep (ns, including the sleep in progress), then the batch-size
     * buckets (racy plain reads: statistics only).
     */
    long[] reapCounters() {
        long[] r = new long[2 + REAP_BUCKETS];
        r[0] = reapBatches;
        // Acquire of the total first, then of the start (see sleepEnded): a total that already
        // holds the ending sleep comes with its start cleared, so no sleep counts twice.
        long idleSoFar = (long) IDLE_NANOS.getAcquire(this);
        long start = (long) SLEEP_START.getAcquire(this);
        if (start != 0) idleSoFar += Math.max(0, System.nanoTime() - start);
        r[1] = idleSoFar;
        System.arraycopy(reapSizes, 0, r, 2, REAP_BUCKETS);
        return r;
    }
}
