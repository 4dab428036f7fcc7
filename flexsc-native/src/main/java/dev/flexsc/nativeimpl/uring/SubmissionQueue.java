package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.nativeimpl.uring.IoUring.INT;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * The producer side of one ring's submission queue: copies a call's SQE into the ring and
 * releases the tail that exposes it to the kernel. Producers serialise on a short lock
 * (64 bytes of stores and one release). With SQPOLL, it also wakes the polling thread when
 * it went to sleep.
 */
final class SubmissionQueue {
    /** What a producer does while the SQ is full (IO_URING submits, SQPOLL wakes the poller and reaps). */
    @FunctionalInterface
    interface WhenFull {
        void makeRoom() throws IOException;
    }

    private final IoUring ring;
    private final boolean sqpoll;
    private final UringCounters counters;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. */
    private int tail;
    /** The tail last released to the kernel (volatile copy for submitters and diagnostics). */
    private volatile int publishedTail;
    /** Set just before the ring is unmapped: no wake-up touches it after. */
    private volatile boolean closed;

    SubmissionQueue(IoUring ring, boolean sqpoll, UringCounters counters) {
        this.ring = ring;
        this.sqpoll = sqpoll;
        this.counters = counters;
    }

    /** The ring is about to be unmapped: wake-ups of the polling thread stop. */
    void markClosed() {
        closed = true;
    }

    /** SQEs released to the kernel that it has not consumed yet. */
    int unconsumed() {
        // Acquire load of the kernel's sq head: pairs with its release after consuming SQEs.
        return publishedTail - (int) INT.getAcquire(ring.ring, ring.sqHeadOff);
    }

    /** Copies the SQE into the ring and releases the tail; waits while the SQ is full. */
    void push(UringCall c, WhenFull whenFull) throws IOException {
        while (true) {
            lock.lock();
            try {
                MemorySegment r = ring.ring;
                // Acquire load of the kernel's sq head: the kernel has finished reading every
                // SQE before it, so those slots may be overwritten (pairs with its release).
                int head = (int) INT.getAcquire(r, ring.sqHeadOff);
                if (tail - head < ring.sqEntries) {
                    writeSqe(c, tail & ring.sqMask);
                    tail++;
                    // Release store of the SQ tail: the SQE stores above are visible before the
                    // tail that exposes them; pairs with the kernel's acquire load of the tail.
                    INT.setRelease(r, ring.sqTailOff, tail);
                    publishedTail = tail;
                    break;
                }
            } finally {
                lock.unlock();
            }
            // SQ full: every slot of the ring holds an SQE the kernel has not consumed yet.
            counters.sqFullWaits.increment();
            whenFull.makeRoom();
        }
        if (sqpoll) wakeSqThreadIfNeeded();
    }

    /** Copies SQEs into the ring; one release of the tail per lock hold; waits while the SQ is full. */
    void pushAll(UringCall[] cs, int count, WhenFull whenFull) throws IOException {
        int i = 0;
        while (i < count) {
            lock.lock();
            try {
                MemorySegment r = ring.ring;
                // Acquire load of the kernel's sq head: pairs with its release after consuming
                // SQEs; the slots before it may be overwritten.
                int head = (int) INT.getAcquire(r, ring.sqHeadOff);
                int start = i;
                while (i < count && tail - head < ring.sqEntries) {
                    writeSqe(cs[i++], tail & ring.sqMask);
                    tail++;
                }
                if (i > start) {
                    // Release store of the SQ tail, once for all the SQEs written above: they are
                    // visible before the tail that exposes them (pairs with the kernel's acquire).
                    INT.setRelease(r, ring.sqTailOff, tail);
                    publishedTail = tail;
                }
            } finally {
                lock.unlock();
            }
            if (i < count) {
                counters.sqFullWaits.increment();
                whenFull.makeRoom();
            }
        }
        java.util.Arrays.fill(cs, 0, count, null);
        if (sqpoll && count > 0) wakeSqThreadIfNeeded();
    }

    private void writeSqe(UringCall c, int index) {
        MemorySegment s = ring.sqes;
        long e = (long) index * SQE_SIZE;
        // Plain stores: published by the release store of the tail in push.
        s.set(ValueLayout.JAVA_BYTE, e + SQE_OPCODE, c.opcode);
        s.set(ValueLayout.JAVA_BYTE, e + SQE_FLAGS, (byte) 0);
        s.set(ValueLayout.JAVA_SHORT, e + SQE_IOPRIO, c.ioprio);
        s.set(ValueLayout.JAVA_INT, e + SQE_FD, c.fd);
        s.set(ValueLayout.JAVA_LONG, e + SQE_OFF, c.off);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR, c.addr);
        s.set(ValueLayout.JAVA_INT, e + SQE_LEN, c.len);
        s.set(ValueLayout.JAVA_INT, e + SQE_OP_FLAGS, c.opFlags);
        s.set(ValueLayout.JAVA_LONG, e + SQE_USER_DATA, c.userData);
        s.set(ValueLayout.JAVA_LONG, e + SQE_BUF_INDEX, 0L); // buf_index, personality
        s.set(ValueLayout.JAVA_INT, e + SQE_SPLICE_FD_IN, c.spliceFdIn);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR3, 0L);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR3 + 8, 0L);
    }

    /**
     * SQPOLL: wake the polling thread if it went to sleep. The full fence orders our release
     * store of the SQ tail before the load of the flags; the kernel thread sets NEED_WAKEUP,
     * issues a full barrier and re-reads the tail before sleeping. So either it sees our
     * tail, or we see its flag (liburing's sq_ring_needs_enter does the same).
     */
    void wakeSqThreadIfNeeded() throws ErrnoException {
        if (closed) return;
        VarHandle.fullFence();
        int flags;
        try {
            flags = (int) INT.getVolatile(ring.ring, ring.sqFlagsOff);
        } catch (IllegalStateException unmapped) {
            if (closed) return;
            throw unmapped;
        }
        if ((flags & SQ_NEED_WAKEUP) != 0) {
            counters.sqThreadSleeps.increment();
            long r = ring.enter(0, 0, ENTER_SQ_WAKEUP);
            counters.sqWakeups.increment();
            if (r < 0 && r != -Errno.EINTR) throw new ErrnoException("io_uring_enter(IORING_ENTER_SQ_WAKEUP)", (int) -r);
        }
    }
}
