package dev.flexsc.nativeimpl.uring;

import dev.flexsc.ErrnoException;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.spi.CarrierContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * A carrier's own ring ({@link CarrierContext}): its green threads write their SQEs here and
 * park; the carrier submits them, reaps and unparks their owners in its loop, and sleeps here
 * when it has nothing to run, in one {@code io_uring_enter(to_submit, min_complete=1,
 * GETEVENTS)} that submits the round's calls too. Created on the carrier's OS thread, so that
 * with SINGLE_ISSUER (see {@link RingSetup}) the kernel binds it to that thread as its one
 * submitter and runs its completion work in that thread's task.
 *
 * <p>Waking it: the ring keeps a read of an eventfd of its own posted; any thread that
 * writes the eventfd ({@link #wake()}) completes that read, whose CQE ends the carrier's
 * wait (or its next one, at once: the count stays in the eventfd). The carrier posts the read
 * again after each. Other threads reach the ring only through {@link #wake()},
 * {@link #requestCancel} (a green thread that resumed elsewhere cancels its call through the
 * carrier), {@link #requestClose()} (the engine closes) and {@link #pollHeld} (below).
 *
 * <p>A held carrier's ring. A carrier that one green thread holds (computing, or in a direct
 * call: the scheduler's monitor finds it) runs no loop, so it neither submits what its other
 * threads posted nor reaps what completed. Its compensating carrier then takes the ring's
 * <em>use</em> ({@link #user}: 0 free, 1 taken) by CAS and, in {@link #pollHeld}: takes back
 * the SQEs the kernel has not consumed and posts their calls on its own ring (with
 * SINGLE_ISSUER only this ring's carrier may submit here, and a call submitted by another
 * thread would belong to that thread's life in the kernel: a compensator exits); reaps the
 * CQ, which needs no kernel entry, so its owners resume on the compensator. On SQPOLL the
 * polling thread submits for every ring, so the compensator only wakes it, and writes the
 * cancels asked for here (an interrupt of a call in the kernel here takes while the carrier
 * is held); on IO_URING such a cancel waits for the carrier. The completion
 * work of the calls still in flight here runs in the carrier's own task: carrier rings use
 * COOP_TASKRUN, not DEFER_TASKRUN (see {@link RingSetup}), so it runs at the carrier's next
 * return to user mode (a timer tick, within milliseconds) even while it computes, and posts
 * the CQEs there. The carrier's own thread takes the use for each of its accesses (a post, a
 * poll, an idle, a cancel, the close) and gives it back after: an uncontended CAS and a
 * release store. Each holder's plain accesses to the SQ, the CQ head, the request table and
 * the wake-up state happen before the release store that gives the use back, which pairs
 * with the next holder's CAS: no CQE is dispatched twice or lost, no slot given twice, and
 * a call is in exactly one ring's table. The carrier never yields or parks while it holds
 * the use (see {@link ConfinedRing#post}), and a compensator holds it for one poll, so the
 * carrier's wait for it is a short spin.
 */
final class CarrierRing extends ConfinedRing implements CarrierContext {
    private static final VarHandle WAKERS, USER;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WAKERS = l.findVarHandle(CarrierRing.class, "wakers", int.class);
            USER = l.findVarHandle(CarrierRing.class, "user", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The eventfd word a waker writes: 1 (read-only for the kernel; shared by every ring). */
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 1L);
    /**
     * Where every ring's wake-up read puts the eventfd's count (the kernel writes it; nobody
     * reads it). Never freed: a ring is closed with its wake-up read still armed, and the
     * read's end is the kernel's business after that, so its buffer must outlive every ring.
     */
    private static final MemorySegment WAKE_SINK = Arena.global().allocate(8, 8);
    /**
     * The longest sleep of a carrier whose wake-up read could not be armed (its SQ full: an
     * SQPOLL polling thread that does not consume): a wake-up then shows within this.
     */
    static final long UNARMED_SLEEP_NANOS = 1_000_000L;
    /** {@link #wakers}' bit for "the eventfd is closing": no new wake-up may use it. */
    private static final int WAKE_CLOSED = 1 << 30;

    private final UringEngine engine;
    private final Thread carrier;
    private final int eventfd;
    /**
     * Threads inside {@link #wake()} (their eventfd write), plus {@link #WAKE_CLOSED} once
     * closing: the eventfd is closed only when none is inside, so a late wake-up never writes
     * to a descriptor number that was reused.
     */
    @SuppressWarnings("unused")
    private volatile int wakers;
    /**
     * The ring's use: 0 free, 1 taken (by the carrier's thread for each access, or by a
     * compensator in {@link #pollHeld}). Taken by CAS, given back by a release store: see the
     * class comment.
     */
    @SuppressWarnings("unused")
    private volatile int user;
    /** True while a compensator holds the use in {@link #pollHeld} (written and read under the use). */
    private boolean reaping;
    /** Calls that green threads, now on other carriers, want cancelled (offered by them, polled by the carrier). */
    private final ConcurrentLinkedQueue<UringCall> cancels = new ConcurrentLinkedQueue<>();
    /** Set by the engine's close (volatile): the carrier closes the ring at its next poll. */
    private volatile boolean closeRequested;
    /** Carrier-private: closing (blocking calls cancelled, waiting for the rest), then closed. */
    private boolean closing, closed;
    /** The wake-up read is in the ring (carrier-private). */
    private boolean wakeArmed;
    /** The eventfd this ring notifies of its completions (a secondary context), or -1. */
    private int notifying = -1;

    private CarrierRing(UringEngine engine, Thread carrier, IoUring ring, int eventfd, boolean sqpoll, boolean taskrunFlag) {
        super(ring, sqpoll, taskrunFlag, engine.counters());
        this.engine = engine;
        this.carrier = carrier;
        this.eventfd = eventfd;
        armWake();
    }

    /**
     * Sets up the calling carrier's ring for {@code engine}: on the carrier's OS thread, which
     * the kernel then takes as the ring's one submitter. {@code carrier}: that OS thread (the
     * ring is an orphan only once it has ended: {@link #closeOrphan()}).
     */
    static CarrierRing open(UringEngine engine, Thread carrier, IoUring ring, boolean sqpoll, boolean taskrunFlag)
            throws ErrnoException {
        // A blocking eventfd: the ring's read waits for a write (an O_NONBLOCK one would have
        // io_uring complete the read with EAGAIN at once).
        long fd = DirectSyscalls.raw(SyscallTable.EVENTFD2, 0, EFD_CLOEXEC, 0, 0, 0, 0);
        if (fd < 0) {
            ring.close();
            throw new ErrnoException("eventfd2(0, EFD_CLOEXEC) for a carrier's ring", (int) -fd);
        }
        return new CarrierRing(engine, carrier, ring, (int) fd, sqpoll, taskrunFlag);
    }

    private static final int EFD_CLOEXEC = 02000000;

    /** The carrier thread this ring belongs to. */
    Thread carrier() {
        return carrier;
    }

    /**
     * Carrier's thread: takes the ring's use, spinning while a compensator holds it (for one
     * poll). The CAS is a volatile read-modify-write: it acquires what the last holder
     * released. Never yields (a green thread that posts must stay on its carrier).
     */
    private void take() {
        while (!USER.compareAndSet(this, 0, 1)) Thread.onSpinWait();
    }

    /** Gives the use back: a release store, so this holder's ring accesses happen before the next holder's CAS. */
    private void giveBack() {
        USER.setRelease(this, 0);
    }

    @Override
    boolean post(UringCall c) {
        take();
        try {
            return super.post(c);
        } finally {
            giveBack();
        }
    }

    /**
     * Posts the wake-up read unless it is armed: a read of the 8-byte count, which the kernel
     * polls until a write completes it. Armed while the ring closes too (a closing carrier
     * still sleeps here and must wake for new work). If the SQ has no room it stays unarmed
     * and the carrier's sleeps are short ({@link #UNARMED_SLEEP_NANOS}) until it is armed.
     */
    private void armWake() {
        if (wakeArmed || closed) return;
        if (!sq.hasRoom() && !makeRoom()) return;
        if (wakeArmed) return; // makeRoom reaped the previous read's CQE and armed it again
        offerWake();
    }

    /** The wake-up read into the SQ, if it has room (no submit, no reap). */
    private void offerWake() {
        wakeArmed = sq.offer((byte) OP_READ, (short) 0, eventfd, 0, WAKE_SINK.address(), 8, 0, WAKE_USER_DATA, 0);
    }

    @Override
    void woken(int res) {
        // Inside a drain of the CQ: no reap from here (a nested drain would read the CQEs the
        // outer one has not released yet). Armed again now if the SQ has room, else before
        // the next sleep (idle).
        wakeArmed = false;
        // A compensator leaves it unarmed: the carrier arms it again before it sleeps.
        if (!closed && !reaping) offerWake();
    }

    // ---- CarrierContext: the carrier's side ----

    @Override
    public int poll() {
        return serve(NO_SLEEP);
    }

    /**
     * No use taken: {@link #closeRequested} and {@link #cancels} are written by other
     * threads (a volatile flag, a concurrent queue); the rest is {@link #hasWork()}.
     */
    @Override
    public boolean needsPoll() {
        return closed || closeRequested || !cancels.isEmpty() || hasWork();
    }

    /**
     * The look is a few acquire loads of ring words ({@link #completionsWaiting()}); only when
     * completions wait is the use taken and the CQ drained (a kernel entry only for flagged
     * completion work, or an overflow flush), leaving the SQ for the next poll.
     */
    @Override
    public int reapPosted() {
        if (!completionsWaiting()) return 0;
        take();
        try {
            return closed ? 0 : reapWaiting();
        } finally {
            giveBack();
        }
    }

    @Override
    public boolean hasCalls() {
        return table.inFlight() > 0;
    }

    @Override
    public int idle(long timeoutNanos) {
        return serve(Math.max(0, timeoutNanos));
    }

    /** {@link #serve}'s argument for a poll: submit without waiting. */
    private static final long NO_SLEEP = -1;

    /**
     * The carrier's poll ({@code sleepNanos} {@link #NO_SLEEP}) or idle (submit and sleep up to
     * {@code sleepNanos}): the close asked for, the cancels asked for, the round's SQEs, the
     * CQ. The use is kept through the sleep: a carrier asleep here is not held, so nobody
     * reaps for it.
     */
    private int serve(long sleepNanos) {
        take();
        try {
            if (closed) return 0; // released: the carrier forgets it at this poll
            if (closeRequested && !closing) beginClose();
            serveCancels();
            if (sleepNanos == NO_SLEEP) {
                submit();
            } else {
                armWake();
                submitAndWait(wakeArmed ? sleepNanos : Math.min(sleepNanos, UNARMED_SLEEP_NANOS));
            }
            int n = reap();
            if (closing) tryFinishClose();
            return n;
        } finally {
            giveBack();
        }
    }

    /**
     * A compensating carrier, while this ring's carrier is held: if the carrier does not use
     * the ring now (a CAS on {@link #user}; else 0 at once), moves the calls posted here and
     * not yet submitted to the compensator's own ring of this engine, which {@code into} gives
     * on the compensator's thread, where this runs (IO_URING; SQPOLL's polling thread takes
     * them itself and is only woken), and reaps the CQ: their owners resume on the compensator.
     * Cancels of calls still in the kernel here: SQPOLL writes them into this ring (the polling
     * thread submits them, as it does the carrier's); IO_URING leaves them for the carrier
     * (with SINGLE_ISSUER only it may submit here).
     *
     * @return calls moved and completions reaped
     */
    @Override
    public int pollHeld(java.util.function.Supplier<CarrierContext> into) {
        if (!USER.compareAndSet(this, 0, 1)) return 0; // acquire: see the class comment
        try {
            if (closing || closed) return 0; // the carrier closes it when it comes back
            reaping = true;
            int n;
            if (isSqpoll()) {
                // The polling thread submits for every ring, so the compensator may write the
                // cancels asked for here as the carrier would: they take while it is held.
                serveCancels();
                submit(); // wakes the polling thread if it sleeps: no request becomes ours
                n = 0;
            } else {
                n = moveUnsubmitted(into);
            }
            return n + reap();
        } finally {
            reaping = false;
            giveBack();
        }
    }

    /**
     * Under the use, IO_URING: takes back the SQEs the kernel has not seen and posts their
     * calls on the compensator's ring that {@code to} gives (back here if it has no room; all
     * of them stay here if it gives none of this engine). The wake-up read is dropped (the
     * carrier arms it again before it sleeps); a cancel follows its target (at once on the
     * compensator's ring; for a target still in the kernel here, at the carrier's next poll).
     * Returns the calls moved.
     */
    private int moveUnsubmitted(java.util.function.Supplier<CarrierContext> to) {
        if (sq.unconsumed() == 0) return 0;
        CarrierRing into = to.get() instanceof CarrierRing r && r != this && r.engine == engine && !r.refusesCalls() ? r : null;
        int n = into == null ? 0 : sq.unconsumed();
        if (n == 0) return 0;
        UringCall[] calls = new UringCall[n];
        UringCall[] cancelled = new UringCall[n];
        int k = 0, m = 0;
        for (int i = 0; i < n; i++) {
            long ud = sq.unconsumedField(i, false);
            if (ud == WAKE_USER_DATA) {
                wakeArmed = false;
            } else if (ud == CANCEL_USER_DATA) {
                UringCall target = table.find(sq.unconsumedField(i, true)); // a cancel's addr: its target's user_data
                if (target != null) cancelled[m++] = target;
            } else {
                UringCall c = table.complete(ud); // its slot given back: the call leaves this ring
                if (c != null) calls[k++] = c;
            }
        }
        sq.retractUnconsumed();
        int moved = 0;
        for (int i = 0; i < k; i++) {
            UringCall c = calls[i];
            if (into.post(c)) {
                moved++;
            } else if (!super.post(c)) { // no room there: back here, where the retract made room
                throw new IllegalStateException(c.name() + ": no room left for a call taken back from its ring");
            }
        }
        for (int i = 0; i < m; i++) {
            UringCall t = cancelled[i];
            if (t.ring == into) into.cancelHere(t);
            else cancels.offer(t);
        }
        return moved;
    }

    @Override
    public int wakeFd() {
        return eventfd;
    }

    @Override
    public void notifyOn(int fd) {
        take();
        try {
            if (fd == notifying || closed) return;
            if (notifying >= 0) ring.registerEventfd(-1);
            notifying = -1;
            if (fd >= 0 && ring.registerEventfd(fd) >= 0) notifying = fd;
        } finally {
            giveBack();
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /** Carrier thread: true once the ring closes or has closed: no new call may be posted. */
    boolean refusesCalls() {
        return closing || closed;
    }

    // ---- any thread ----

    @Override
    public void wake() {
        int w;
        do {
            w = (int) WAKERS.getVolatile(this);
            if ((w & WAKE_CLOSED) != 0) return; // closing: nobody sleeps here any more
        } while (!WAKERS.compareAndSet(this, w, w + 1)); // volatile RMW: orders against close's CAS
        try {
            engine.counters().carrierWakes.increment();
            DirectSyscalls.raw(SyscallTable.WRITE, eventfd, ONE.address(), 8, 0, 0, 0);
        } finally {
            WAKERS.getAndAdd(this, -1);
        }
    }

    /**
     * A green thread that resumed on another carrier (or a platform thread) wants {@code c},
     * in flight here, cancelled: the carrier does it at its next poll.
     */
    void requestCancel(UringCall c) {
        cancels.offer(c);
        wake();
    }

    @Override
    public void requestClose() {
        closeRequested = true; // volatile: read by the carrier's next poll or idle
        wake();
    }

    /** The cancels asked for from elsewhere (or that found the SQ full): as many as the SQ takes now. */
    private void serveCancels() {
        UringCall c;
        while ((c = cancels.poll()) != null) {
            if (!tryCancel(c)) {
                cancels.offer(c); // no room: at the next poll
                return;
            }
        }
    }

    /**
     * A green thread mounted on this ring's carrier cancels {@code c}, in flight here: at once
     * if the SQ has room, else at the carrier's next poll (it never waits for room: see
     * {@link ConfinedRing#post}).
     */
    void cancelHere(UringCall c) {
        take();
        try {
            cancelUnderUse(c);
        } finally {
            giveBack();
        }
    }

    /** {@link #cancelHere} with the use held. */
    private void cancelUnderUse(UringCall c) {
        if (!tryCancel(c)) cancels.offer(c);
    }

    // ---- close ----

    /** Cancels the calls that may block without bound; the others complete. */
    private void beginClose() {
        closing = true;
        for (int s = 0; s < table.capacity(); s++) {
            UringCall c = table.at(s);
            if (c != null && c.call != null && c.call.mayBlock() && !c.isDone()) {
                c.cancelledByClose = true;
                cancelUnderUse(c);
            }
        }
    }

    private void tryFinishClose() {
        if (table.inFlight() == 0) finishClose();
    }

    /** Releases the ring and the eventfd; the engine forgets the ring. */
    private void finishClose() {
        if (closed) return;
        closed = true;
        stopWakeUps();
        release(); // the engine forgets it (releasing), then closing the ring cancels the wake-up read still armed
        DirectSyscalls.raw(SyscallTable.CLOSE, eventfd, 0, 0, 0, 0, 0); // no longer owned: releasing() came first
    }

    @Override
    void releasing() {
        engine.ringClosed(this); // before the ring's and the eventfd's numbers are freed
    }

    /** No new wake-up from here on; waits for the ones inside their eventfd write. */
    private void stopWakeUps() {
        int w;
        do {
            w = (int) WAKERS.getVolatile(this);
        } while ((w & WAKE_CLOSED) == 0 && !WAKERS.compareAndSet(this, w, w | WAKE_CLOSED));
        while (((int) WAKERS.getVolatile(this) & ~WAKE_CLOSED) != 0) Thread.onSpinWait();
    }

    /**
     * Gives the ring up with calls still in flight (its carrier stopped, and they did not
     * complete in time even when cancelled): the kernel may still complete them into their
     * callers' memory, so the ring stays mapped and open, and its descriptors owned, for the
     * life of the process; nobody reaps it any more.
     */
    private void abandon() {
        closed = true;
        stopWakeUps();
        engine.ringAbandoned(this, table.inFlight());
    }

    @Override
    public void close(long timeoutNanos) {
        take();
        try {
            if (closed) return;
            if (!closing) beginClose();
            long deadline = System.nanoTime() + timeoutNanos;
            while (table.inFlight() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                submitAndWait(Math.min(left, 10_000_000L));
                reap();
            }
            // Calls still in flight belong to green threads that will never run again; but the
            // kernel may still write into their memory: then the ring is left to it.
            if (table.inFlight() > 0) abandon();
            else finishClose();
        } finally {
            giveBack();
        }
    }

    /**
     * The engine closes a ring whose carrier has exited without closing it (its thread is
     * gone, so nothing else touches the ring): releases it.
     */
    void closeOrphan() {
        if (carrier.isAlive()) return;
        take();
        try {
            if (closed) return;
            if (table.inFlight() > 0) abandon();
            else finishClose();
        } finally {
            giveBack();
        }
    }
}
