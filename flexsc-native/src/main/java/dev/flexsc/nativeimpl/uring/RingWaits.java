package dev.flexsc.nativeimpl.uring;

import dev.flexsc.EngineClosedException;
import dev.flexsc.Errno;
import dev.flexsc.spi.CancelScope;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How a caller waits for its call on a ring, until the result its system call would return:
 * <ul>
 * <li><b>A green thread</b> of the M:N scheduler writes its SQE into its carrier's own ring
 *     and parks; the carrier submits it with its next kernel entry, reaps the CQE and unparks
 *     the thread onto its own run queue. No other thread takes part.</li>
 * <li><b>Any other thread</b> borrows a platform ring and submits and waits on it in one
 *     {@code io_uring_enter} (SQPOLL: it spins {@link dev.flexsc.FlexscConfig#callerSpin()}
 *     reaping first, since the polling thread submits for it), in slices of
 *     {@link #PLATFORM_WAIT_SLICE_NANOS}.</li>
 * </ul>
 * Either way an interrupt of a call that may block without bound, or the cancel of the
 * {@link CancelScope} it runs in (a channel's close), cancels it (IORING_OP_ASYNC_CANCEL,
 * repeated every {@link #RECANCEL_NANOS} until the call completes, unless the last one still
 * waits in the SQ: {@link ConfinedRing#tryCancel}; a green thread that resumed on another
 * carrier asks the call's carrier to), and the call then returns
 * -EINTR, which {@link dev.flexsc.Syscalls} turns into {@link java.io.InterruptedIOException}
 * (a channel into {@link java.nio.channels.AsynchronousCloseException}). A readiness wait with
 * a timeout ({@link UringCall#deadlineNanos}) is cancelled the same way once its deadline
 * passed, and its -ECANCELED is left for {@link UringEngine#awaitReady} to read as a timeout.
 * A call the engine's close cancelled fails with
 * {@link EngineClosedException}. A call whose SQE is in a ring is always waited for to its
 * CQE: the memory it was given stays the caller's until the kernel is done with it.
 */
final class RingWaits {
    /** How often a call whose cancel did not take yet is cancelled again. */
    static final long RECANCEL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * How long a platform thread waits in the kernel before it looks at its interrupt status,
     * its {@link CancelScope} and the engine's close: none of them can end an io_uring_enter,
     * so this bounds how late they are noticed. 50 ms: 20 kernel entries a second for a
     * thread blocked in a read, a tenth of the 2 s that the interrupt tests allow.
     */
    static final long PLATFORM_WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** A waiter's park while its cancel has not taken yet (it cancels again after RECANCEL_NANOS). */
    static final long CANCELLING_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final UringEngine engine;
    private final PlatformRings platform;
    private final UringCounters counters;
    private final int callerSpin;

    /** Green threads continue a call (TransferRules) on whichever carrier they now run. */
    private final TransferRules.Ring onCarrier = new TransferRules.Ring() {
        @Override
        public long await(UringCall c) throws IOException {
            return awaitOnCarrier(c);
        }

        @Override
        public void resubmit(UringCall c) throws IOException {
            counters.resubmits.increment();
            postOnCarrier(c);
        }
    };

    RingWaits(UringEngine engine, PlatformRings platform, int callerSpin) {
        this.engine = engine;
        this.platform = platform;
        this.counters = engine.counters();
        this.callerSpin = callerSpin;
    }

    /** Posts prepared call {@code c} from the calling thread and waits for its whole result. */
    long run(UringCall c) throws IOException {
        if (engine.currentCarrierRing() != null) {
            postOnCarrier(c);
            return TransferRules.awaitWhole(c, onCarrier);
        }
        ConfinedRing r = platform.borrow(c.name());
        try {
            postOnPlatform(r, c);
            return TransferRules.awaitWhole(c, onPlatform(r));
        } finally {
            platform.giveBack(r);
        }
    }

    // ---- green threads ----

    /**
     * Writes {@code c} into the calling green thread's carrier's ring. While every request
     * slot of the ring is in flight it reaps, and lets the carrier run the others meanwhile.
     *
     * @throws EngineClosedException if the engine closed (the ring closes or has closed)
     */
    void postOnCarrier(UringCall c) throws IOException {
        while (true) {
            CarrierRing ring = engine.currentCarrierRing();
            // Checked on the carrier's thread, where the ring also closes: no race with it.
            if (ring == null || ring.refusesCalls() || !engine.isOpen()) {
                throw new EngineClosedException(c.name() + ": the engine is closed");
            }
            if (ring.post(c)) return;
            // No slot, or no room in the SQ: reap, then yield only now that this thread holds
            // nothing of the ring (it may resume on another carrier: the ring is looked up again).
            if (ring.poll() == 0) Thread.yield(); // the carrier runs the others; their completions free slots
        }
    }

    /**
     * A green thread's wait for {@code c}, posted on its carrier's ring: park until the
     * carrier reaps the call (it unparks the thread once it announced its park).
     */
    long awaitOnCarrier(UringCall c) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                while (!c.isDone()) { // acquire: pairs with the release in complete()
                    if (Thread.interrupted()) interrupted = true;
                    boolean mayBlock = mayBlock(c);
                    boolean cancelling = mayBlock && (interrupted || CancelScope.requested() || c.pastDeadline());
                    if (cancelling) cancel(c);
                    c.setParked(true);
                    CancelScope scope = mayBlock && !cancelling ? CancelScope.parking() : null;
                    try {
                        // Re-check after announcing the park: complete() stores DONE, then reads
                        // parked; and the scope's flag after registering with it (Dekker with
                        // CancelScope.cancel(), which sets it, then unparks the registered).
                        if (!c.isDone()) {
                            counters.callerParks.increment();
                            if (cancelling) LockSupport.parkNanos(this, CANCELLING_PARK_NANOS);
                            else if (scope == null || !scope.isCancelled()) parkToDeadline(c);
                        }
                    } finally {
                        c.setParked(false);
                        if (scope != null) scope.unparked();
                    }
                }
                long r = settled(c, interrupted);
                if (r != RESUBMIT) return r;
                postOnCarrier(c);
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Parks until unparked, or until {@code c}'s deadline if it has one (a timed readiness wait). */
    private void parkToDeadline(UringCall c) {
        long left = c.nanosToDeadline();
        if (left == 0) LockSupport.park(this);
        else LockSupport.parkNanos(this, left);
    }

    /** Cancels {@code c} if no cancel was asked for in the last {@link #RECANCEL_NANOS}. */
    void cancel(UringCall c) {
        long now = System.nanoTime();
        if (c.cancelRequested && now - c.lastCancelNanos < RECANCEL_NANOS) return;
        c.cancelRequested = true;
        c.lastCancelNanos = now;
        ConfinedRing home = c.ring;
        if (home instanceof CarrierRing cr) {
            if (cr == engine.currentCarrierRing()) cr.cancelHere(c); // on its own carrier: at once, if the SQ has room
            else cr.requestCancel(c); // resumed elsewhere: the call's carrier does it
        } else if (home != null && !home.tryCancel(c)) {
            // A platform ring (its borrower is this thread) with a full SQ: the waiter's next look cancels.
            c.lastCancelNanos = now - RECANCEL_NANOS;
        }
    }

    /** A green thread's whole result of {@code c}, already posted (a batch's call, after the batch's wait). */
    long continueOnCarrier(UringCall c) throws IOException {
        return TransferRules.awaitWhole(c, onCarrier);
    }

    /** A platform thread's whole result of {@code c}, posted on its borrowed ring {@code r}. */
    long continueOnPlatform(ConfinedRing r, UringCall c) throws IOException {
        return TransferRules.awaitWhole(c, onPlatform(r));
    }

    // ---- platform threads ----

    private TransferRules.Ring onPlatform(ConfinedRing r) {
        return new TransferRules.Ring() {
            @Override
            public long await(UringCall c) throws IOException {
                return awaitOnPlatform(r, c);
            }

            @Override
            public void resubmit(UringCall c) throws IOException {
                counters.resubmits.increment();
                postOnPlatform(r, c);
            }
        };
    }

    /** Writes {@code c} into borrowed ring {@code r}; while every slot is in flight, waits for completions. */
    void postOnPlatform(ConfinedRing r, UringCall c) {
        while (!r.post(c)) {
            r.submitAndWait(PLATFORM_WAIT_SLICE_NANOS);
            r.reap();
        }
    }

    /**
     * A platform thread's wait for {@code c} on its borrowed ring: submit and wait in one
     * kernel entry (SQPOLL: spin reaping first), reap, and between slices look at the
     * interrupt status and the engine's close.
     */
    long awaitOnPlatform(ConfinedRing r, UringCall c) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                if (r.isSqpoll()) {
                    r.submit();
                    for (int i = 0; i < callerSpin && !c.isDone(); i++) {
                        if ((i & 7) == 0) r.reap();
                        Thread.onSpinWait();
                    }
                }
                while (!c.isDone()) {
                    if (Thread.interrupted()) interrupted = true;
                    boolean scoped = CancelScope.requested();
                    boolean timedOut = c.pastDeadline();
                    boolean cancelling = (interrupted || scoped || timedOut || !engine.isOpen()) && mayBlock(c);
                    if (cancelling) {
                        if (!interrupted && !scoped && !timedOut) c.cancelledByClose = true;
                        cancel(c);
                    }
                    counters.callerParks.increment();
                    long slice = c.deadlineNanos == 0 ? PLATFORM_WAIT_SLICE_NANOS
                            : Math.min(PLATFORM_WAIT_SLICE_NANOS, c.nanosToDeadline());
                    r.submitAndWait(cancelling ? CANCELLING_PARK_NANOS : slice);
                    r.reap();
                }
                long res = settled(c, interrupted);
                if (res != RESUBMIT) return res;
                postOnPlatform(r, c);
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Waits for every call of {@code r} in flight now to complete (a platform batch's wait). */
    void awaitAllOnPlatform(ConfinedRing r, UringCall[] cs) {
        boolean interrupted = false;
        while (r.inFlight() > 0) {
            if (Thread.interrupted()) interrupted = true;
            boolean scoped = CancelScope.requested();
            boolean cancelAll = interrupted || scoped || !engine.isOpen();
            if (cancelAll) {
                for (UringCall c : cs) {
                    if (c != null && c.ring == r && mayBlock(c) && !c.isDone()) {
                        if (!interrupted && !scoped) c.cancelledByClose = true;
                        cancel(c);
                    }
                }
            }
            counters.callerParks.increment();
            r.submitAndWait(cancelAll ? CANCELLING_PARK_NANOS : PLATFORM_WAIT_SLICE_NANOS);
            r.reap();
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    // ---- results ----

    /** {@link #settled}'s answer: the kernel cancelled the call on its own; post it again. */
    static final long RESUBMIT = Long.MIN_VALUE;

    /**
     * The result of completed call {@code c} as its caller sees it: -ECANCELED of a call an
     * interrupt cancelled becomes -EINTR, of one the engine's close cancelled an
     * {@link EngineClosedException}; one nobody asked to cancel (the kernel cancels io-wq work
     * when the thread that submitted it exits) is {@link #RESUBMIT}ted, re-armed.
     */
    long settled(UringCall c, boolean interrupted) throws IOException {
        long r = c.result();
        if (r == -Errno.ECANCELED && c.call != null) {
            if (c.cancelledByClose) {
                throw new EngineClosedException(c.name() + ": cancelled because the engine was closed");
            }
            if (interrupted || Thread.currentThread().isInterrupted() || CancelScope.requested()) {
                // Syscalls turns this into InterruptedIOException (or, for a channel's close,
                // the channel into AsynchronousCloseException), as with SYSCALL_THREADS.
                return -Errno.EINTR;
            }
            if (!c.cancelRequested && !!engine.isOpen()) {
                counters.resubmits.increment();
                c.rearm();
                return RESUBMIT;
            }
        }
        return r;
    }

    static boolean mayBlock(UringCall c) {
        return c.call != null && c.call.mayBlock();
    }
}
