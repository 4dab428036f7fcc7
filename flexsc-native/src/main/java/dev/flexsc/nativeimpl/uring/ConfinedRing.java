package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.flexsc.Errno.ETIME;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * One io_uring ring with one owner at a time: its submission queue, completion queue and
 * request table, and the kernel entries that submit and wait. A carrier's ring
 * ({@link CarrierRing}) is owned by the carrier's OS thread for its whole life (another
 * carrier reaps it only while it is held, taking its use by CAS: see there); a platform ring
 * ({@link PlatformRings}) by the thread that borrowed it, for one call or batch. One thread
 * touches it at a time, so nothing here takes a lock.
 *
 * <p>IO_URING: SQEs wait in the ring until the owner's next {@code io_uring_enter}, which
 * submits them all at once ({@link #submit()}, {@link #submitAndWait(long)}). SQPOLL: the
 * engine's polling thread takes them; the owner only wakes it when it went to sleep.
 */
class ConfinedRing {
    /** user_data of a carrier's wake-up read of its eventfd: never a call's. */
    static final long WAKE_USER_DATA = -1L;
    /** user_data of an IORING_OP_ASYNC_CANCEL: its own CQE is ignored (the target's says what happened). */
    static final long CANCEL_USER_DATA = -2L;

    final IoUring ring;
    final SubmissionQueue sq;
    final CompletionQueue cq;
    final RequestTable table;
    final UringCounters counters;
    private final boolean sqpoll;
    /** The ring reports pending completion work in SQ_TASKRUN (see {@link RingSetup}). */
    private final boolean taskrunFlag;
    private final Arena arena = Arena.ofShared();
    /** io_uring_getevents_arg + timespec of the owner's waits (one owner at a time). */
    private final MemorySegment waitScratch = arena.allocate(IoUring.WAIT_SCRATCH_SIZE, 8);
    private final CompletionQueue.Dispatcher dispatcher = this::dispatch;
    /** Set once the ring is unmapped (by its owner, or after the owner is gone); volatile for the engine's list of its descriptors. */
    private volatile boolean released;

    ConfinedRing(IoUring ring, boolean sqpoll, boolean taskrunFlag, UringCounters counters) {
        this.ring = ring;
        this.sqpoll = sqpoll;
        this.taskrunFlag = taskrunFlag;
        this.counters = counters;
        this.sq = new SubmissionQueue(ring);
        this.cq = new CompletionQueue(ring, counters);
        this.table = new RequestTable(ring.sqEntries + ring.cqEntries);
    }

    /** Calls in flight here (a racy read from other threads: statistics only). */
    final int inFlight() {
        return table.inFlight();
    }

    /**
     * Registers {@code c} and writes its SQE, handing the queued SQEs to the kernel first if
     * the SQ is full. Returns false if every request slot is in flight, or the SQ is still
     * full after that (SQPOLL: the polling thread has not consumed it yet): the caller reaps
     * or waits, and tries again.
     *
     * <p>Never yields: a green thread that posts on its carrier's ring stays on that carrier
     * from the first write into the ring to the last. Were it to yield here it could resume on
     * another carrier (a steal) and go on writing this ring from that carrier's OS thread,
     * beside this ring's own carrier: two producers of one SQ and two consumers of one CQ
     * (SQEs overwritten, request slots given twice). A caller waits for room only where it
     * holds no ring (see {@code RingWaits}).
     */
    boolean post(UringCall c) {
        if (!sq.hasRoom() && !makeRoom()) return false;
        // No reap between the room seen above and the offer below: the offer cannot fail.
        if (!table.register(c)) return false;
        c.ring = this;
        if (!sq.offer(c)) throw new IllegalStateException(c.name() + ": the SQ filled up under its owner");
        if (c.call != null) {
            if (!c.counted) { // a call once, however many SQEs it takes (probe, short write)
                c.counted = true;
                counters.ranOnRing(c.call.nr());
            }
            counters.submitted.increment();
        }
        return true;
    }

    /**
     * Writes IORING_OP_ASYNC_CANCEL for {@code target} if it is in flight here. Returns false
     * if the SQ has no room for it even after {@link #makeRoom()} (the caller asks again later);
     * true once written, if a cancel of it still waits in the SQ, or if there is nothing to
     * cancel here. Never yields (see {@link #post}).
     */
    final boolean tryCancel(UringCall target) {
        if (target.ring != this || target.isDone()) return true;
        // Its last cancel has not reached the kernel yet (SQPOLL: the polling thread has not
        // run; it may not for seconds on a loaded CPU): another would only take an SQ slot, and
        // a waiter that cancels again every RECANCEL_NANOS would fill the SQ for every caller.
        if (sq.holdsUnconsumed(CANCEL_USER_DATA, target.userData)) return true;
        if (!sq.hasRoom() && !makeRoom()) return false;
        counters.cancels.increment();
        return sq.offer((byte) OP_ASYNC_CANCEL, (short) 0, -1, 0, target.userData, 0, 0, CANCEL_USER_DATA, 0);
    }

    /**
     * The SQ is full: IO_URING submits what is queued; SQPOLL wakes the poller. Reaps too: a
     * CQ overflow backlog makes the kernel refuse submissions (EBUSY) until it is flushed.
     * Returns true if the SQ has room now. Never waits and never yields (see {@link #post}).
     */
    final boolean makeRoom() {
        counters.sqFullWaits.increment();
        submit();
        reap();
        return sq.hasRoom();
    }

    /**
     * Hands the queued SQEs to the kernel and runs the completion work waiting for this task,
     * without waiting: IO_URING one {@code io_uring_enter} (none if nothing is queued and the
     * ring reports no pending completion work); SQPOLL a wake-up of the polling thread if it
     * sleeps. Returns false if the kernel refused the entry for now (it is retried later: the
     * SQEs stay queued).
     */
    final boolean submit() {
        if (sqpoll) return wakePollerIfAsleep(0);
        int queued = sq.queued();
        int flags = taskrunFlag && (ring.sqFlags() & SQ_TASKRUN) != 0 ? ENTER_GETEVENTS : 0;
        if (queued == 0 && flags == 0) return true;
        long r = ring.enter(queued, 0, flags);
        return entered(queued, r, false);
    }

    /**
     * Submits what is queued and waits in the kernel until at least one completion is in the
     * CQ, or {@code timeoutNanos} pass, in one {@code io_uring_enter} (IO_URING; SQPOLL only
     * waits, after waking the polling thread if SQEs wait for it). An entry the kernel
     * refuses (the queued SQEs stay queued for the next one) returns after a pause of
     * {@link #FAILED_ENTER_PAUSE_NANOS} at most, so that a waiter never spins on it.
     */
    final void submitAndWait(long timeoutNanos) {
        int queued = sqpoll ? 0 : sq.queued();
        int wake = sqpoll ? sqpollWakeFlag() : 0;
        long r = ring.enterWait(queued, 1, Math.max(1, timeoutNanos), waitScratch, wake);
        counters.waitEnters.increment();
        if (!entered(queued, r, true)) {
            java.util.concurrent.locks.LockSupport.parkNanos(this, Math.min(timeoutNanos, FAILED_ENTER_PAUSE_NANOS));
        }
    }

    /** The pause after a waiting io_uring_enter the kernel refused (EBUSY, or a descriptor that is no longer the ring). */
    static final long FAILED_ENTER_PAUSE_NANOS = 1_000_000L;

    /** Books an io_uring_enter's result: what it took from the SQ, and unexpected failures. */
    private boolean entered(int queued, long r, boolean waited) {
        if (queued > 0) {
            counters.submitEnters.increment();
            sq.syncQueued();
        }
        if (r >= 0 || r == -ETIME || r == -Errno.EINTR) return true;
        if (r == -Errno.EBUSY || r == -Errno.EAGAIN) {
            // CQ overflow backlog (old kernels) or no memory for requests: the owner reaps
            // (which flushes the overflow) and the SQEs go in with its next entry.
            return false;
        }
        counters.machineryFailures.increment();
        return false;
    }

    /** SQPOLL: the ENTER_SQ_WAKEUP flag if SQEs wait and the polling thread sleeps, else 0. */
    private int sqpollWakeFlag() {
        if (sq.unconsumed() == 0) return 0;
        // Full fence: our release store of the SQ tail is ordered before the load of the
        // flags; the polling thread sets NEED_WAKEUP, issues a full barrier and re-reads the
        // tail before sleeping. So either it sees our tail, or we see its flag (liburing's
        // sq_ring_needs_enter does the same).
        VarHandle.fullFence();
        return (ring.sqFlags() & SQ_NEED_WAKEUP) != 0 ? ENTER_SQ_WAKEUP : 0;
    }

    /** SQPOLL: wakes the polling thread if SQEs wait for it and it sleeps. */
    private boolean wakePollerIfAsleep(int extraFlags) {
        int wake = sqpollWakeFlag();
        if (wake == 0) return true;
        counters.sqThreadSleeps.increment();
        long r = ring.enter(0, 0, wake | extraFlags);
        counters.sqWakeups.increment();
        return entered(0, r, false);
    }

    /**
     * The owner's thread, no system call: true if {@link #submit()} or {@link #reap()} would
     * do something now: SQEs queued (SQPOLL: not yet consumed by the polling thread), CQEs
     * posted, completion work flagged (SQ_TASKRUN) or CQEs overflowed. SQEs are queued only
     * by the ring's owner (a carrier's ring: by green threads mounted on its carrier; a
     * compensator only takes them back), so the owner's plain read of the count sees its
     * own; the ring words are acquire loads. May say true spuriously.
     */
    final boolean hasWork() {
        if (sqpoll ? sq.unconsumed() > 0 : sq.queued() > 0) return true;
        if (cq.posted()) return true;
        int watch = SQ_CQ_OVERFLOW | (taskrunFlag ? SQ_TASKRUN : 0);
        return (ring.sqFlags() & watch) != 0; // an acquire load of the kernel's flags word
    }

    /**
     * The owner's thread, no system call: true if completions wait, posted in the CQ or held
     * as completion work the kernel flagged (SQ_TASKRUN: with COOP_TASKRUN the kernel posts
     * them at the owner's next kernel entry, which a thread that only computes makes at its
     * next timer tick). Acquire loads of ring words; may say true spuriously.
     */
    final boolean completionsWaiting() {
        return cq.posted() || taskrunFlag && (ring.sqFlags() & SQ_TASKRUN) != 0;
    }

    /**
     * Reaps what {@link #completionsWaiting()} saw, submitting nothing: the flagged completion
     * work is run first (one {@code io_uring_enter(0, 0, GETEVENTS)}, only when flagged).
     * Returns CQEs reaped.
     */
    final int reapWaiting() {
        if (taskrunFlag && (ring.sqFlags() & SQ_TASKRUN) != 0) ring.enter(0, 0, ENTER_GETEVENTS);
        return reap();
    }

    /** Reaps the CQ: completes each call (unparking its owner) and gives its slot back. Returns CQEs reaped. */
    final int reap() {
        return cq.hasCqes() || (ring.sqFlags() & SQ_CQ_OVERFLOW) != 0 ? cq.drain(dispatcher) : 0;
    }

    /** One CQE: the ring's own (a wake-up read, a cancel's), or a call's. */
    void dispatch(long userData, int res) {
        if (userData == CANCEL_USER_DATA) return; // the target's own CQE says how it ended
        if (userData == WAKE_USER_DATA) {
            woken(res);
            return;
        }
        UringCall c = table.complete(userData);
        if (c == null) return; // not a call of this ring's (cannot happen: we write every user_data)
        if (c.call != null) counters.completed.increment();
        c.complete(res);
    }

    /** A CQE of the carrier's wake-up read (CarrierRing); platform rings have none. */
    void woken(int res) {
    }

    /**
     * Unmaps the ring and closes its descriptor: the kernel then cancels whatever is still
     * in flight. Owner only (or once the owner is gone); idempotent. The engine stops owning
     * the ring's descriptors ({@link #releasing()}) before they close, so that a file opened
     * with the freed number at once is never refused as the ring.
     */
    final void release() {
        if (released) return;
        released = true;
        releasing();
        ring.close();
        arena.close();
    }

    /** Called by {@link #release()} before the ring's descriptor closes: the engine forgets the ring. */
    void releasing() {
    }

    final boolean isReleased() {
        return released;
    }

    final boolean isSqpoll() {
        return sqpoll;
    }
}
