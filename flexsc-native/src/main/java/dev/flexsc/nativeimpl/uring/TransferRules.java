package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Errno;
import dev.flexsc.spi.ShortTransfer;

import java.io.IOException;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * Where one io_uring operation ends short of what its system call would have done, and how
 * the engine continues it so that the caller sees the syscall's result:
 * <ul>
 * <li>a call prepared with a "do not wait" probe ({@link UringOps}) that came back EAGAIN
 *     is the syscall's answer only on an O_NONBLOCK descriptor; otherwise it is submitted
 *     again to wait for readiness, as the syscall waits; one that came back EOPNOTSUPP (the
 *     file refuses the probe itself: RWF_NOWAIT on a FIFO opened with open(2)) is submitted
 *     again without it;</li>
 * <li>a read that may not wait stops early where read(2) reads on: RWF_NOWAIT at a buffered
 *     file's first page not in the cache, and any read the ring tries without waiting at
 *     each page of /dev/zero or /dev/urandom when a reschedule is due; the rest is read (a
 *     file once, without the probe; a memory device until it is all read);</li>
 * <li>a short write or send on a blocking descriptor is continued until the whole buffer is
 *     written or an error, as the blocking syscall does ({@link ShortTransfer}: the error
 *     after a partial write is dropped in favour of the count); on an O_NONBLOCK descriptor
 *     the short count is returned.</li>
 * </ul>
 */
final class TransferRules {
    private TransferRules() {}

    /** How the rules wait for a submitted call and submit it again. */
    interface Ring {
        /** Waits for {@code c}'s completion; returns its raw result. */
        long await(UringCall c) throws IOException;

        /** Submits {@code c} again (re-armed), as it now stands. */
        void resubmit(UringCall c) throws IOException;
    }

    /** Waits for a submitted call's result, continuing it where the syscall would (see the class comment). */
    static long awaitWhole(UringCall c, Ring ring) throws IOException {
        long total = 0;
        int blocking = -1; // -1 not checked yet, 0 O_NONBLOCK, 1 blocking
        int readKind = -1; // -1 not checked yet, else FdKinds.shortReads of the descriptor
        while (true) {
            long r = ring.await(c);
            if (c.nowaitProbe && r == -Errno.EOPNOTSUPP) {
                // The file refuses the probe itself: the syscall has no such flag and would wait
                // (or fail with EAGAIN if O_NONBLOCK), exactly what io_uring does without it.
                c.clearNowait();
                c.rearm();
                ring.resubmit(c);
                continue;
            }
            if (c.nowaitProbe && r == -Errno.EAGAIN) {
                if (blocking < 0) blocking = FdKinds.waitsWhenNotReady(c.fd) ? 1 : 0;
                if (blocking == 1) {
                    c.clearNowait(); // the syscall would wait: so do we (io_uring arms a poll)
                    c.rearm();
                    ring.resubmit(c);
                    continue;
                }
            }
            if (c.opcode == OP_READ && r > 0 && r < c.len && !c.cancelRequested) {
                if (readKind < 0) readKind = FdKinds.shortReads(c.fd);
                boolean onFile = readKind == FdKinds.PAGE_CACHE && c.nowaitProbe;
                if (onFile || readKind == FdKinds.MEMORY_DEVICE) {
                    total += r;
                    c.addr += r;
                    c.len -= (int) r;
                    if (c.off >= 0) c.off += r; // pread64: the next bytes
                    c.clearNowait();
                    c.rearm();
                    ring.resubmit(c);
                    continue;
                }
            }
            if ((c.opcode == OP_WRITE || c.opcode == OP_SEND) && r > 0 && r < c.len && !c.cancelRequested) {
                if (blocking < 0) blocking = FdKinds.waitsWhenNotReady(c.fd) ? 1 : 0;
                if (blocking == 1) {
                    total += r;
                    c.addr += r;
                    c.len -= (int) r;
                    if (c.off >= 0 && c.opcode == OP_WRITE) c.off += r;
                    c.clearNowait();
                    c.rearm();
                    ring.resubmit(c);
                    continue;
                }
            }
            return ShortTransfer.total(total, r);
        }
    }
}
