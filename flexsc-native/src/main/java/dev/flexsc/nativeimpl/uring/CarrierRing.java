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
 * with SINGLE_ISSUER + DEFER_TASKRUN (see {@link RingSetup}) the kernel binds it to that
 * thread and runs its completion work only inside the carrier's own entries.
 *
 * <p>Waking it: the ring keeps a read of an eventfd of its own posted; any thread that
 * writes the eventfd ({@link #wake()}) completes that read, whose CQE ends the carrier's
 * wait (or its next one, at once: the count stays in the eventfd). The carrier posts the read
 * again after each. Other threads reach the ring only through {@link #wake()},
 * {@link #requestCancel} (a green thread that resumed elsewhere cancels its call through the
 * carrier) and {@link #requestClose()} (the engine closes).
 */
final class CarrierRing extends ConfinedRing implements CarrierContext {
    private static final VarHandle WAKERS;

    static {
        try {
            WAKERS = MethodHandles.lookup().findVarHandle(CarrierRing.class, "wakers", int.class);
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
        if (!closed) offerWake();
    }

    // ---- CarrierContext: the carrier's side ----

    @Override
    public int poll() {
        if (closed) return 0; // released: the carrier forgets it at this poll
        if (closeRequested && !closing) beginClose();
        serveCancels();
        submit();
        int n = reap();
        if (closing) tryFinishClose();
        return n;
    }

    @Override
    public boolean hasCalls() {
        return table.inFlight() > 0;
    }

    @Override
    public int idle(long timeoutNanos) {
        if (closed) return 0;
        if (closeRequested && !closing) beginClose();
        serveCancels();
        armWake();
        submitAndWait(wakeArmed ? timeoutNanos : Math.min(timeoutNanos, UNARMED_SLEEP_NANOS));
        int n = reap();
        if (closing) tryFinishClose();
        return n;
    }

    @Override
    public int wakeFd() {
        return eventfd;
    }

    @Override
    public void notifyOn(int fd) {
        if (fd == notifying || closed) return;
        if (notifying >= 0) ring.registerEventfd(-1);
        notifying = -1;
        if (fd >= 0 && ring.registerEventfd(fd) >= 0) notifying = fd;
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
                cancelHere(c);
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
    }

    /**
     * The engine closes a ring whose carrier has exited without closing it (its thread is
     * gone, so nothing else touches the ring): releases it.
     */
    void closeOrphan() {
        if (carrier.isAlive() || closed) return;
        if (table.inFlight() > 0) abandon();
        else finishClose();
    }
}
