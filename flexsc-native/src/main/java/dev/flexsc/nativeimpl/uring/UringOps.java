package dev.flexsc.nativeimpl.uring;

import dev.flexsc.abi.SyscallTable;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.flexsc.abi.SyscallTable.*;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;
import static dev.flexsc.MsgFlags.MSG_DONTWAIT;
import static dev.flexsc.MsgFlags.MSG_WAITALL;

/**
 * The one table that maps allow-listed system calls to io_uring operations (the shape of
 * the kernel's {@code io_uring/opdef.c}): for each call, the opcode and the preparation
 * that fills an SQE from the syscall's six arguments exactly as the syscall would use
 * them. A preparation may decline one particular call (return false) when io_uring's
 * operation would not behave identically; that call, and every call without an opcode on
 * the running kernel, is made directly on the calling thread ({@link #declinedMayWait}: a
 * shape that may wait without bound goes to the SYSCALL_THREADS fallback instead).
 *
 * <p>Declined on purpose, with the reason:
 * <ul>
 * <li>pread64/pwrite64 with a negative offset: the syscall fails with EINVAL, io_uring reads
 *     offset -1 as "the file position"; and on a descriptor that cannot seek (pipe, socket,
 *     tty: lseek fails): the syscall fails with ESPIPE, io_uring ignores the offset.</li>
 * <li>connect on an O_NONBLOCK socket (EINPROGRESS from the syscall, io_uring waits), and
 *     accept4 on an O_NONBLOCK listener on kernels without IORING_ACCEPT_DONTWAIT.</li>
 * <li>read/write/pread64/pwrite64/sendto/recvfrom lengths above MAX_RW_COUNT (0x7ffff000):
 *     the syscalls clamp their count to it (after checking the whole range with access_ok),
 *     io_uring clamps too but the engine would then continue the "short" write or read as
 *     the blocking syscall continues a partial transfer; and above 2^32-1 the 32-bit SQE
 *     length could not hold it at all. The syscall itself gives the exact result.</li>
 * <li>splice with offset pointers: io_uring takes the offset by value and does not write the
 *     advanced offset back; reading the caller's pointer from Java could fault.</li>
 * <li>sendto/recvfrom with an address: the plain SEND/RECV ops have no address on older kernels.</li>
 * <li>read/write/pread64/pwrite64 of zero bytes: the syscalls still check the file (EISDIR
 *     for a directory), io_uring returns 0 without looking; splice of zero bytes: the syscall
 *     returns 0 before it looks at the descriptors, io_uring checks them.</li>
 * <li>fadvise64/madvise with lengths above 2^32-1 (32-bit SQE length before Linux 6.11);
 *     ftruncate with a negative length (the syscall checks it before the descriptor).</li>
 * </ul>
 * Calls with no io_uring operation at all: lseek, fstat, newfstatat, getdents64, sendfile,
 * getsockopt, setsockopt, uname, getpid, getppid, getuid, getgid, getrandom, getsockname,
 * getpeername, eventfd2, epoll_create1.
 *
 * <p>Readiness calls with an operation that takes no row, with the reason:
 * <ul>
 * <li>poll: IORING_OP_POLL_ADD takes the descriptor and events in the SQE, and poll(2) has them
 *     in the caller's {@code struct pollfd} array, which the engine would have to read (and
 *     write revents back to) from Java, where a bad pointer is a crash and not EFAULT. The
 *     readiness wait of one descriptor, which has them by value, is the engine's
 *     {@code awaitReady} instead: a POLL_ADD entry in the caller's ring.</li>
 * <li>epoll_wait: IORING_OP_EPOLL_WAIT (Linux 6.15) has no timeout. FlexSC's selector waits for
 *     its epoll descriptor's readiness ({@code awaitReady}) and then reaps it with
 *     {@code epoll_wait(timeout 0)}, which returns at once and is made directly.</li>
 * <li>pipe2: IORING_OP_PIPE is newer than the kernels this engine is tested on (6.1, 6.12), and
 *     the call never waits.</li>
 * </ul>
 */
final class UringOps {
    private UringOps() {}

    /** Fills {@code c}'s SQE fields from its syscall arguments; false: run this call elsewhere. */
    @FunctionalInterface
    interface Prep {
        boolean fill(UringCall c);
    }

    /** One row: the call, its opcode, its preparation. */
    record Op(SyscallTable.Call call, int opcode, Prep prep) {}

    private static final Op[] BY_NR = new Op[NR_LIMIT];
    private static final Map<Integer, Op> ALL = new LinkedHashMap<>();

    private static final long MAX_U32 = 0xFFFF_FFFFL;

    private static void op(int nr, int opcode, Prep prep) {
        Op o = new Op(SyscallTable.lookup(nr), opcode, prep);
        BY_NR[nr] = o;
        ALL.put(nr, o);
    }

    static {
        // read(fd, buf, count): at the file position (offset -1 with IORING_FEAT_RW_CUR_POS).
        // read is prepared with RWF_NOWAIT: the engine learns "would block" and then asks
        // O_NONBLOCK whether the syscall would fail with EAGAIN or wait; a short read of a
        // regular file (part of it not cached) is continued (UringEngine.runOnRing).
        op(READ, OP_READ, c -> c.a2 > 0 && c.a2 <= MAX_RW_COUNT && rw(c, OP_READ, c.a0, c.a1, c.a2, -1)
                && (c.waits || nowait(c, RWF_NOWAIT, 0)));
        op(WRITE, OP_WRITE, c -> c.a2 > 0 && c.a2 <= MAX_RW_COUNT && rw(c, OP_WRITE, c.a0, c.a1, c.a2, -1));
        // pread64/pwrite64 only on a descriptor that can seek (else ESPIPE from the direct call).
        op(PREAD64, OP_READ, c -> c.a3 >= 0 && c.a2 > 0 && c.a2 <= MAX_RW_COUNT && FdKinds.seekable(c.a0)
                && rw(c, OP_READ, c.a0, c.a1, c.a2, c.a3));
        op(PWRITE64, OP_WRITE, c -> c.a3 >= 0 && c.a2 > 0 && c.a2 <= MAX_RW_COUNT && FdKinds.seekable(c.a0)
                && rw(c, OP_WRITE, c.a0, c.a1, c.a2, c.a3));
        // readv(fd, iov, iovcnt): the kernel checks iovcnt against UIO_MAXIOV as the syscall does.
        // readv is not probed: continuing a short vectored read would mean rewriting the
        // caller's iovecs (docs/engines.md: readv on an empty O_NONBLOCK pipe waits).
        op(READV, OP_READV, c -> c.a2 >= 0 && c.a2 <= 1024 && rw(c, OP_READV, c.a0, c.a1, c.a2, -1));
        op(WRITEV, OP_WRITEV, c -> c.a2 >= 0 && c.a2 <= 1024 && rw(c, OP_WRITEV, c.a0, c.a1, c.a2, -1));
        op(CLOSE, OP_CLOSE, c -> sqe(c, OP_CLOSE, c.a0, 0, 0, 0, 0));
        op(FSYNC, OP_FSYNC, c -> sqe(c, OP_FSYNC, c.a0, 0, 0, 0, 0));
        op(FDATASYNC, OP_FSYNC, c -> sqe(c, OP_FSYNC, c.a0, 0, 0, 0, FSYNC_DATASYNC));
        // fallocate(fd, mode, offset, len): off = offset, addr = len, len = mode.
        op(FALLOCATE, OP_FALLOCATE, c -> sqe(c, OP_FALLOCATE, c.a0, c.a2, c.a3, c.a1, 0));
        // fadvise64(fd, offset, len, advice): len in the 32-bit SQE length (addr = 0).
        op(FADVISE64, OP_FADVISE, c -> c.a2 >= 0 && c.a2 <= MAX_U32 && sqe(c, OP_FADVISE, c.a0, c.a1, 0, c.a2, (int) c.a3));
        // madvise(addr, len, advice).
        op(MADVISE, OP_MADVISE, c -> c.a1 >= 0 && c.a1 <= MAX_U32 && sqe(c, OP_MADVISE, 0, 0, c.a0, c.a1, (int) c.a2));
        // openat(dirfd, path, flags, mode): len = mode, open_flags = flags.
        op(OPENAT, OP_OPENAT, c -> sqe(c, OP_OPENAT, c.a0, 0, c.a1, c.a3, (int) c.a2));
        // statx(dirfd, path, flags, mask, buf): len = mask, addr2 = buf, statx_flags = flags.
        op(STATX, OP_STATX, c -> sqe(c, OP_STATX, c.a0, c.a4, c.a1, c.a3, (int) c.a2));
        op(UNLINKAT, OP_UNLINKAT, c -> sqe(c, OP_UNLINKAT, c.a0, 0, c.a1, 0, (int) c.a2));
        op(MKDIRAT, OP_MKDIRAT, c -> sqe(c, OP_MKDIRAT, c.a0, 0, c.a1, c.a2, 0));
        // renameat2(olddirfd, oldpath, newdirfd, newpath, flags): len = newdirfd, addr2 = newpath.
        op(RENAMEAT2, OP_RENAMEAT, c -> sqe(c, OP_RENAMEAT, c.a0, c.a3, c.a1, c.a2, (int) c.a4));
        // splice(fd_in, NULL, fd_out, NULL, len, flags) only: -1 = "use the file position".
        op(SPLICE, OP_SPLICE, c -> c.a1 == 0 && c.a3 == 0 && c.a4 > 0 && c.a4 <= MAX_U32
                && (c.a5 & SPLICE_F_FD_IN_FIXED) == 0 && splice(c));
        // accept4(fd, addr, addrlen*, flags): addr2 = addrlen pointer.
        // With IORING_ACCEPT_DONTWAIT (6.10) as a probe; without it, an O_NONBLOCK listener
        // is made directly (one fcntl per accept4 on such kernels; it returns at once).
        op(ACCEPT4, OP_ACCEPT, c -> (c.engine.acceptDontwait() || !FdKinds.nonBlocking(c.a0))
                && sqe(c, OP_ACCEPT, c.a0, c.a2, c.a1, 0, (int) c.a3)
                && (!c.engine.acceptDontwait() || nowait(c, 0, ACCEPT_DONTWAIT)));
        // connect(fd, addr, addrlen): addr2 = addrlen. io_uring waits for the connection where
        // the syscall on an O_NONBLOCK socket returns EINPROGRESS: such a connect goes to the
        // direct call (one fcntl per connect, a call that costs a round trip anyway).
        op(CONNECT, OP_CONNECT, c -> !FdKinds.nonBlocking(c.a0) && sqe(c, OP_CONNECT, c.a0, c.a2, c.a1, 0, 0));
        // sendto and the receives get MSG_DONTWAIT as the probe, unless the caller asked for it
        // (then EAGAIN is the answer, as from the syscall) or for MSG_WAITALL (which a probe
        // would cut short); sendmsg is not probed (a short send could not be continued).
        op(SENDTO, OP_SEND, c -> c.a4 == 0 && c.a5 == 0 && c.a2 >= 0 && c.a2 <= MAX_RW_COUNT
                && sqe(c, OP_SEND, c.a0, 0, c.a1, c.a2, (int) c.a3) && (c.waits || dontwait(c)));
        // recvfrom asks O_NONBLOCK first instead (recvWaits): a server's receive usually finds
        // no data yet, so the probe came back EAGAIN and went round the ring twice.
        op(RECVFROM, OP_RECV, c -> c.a4 == 0 && c.a5 == 0 && c.a2 >= 0 && c.a2 <= MAX_RW_COUNT
                && sqe(c, OP_RECV, c.a0, 0, c.a1, c.a2, (int) c.a3) && recvWaits(c));
        op(SENDMSG, OP_SENDMSG, c -> sqe(c, OP_SENDMSG, c.a0, 0, c.a1, 0, (int) c.a2));
        op(RECVMSG, OP_RECVMSG, c -> sqe(c, OP_RECVMSG, c.a0, 0, c.a1, 0, (int) c.a2) && dontwait(c));
        op(SHUTDOWN, OP_SHUTDOWN, c -> sqe(c, OP_SHUTDOWN, c.a0, 0, 0, c.a1, 0));
        // socket(domain, type, protocol): fd = domain, off = type, len = protocol.
        op(SOCKET, OP_SOCKET, c -> sqe(c, OP_SOCKET, c.a0, c.a1, 0, c.a2, 0));
        op(FTRUNCATE, OP_FTRUNCATE, c -> c.a1 >= 0 && sqe(c, OP_FTRUNCATE, c.a0, c.a1, 0, 0, 0));
        // bind(fd, addr, addrlen): addr2 = addrlen.
        op(BIND, OP_BIND, c -> sqe(c, OP_BIND, c.a0, c.a2, c.a1, 0, 0));
        op(LISTEN, OP_LISTEN, c -> sqe(c, OP_LISTEN, c.a0, 0, 0, c.a1, 0));
        // epoll_ctl(epfd, op, fd, event*): len = op, off = fd; the kernel copies the event.
        op(EPOLL_CTL, OP_EPOLL_CTL, c -> sqe(c, OP_EPOLL_CTL, c.a0, c.a2, c.a3, c.a1, 0));
    }

    private static boolean rw(UringCall c, int opcode, long fd, long addr, long len, long off) {
        return sqe(c, opcode, fd, off, addr, len, 0);
    }

    /** Adds a "do not wait" probe the syscall did not ask for (see UringCall.nowaitProbe). */
    private static boolean nowait(UringCall c, int opFlags, int ioprio) {
        c.nowaitOpFlags = opFlags & ~c.opFlags;
        c.nowaitIoprio = (short) (ioprio & ~c.ioprio);
        c.opFlags |= opFlags;
        c.ioprio |= (short) ioprio;
        c.nowaitProbe = true;
        return true;
    }

    /** MSG_DONTWAIT as a probe, unless the caller's flags have it already. */
    private static boolean dontwait(UringCall c) {
        return (c.opFlags & (MSG_DONTWAIT | MSG_WAITALL)) != 0 || nowait(c, MSG_DONTWAIT, 0);
    }

    /**
     * recvfrom without a probe: one fcntl(F_GETFL) on the calling thread decides. A blocking
     * socket's receive goes to the ring as the caller made it (io_uring tries it at once and,
     * with no data, waits with its internal poll, as the syscall waits); an O_NONBLOCK one
     * gets MSG_DONTWAIT, so EAGAIN comes back as the syscall's answer. With the MSG_DONTWAIT
     * probe instead, a receive that found no data (in a request-response server, the usual
     * case: the peer is still reading the last response) cost a CQE, an fcntl and a second
     * submission. The caller's own MSG_DONTWAIT or MSG_WAITALL is left as for the others.
     */
    private static boolean recvWaits(UringCall c) {
        if (c.waits || (c.opFlags & (MSG_DONTWAIT | MSG_WAITALL)) != 0) return true;
        if (FdKinds.nonBlocking(c.fd)) c.opFlags |= MSG_DONTWAIT;
        return true;
    }

    private static boolean splice(UringCall c) {
        sqe(c, OP_SPLICE, c.a2, -1, -1, c.a4, (int) c.a5);
        c.spliceFdIn = (int) c.a0;
        return true;
    }

    /** The common SQE shape: fd, off (or addr2), addr, len, op_flags. */
    private static boolean sqe(UringCall c, int opcode, long fd, long off, long addr, long len, int opFlags) {
        c.opcode = (byte) opcode;
        c.fd = (int) fd;
        c.off = off;
        c.addr = addr;
        c.len = (int) len;
        c.opFlags = opFlags;
        c.ioprio = 0;
        c.spliceFdIn = 0;
        c.nowaitProbe = false;
        c.nowaitOpFlags = 0;
        c.nowaitIoprio = 0;
        return true;
    }

    /**
     * For a call that has an operation on this kernel but that the preparation declined: true
     * if the syscall may then wait without bound (a read, write, send or receive of more than
     * MAX_RW_COUNT bytes, a send or receive with an address, a splice with offset pointers or
     * of more than 2^32-1 bytes), so that it must not be made on a carrier's thread; it goes to
     * the SYSCALL_THREADS fallback. Every other declined shape returns at once from the
     * syscall (ESPIPE, EINVAL, EINPROGRESS, EAGAIN on O_NONBLOCK, a zero-length transfer) and
     * is made directly.
     */
    static boolean declinedMayWait(SyscallTable.Call call, long a1, long a2, long a3, long a4, long a5) {
        int nr = call.nr();
        if (nr == READ || nr == WRITE) return a2 < 0 || a2 > MAX_RW_COUNT;
        if (nr == SENDTO || nr == RECVFROM) return a4 != 0 || a5 != 0 || a2 < 0 || a2 > MAX_RW_COUNT;
        if (nr == SPLICE) return a4 != 0 && (a1 != 0 || a3 != 0 || a4 < 0 || a4 > MAX_U32);
        return false;
    }

    /** The row for {@code nr}, or null if io_uring has no operation for it. */
    static Op lookup(int nr) {
        return nr >= 0 && nr < NR_LIMIT ? BY_NR[nr] : null;
    }

    /**
     * Which allow-listed calls run on the ring of a kernel with these opcodes:
     * {@code routed[nr]} true for the ring, false for a direct call.
     */
    static boolean[] route(boolean[] supportedOpcodes) {
        boolean[] ring = new boolean[NR_LIMIT];
        for (Op o : ALL.values()) {
            ring[o.call().nr()] = supportedOpcodes[o.opcode()];
        }
        return ring;
    }

    /**
     * True for the calls whose purpose is to wait for readiness, poll and epoll_wait: with no
     * row they run on the fallback, never directly (see the class comment for why no row).
     */
    static boolean waitsForReadiness(int nr) {
        return nr == SyscallTable.POLL || nr == SyscallTable.EPOLL_WAIT;
    }

    /**
     * {@link #waitsForReadiness(int)} for one call: poll (timeout {@code a2}) or epoll_wait
     * (timeout {@code a3}) with a timeout of 0 returns at once (a selector's reap, a readiness
     * check), so it is made directly and not handed to the fallback.
     */
    static boolean waitsForReadiness(int nr, long a2, long a3) {
        return nr == SyscallTable.POLL ? (int) a2 != 0 : nr == SyscallTable.EPOLL_WAIT && (int) a3 != 0;
    }

    /** Where the engine's readiness wait of one descriptor (awaitReady) runs on a kernel with these opcodes. */
    static String describeReadiness(boolean[] supportedOpcodes) {
        return supportedOpcodes[OP_POLL_ADD] ? "awaitReady: IORING_OP_POLL_ADD in the caller's ring"
                : "awaitReady: poll on the fallback (no IORING_OP_POLL_ADD)";
    }

    /** "io_uring ops for: a b; made directly (no op): c d; fallback (readiness waits): e" for the probe and the docs. */
    static String describe(boolean[] ring) {
        java.util.StringJoiner r = new java.util.StringJoiner(" "), f = new java.util.StringJoiner(" "),
                w = new java.util.StringJoiner(" ");
        for (SyscallTable.Call c : SyscallTable.all().values()) {
            (ring[c.nr()] ? r : waitsForReadiness(c.nr()) ? w : f).add(c.name());
        }
        return "io_uring ops for: " + r + "; made directly (no op): " + f + "; fallback (readiness waits): " + w;
    }
}
