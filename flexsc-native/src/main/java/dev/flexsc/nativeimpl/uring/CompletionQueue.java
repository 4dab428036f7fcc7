package dev.flexsc.nativeimpl.uring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.flexsc.nativeimpl.uring.IoUring.INT;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * The consumer side of one ring's completion queue: reads the CQEs the kernel posted and
 * releases the head. One consumer at a time: whoever {@linkplain #tryAcquire takes} the CQ
 * drains it; the others leave the CQEs to it.
 */
final class CompletionQueue {
    /** Receives each CQE drained. */
    @FunctionalInterface
    interface Dispatcher {
        void dispatch(long userData, int res);
    }

    private final IoUring ring;
    private final UringCounters counters;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** Guarded by busy. */
    private int head;

    CompletionQueue(IoUring ring, UringCounters counters) {
        this.ring = ring;
        this.counters = counters;
    }

    /** Takes the CQ for draining; false if another thread holds it. */
    boolean tryAcquire() {
        return busy.compareAndSet(false, true);
    }

    /** Lets go of the CQ (volatile store). */
    void release() {
        busy.set(false);
    }

    /** True while some thread holds the CQ (volatile load). */
    boolean isHeld() {
        return busy.get();
    }

    /** Waits until the CQ is free and takes it (close). */
    void acquire() {
        while (!tryAcquire()) Thread.onSpinWait();
    }

    /**
     * True if the CQ holds CQEs not yet drained: acquire loads of the kernel's CQ tail and
     * our released head (a stale answer only delays them to the next look).
     */
    boolean hasCqes() {
        MemorySegment r = ring.ring;
        return (int) INT.getAcquire(r, ring.cqTailOff) != (int) INT.getAcquire(r, ring.cqHeadOff);
    }

    /**
     * Drains the CQ, handing each CQE to {@code d}; the caller holds it. Overflowed CQEs
     * (IORING_FEAT_NODROP keeps them in the kernel) are brought back with
     * io_uring_enter(GETEVENTS) once the CQ has room. Returns the CQEs drained.
     */
    int drain(Dispatcher d) {
        int n = 0;
        MemorySegment r = ring.ring;
        while (true) {
            // Acquire load of the CQ tail: pairs with the kernel's release store after it
            // wrote the CQEs, so the CQE fields read below are the complete ones.
            int tail = (int) INT.getAcquire(r, ring.cqTailOff);
            int h = head;
            if (h == tail) {
                // Acquire load of sq flags: the kernel sets CQ_OVERFLOW with a plain store
                // under its lock; acquire keeps our later CQ reads after it.
                if (((int) INT.getAcquire(r, ring.sqFlagsOff) & SQ_CQ_OVERFLOW) != 0) {
                    counters.overflowFlushes.increment();
                    ring.enter(0, 0, ENTER_GETEVENTS);
                    if ((int) INT.getAcquire(r, ring.cqTailOff) != h) continue;
                }
                break;
            }
            while (h != tail) {
                long e = ring.cqesOff + (long) (h & ring.cqMask) * CQE_SIZE;
                long ud = r.get(ValueLayout.JAVA_LONG, e + CQE_USER_DATA);
                int res = r.get(ValueLayout.JAVA_INT, e + CQE_RES);
                h++;
                d.dispatch(ud, res);
                n++;
            }
            head = h;
            // Release store of the CQ head: our reads of those CQEs happen before the kernel
            // may reuse their slots (it reads the head with acquire before posting).
            INT.setRelease(r, ring.cqHeadOff, h);
        }
        return n;
    }
}
