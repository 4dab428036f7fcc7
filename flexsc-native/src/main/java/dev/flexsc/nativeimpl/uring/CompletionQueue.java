package dev.flexsc.nativeimpl.uring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.flexsc.nativeimpl.uring.IoUring.INT;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * The consumer side of one ring's completion queue: reads the CQEs the kernel posted and
 * releases the head.
 *
 * <p>Confined to the ring's owner (for a carrier's ring, whoever holds its use:
 * {@link CarrierRing}): plain fields; only the ring words shared with the kernel
 * need ordering (the acquire of its tail, the release of our head).
 */
final class CompletionQueue {
    /** Receives each CQE drained. */
    @FunctionalInterface
    interface Dispatcher {
        void dispatch(long userData, int res);
    }

    private final IoUring ring;
    private final UringCounters counters;
    /** Our head (plain: we are the only consumer); released to the kernel after each drain. */
    private int head;

    CompletionQueue(IoUring ring, UringCounters counters) {
        this.ring = ring;
        this.counters = counters;
        this.head = (int) INT.get(ring.ring, ring.cqHeadOff);
    }

    /**
     * True if the CQ holds CQEs not yet drained: an acquire load of the kernel's CQ tail (a
     * stale answer only delays them to the next look).
     */
    boolean hasCqes() {
        return (int) INT.getAcquire(ring.ring, ring.cqTailOff) != head;
    }

    /**
     * True if the kernel posted CQEs past the head the last drain released, from acquire
     * loads of both ring words (no plain field): for the ring's carrier, which may look while
     * another thread that held the ring's use drained it (its release store of the head pairs
     * with the load here). A stale answer only says true when there is nothing, or delays a
     * CQE to the next look.
     */
    boolean posted() {
        // Acquire of the kernel's tail (pairs with its release after writing CQEs) and of the
        // head word (pairs with the release store at the end of a drain).
        return (int) INT.getAcquire(ring.ring, ring.cqTailOff) != (int) INT.getAcquire(ring.ring, ring.cqHeadOff);
    }

    /**
     * Drains the CQ, handing each CQE to {@code d}. Overflowed CQEs (IORING_FEAT_NODROP keeps
     * them in the kernel) are brought back with io_uring_enter(GETEVENTS) once the CQ has
     * room. Returns the CQEs drained.
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
                if ((ring.sqFlags() & SQ_CQ_OVERFLOW) != 0) {
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
