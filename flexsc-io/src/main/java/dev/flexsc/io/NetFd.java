package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.CancelScope;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * The descriptor of a socket or pipe channel with what every operation on it needs: its
 * reference count ({@link ChannelFd}), the calls it makes, the readiness wait, and the
 * provider's counters. Raw results are turned into the JDK's I/O status codes here, once,
 * so the channels read like the JDK's: {@code > 0} a count, {@link #EOF}, {@link #UNAVAILABLE}
 * (EAGAIN: the operation would block), {@link #INTERRUPTED} (EINTR), {@link #CLOSED} (the
 * channel was closed before the call, which was not made); other errors come back as
 * {@code -errno} for the channel to turn into its exception.
 *
 * <p>The descriptor is O_NONBLOCK from birth (SOCK_NONBLOCK, pipe2's O_NONBLOCK, accept4's
 * SOCK_NONBLOCK) and stays so: a channel in blocking mode tries the call and, when it would
 * block, waits for readiness through the engine ({@link Readiness}) and tries again, as the
 * JDK's channels do for virtual threads.
 */
final class NetFd {
    /** End of stream. */
    static final long EOF = -1;
    /** The call would have blocked (EAGAIN). */
    static final long UNAVAILABLE = -2;
    /** The call was interrupted (EINTR). */
    static final long INTERRUPTED = -3;
    /** The channel was closed before the call: nothing was called. */
    static final long CLOSED = -4;
    /** Below this, a result is {@code -errno - ERRNO_BASE}: an error for the channel to throw. */
    private static final long ERRNO_BASE = 1000;

    final Syscalls sys;
    final ChannelFd fd;
    final ProviderCounters counters;
    /** Waits run in this scope: the channel's close cancels it, which ends a wait on any engine. */
    final CancelScope waits = new CancelScope();

    static {
        NetErrors.load(); // the channels' error path, loaded before an EMFILE can need it (see there)
    }

    NetFd(Syscalls sys, int fd, ProviderCounters counters) {
        this.sys = sys;
        this.fd = new ChannelFd(fd, sys);
        this.counters = counters;
    }

    int fdVal() {
        return fd.fd();
    }

    /** True if {@code r} (a status of this class) is an error whose errno {@link #errno} gives. */
    static boolean isError(long r) {
        return r <= -ERRNO_BASE;
    }

    /** The errno of an error status. */
    static int errno(long r) {
        return (int) (-r - ERRNO_BASE);
    }

    /**
     * Allow-listed call {@code nr} on this descriptor (its first argument), holding a
     * reference so that a concurrent close leaves the descriptor open until it returned.
     * A result of 0 stays 0 (callers that read know it as end of stream).
     */
    long call(int nr, long a1, long a2, long a3, long a4, long a5) throws IOException {
        if (!fd.acquire()) return CLOSED;
        try {
            return status(sys.syscall(nr, fd.fd(), a1, a2, a3, a4, a5));
        } finally {
            fd.release();
        }
    }

    /** A raw kernel result as a status: counts as they are, EAGAIN and EINTR named, errors offset. */
    static long status(long r) {
        if (r >= 0) return r;
        if (r == -Errno.EAGAIN) return UNAVAILABLE;
        if (r == -Errno.EINTR) return INTERRUPTED;
        return r - ERRNO_BASE;
    }

    /**
     * bind(2) of this socket to {@code isa}, an address of {@code family}.
     *
     * @throws ClosedChannelException if the channel was closed
     * @throws java.net.BindException (or another exception of the errno: {@link NetErrors#bind})
     */
    void bind(int family, InetSocketAddress isa) throws IOException {
        long r;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = Sockaddr.encode(a, family, isa);
            r = call(SyscallTable.BIND, sa.address(), sa.byteSize(), 0, 0, 0);
        }
        if (r == CLOSED) throw new ClosedChannelException();
        if (isError(r)) throw NetErrors.bind(errno(r), isa);
    }

    /**
     * Waits (holding a reference) until the descriptor has one of {@code events}, up to
     * {@code timeoutMs} (negative: without bound). Returns the ready events, 0 on timeout,
     * {@link Readiness#CANCELLED} if closed or interrupted meanwhile, {@link #CLOSED} if it
     * was closed before.
     */
    long await(int events, int timeoutMs) throws IOException {
        if (!fd.acquire()) return CLOSED;
        try {
            return Readiness.await(sys, fd.fd(), events, timeoutMs, waits);
        } finally {
            fd.release();
        }
    }

    /**
     * The channel's close: marks the descriptor closed, cancels the waits in flight and, for
     * a socket with operations in flight, shuts it down (which wakes a call blocked in the
     * kernel on any engine); the descriptor is closed once the last operation and the last
     * selector registration let go of it.
     */
    void close(boolean socket) throws IOException {
        waits.cancel();
        if (socket) {
            fd.closeSocket();
        } else {
            long others = fd.closeAndHold();
            if (others >= 0) fd.releaseByCloser();
        }
    }
}
