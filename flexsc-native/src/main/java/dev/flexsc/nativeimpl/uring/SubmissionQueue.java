package dev.flexsc.nativeimpl.uring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.flexsc.nativeimpl.uring.IoUring.INT;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * The producer side of one ring's submission queue: writes a call's SQE into the ring and
 * releases the tail that exposes it to the kernel, and counts the SQEs written since the
 * owner last submitted.
 *
 * <p>Confined to the ring's owner (for a carrier's ring, whoever holds its use:
 * {@link CarrierRing}): plain fields; only the ring words shared with the kernel
 * need ordering (the acquire of the kernel's head, the release of our tail).
 */
final class SubmissionQueue {
    private final IoUring ring;
    /** Our tail (plain: we are the only producer); released to the kernel after each SQE. */
    private int tail;
    /** SQEs written since the owner's last submitting io_uring_enter (IO_URING). */
    private int queued;

    SubmissionQueue(IoUring ring) {
        this.ring = ring;
        this.tail = (int) INT.get(ring.ring, ring.sqTailOff);
    }

    /** SQEs written and not yet handed to the kernel by an io_uring_enter (IO_URING). */
    int queued() {
        return queued;
    }

    /** After the owner's io_uring_enter: what the kernel has not taken yet stays queued. */
    void syncQueued() {
        queued = unconsumed();
    }

    /** SQEs released to the kernel that it has not consumed yet. */
    int unconsumed() {
        // Acquire load of the kernel's sq head: pairs with its release after consuming SQEs.
        return tail - (int) INT.getAcquire(ring.ring, ring.sqHeadOff);
    }

    /**
     * The user_data (field {@code SQE_USER_DATA}, or with {@code addr} true the addr field) of
     * the {@code i}-th SQE the kernel has not consumed, oldest first ({@code i <} {@link #unconsumed()}).
     */
    long unconsumedField(int i, boolean addr) {
        long e = (long) ((tail - unconsumed() + i) & ring.sqMask) * SQE_SIZE;
        return ring.sqes.get(ValueLayout.JAVA_LONG, e + (addr ? SQE_ADDR : SQE_USER_DATA));
    }

    /**
     * True if an SQE whose user_data is {@code userData} and whose addr field is {@code addr}
     * is released to the kernel and not consumed yet (a cancel, whose addr names its target).
     * Safe beside a polling thread that consumes meanwhile: only we write the slots, so one
     * it took still reads as we wrote it.
     */
    boolean holdsUnconsumed(long userData, long addr) {
        // Acquire load of the kernel's sq head: pairs with its release after consuming SQEs.
        int head = (int) INT.getAcquire(ring.ring, ring.sqHeadOff);
        for (int i = head; i != tail; i++) {
            long e = (long) (i & ring.sqMask) * SQE_SIZE;
            if (ring.sqes.get(ValueLayout.JAVA_LONG, e + SQE_USER_DATA) == userData
                    && ring.sqes.get(ValueLayout.JAVA_LONG, e + SQE_ADDR) == addr) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes back the SQEs the kernel has not consumed: they are as if never written. Only
     * where no kernel thread reads the SQ on its own (IO_URING, not SQPOLL), and only by the
     * thread that holds the ring's use ({@link CarrierRing}): the kernel reads the SQ tail
     * only inside an {@code io_uring_enter}, and every entry of this ring is made under the
     * same rule, so none reads the tail between the load of the head and the store below.
     *
     * @return the SQEs taken back
     */
    int retractUnconsumed() {
        int n = unconsumed();
        tail -= n;
        queued = 0;
        // Release store of the SQ tail (as in offer): the next entry reads this tail.
        INT.setRelease(ring.ring, ring.sqTailOff, tail);
        return n;
    }

    /** True if the ring has room for one more SQE. */
    boolean hasRoom() {
        // Acquire load of the kernel's sq head: pairs with its release after consuming SQEs.
        return tail - (int) INT.getAcquire(ring.ring, ring.sqHeadOff) < ring.sqEntries;
    }

    /**
     * Writes the SQE of {@code c} (opcode and fields from the call, its user_data) and
     * releases the tail; false if the SQ is full (the owner then submits and retries).
     */
    boolean offer(UringCall c) {
        return offer(c.opcode, c.ioprio, c.fd, c.off, c.addr, c.len, c.opFlags, c.userData, c.spliceFdIn);
    }

    /** Writes one SQE from its fields and releases the tail; false if the SQ is full. */
    boolean offer(byte opcode, short ioprio, int fd, long off, long addr, int len, int opFlags, long userData,
                  int spliceFdIn) {
        MemorySegment r = ring.ring;
        // Acquire load of the kernel's sq head: the kernel has finished reading every SQE
        // before it, so those slots may be overwritten (pairs with its release).
        int head = (int) INT.getAcquire(r, ring.sqHeadOff);
        if (tail - head >= ring.sqEntries) return false;
        MemorySegment s = ring.sqes;
        long e = (long) (tail & ring.sqMask) * SQE_SIZE;
        // Plain stores: published by the release store of the tail below.
        s.set(ValueLayout.JAVA_BYTE, e + SQE_OPCODE, opcode);
        s.set(ValueLayout.JAVA_BYTE, e + SQE_FLAGS, (byte) 0);
        s.set(ValueLayout.JAVA_SHORT, e + SQE_IOPRIO, ioprio);
        s.set(ValueLayout.JAVA_INT, e + SQE_FD, fd);
        s.set(ValueLayout.JAVA_LONG, e + SQE_OFF, off);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR, addr);
        s.set(ValueLayout.JAVA_INT, e + SQE_LEN, len);
        s.set(ValueLayout.JAVA_INT, e + SQE_OP_FLAGS, opFlags);
        s.set(ValueLayout.JAVA_LONG, e + SQE_USER_DATA, userData);
        s.set(ValueLayout.JAVA_LONG, e + SQE_BUF_INDEX, 0L); // buf_index, personality
        s.set(ValueLayout.JAVA_INT, e + SQE_SPLICE_FD_IN, spliceFdIn);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR3, 0L);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR3 + 8, 0L);
        tail++;
        queued++;
        // Release store of the SQ tail: the SQE stores above are visible before the tail that
        // exposes them; pairs with the kernel's acquire load of the tail (a polling thread's,
        // or our own io_uring_enter's).
        INT.setRelease(r, ring.sqTailOff, tail);
        return true;
    }
}
