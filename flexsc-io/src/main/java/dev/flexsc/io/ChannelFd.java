package dev.flexsc.io;

import dev.flexsc.EngineClosedException;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A channel's file descriptor with a count of the operations using it, so that closing
 * the channel never closes a descriptor a call may still be using: once the number is
 * released the kernel may hand it to another open, and a late read on it would read
 * someone else's file (the fd-reuse race).
 *
 * <p>One word holds both the count and the CLOSED bit, so "mark closed" and "is anyone
 * still inside" are decided by one atomic step. Every update is a CAS or an atomic add on
 * an {@link AtomicLong} (volatile, sequentially consistent): an operation that acquired
 * the fd happens-before the release that may close it, and the close(2) is issued
 * exactly once, by whichever of the closer and the last operation brings the word to
 * {@code CLOSED | 0}.
 */
final class ChannelFd {
    private static final long CLOSED = 1L << 62;

    private final int fd;
    private final Syscalls syscalls;
    /** CLOSED bit | number of operations holding the fd (the closer counts as one while it works). */
    private final AtomicLong state = new AtomicLong();

    ChannelFd(int fd, Syscalls syscalls) {
        this.fd = fd;
        this.syscalls = syscalls;
    }

    int fd() {
        return fd;
    }

    Syscalls syscalls() {
        return syscalls;
    }

    /** Takes a reference for one operation; false if the channel is closed (nothing taken). */
    boolean acquire() {
        while (true) {
            long s = state.get(); // volatile read; the CAS below validates it
            if ((s & CLOSED) != 0) return false;
            if (state.compareAndSet(s, s + 1)) return true;
        }
    }

    /** Drops an operation's reference; the last one after close() closes the fd (errors are dropped). */
    void release() {
        if (state.decrementAndGet() == CLOSED) { // atomic: exactly one caller sees CLOSED|0
            try {
                closeFd();
            } catch (IOException ignored) {
                // The channel's close() has returned already; nobody is left to tell.
            }
        }
    }

    /**
     * Marks the fd closed and takes a reference for the closer, so the fd stays valid while
     * the closer wakes blocked operations (shutdown(2) on a socket).
     *
     * @return the number of other operations in flight, or -1 if it was already closed
     */
    long closeAndHold() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) return -1;
            if (state.compareAndSet(s, (s | CLOSED) + 1)) return s;
        }
    }

    /** The closer's release: closes the fd now if no operation is left, reporting close(2)'s error. */
    void releaseByCloser() throws IOException {
        if (state.decrementAndGet() == CLOSED) closeFd();
    }

    /**
     * The middle of a channel's begin()/end() bracket: runs {@code call} holding a reference.
     * Returns -1, for the channel's end() to report, if the fd was closed before the call or
     * if the call failed because {@code channel} was closed or interrupted under it.
     */
    long run(Channel channel, ChannelIo.FdCall call) throws IOException {
        if (!acquire()) return -1;
        try {
            return call.run(fd);
        } catch (IOException e) {
            if (!channel.isOpen()) return -1; // closed or interrupted under the call: end() reports it
            throw e;
        } finally {
            release();
        }
    }

    /** A short call on the descriptor that never blocks. */
    @FunctionalInterface
    interface ShortCall<T> {
        T apply(int fd) throws IOException;
    }

    /**
     * Runs a call that never blocks (getsockname, setsockopt, shutdown) holding a reference,
     * outside the channel's begin()/end().
     *
     * @throws ClosedChannelException if the channel is closed
     */
    <T> T call(ShortCall<T> call) throws IOException {
        if (!acquire()) throw new ClosedChannelException();
        try {
            return call.apply(fd);
        } finally {
            release();
        }
    }

    /**
     * A socket channel's close: if operations are in flight, shutdown(SHUT_RDWR) wakes those
     * blocked in the kernel (read, write, connect; accept, which Linux then fails with
     * EINVAL), and the fd is closed once the last has left it. Nothing if already closed.
     */
    void closeSocket() throws IOException {
        long others = closeAndHold();
        if (others < 0) return;
        try {
            if (others > 0) syscalls.shutdown(fd, dev.flexsc.SocketConstants.SHUT_RDWR);
        } catch (IOException ignored) {
            // ENOTCONN: never connected, or not listening yet; nobody is blocked in the kernel
        } finally {
            releaseByCloser();
        }
    }

    /**
     * close(2) through the channel's engine, or directly if that engine is closed: the
     * descriptor is the channel's, not the engine's, so a closed engine's refusal must not
     * leak it. Only close goes around the engine so: it is the one call a channel must still
     * make after its engine is gone, and it needs nothing the engine provides.
     */
    private void closeFd() throws IOException {
        try {
            syscalls.close(fd);
        } catch (EngineClosedException e) {
            DirectSyscalls.syscalls().close(fd);
        }
    }
}
