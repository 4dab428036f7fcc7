package dev.flexsc.spi;

import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The one operation every engine provides: run one allow-listed system call and
 * return the kernel's raw result ({@code >= 0} value, {@code < 0} {@code -errno}).
 * {@link dev.flexsc.Syscalls} builds the typed API on top of it.
 */
@FunctionalInterface
public interface SyscallInvoker {
    /**
     * Runs system call {@code nr} with six arguments and waits for its result.
     *
     * @return the raw kernel result: a value, or {@code -errno}
     * @throws dev.flexsc.RefusedCallException if {@code nr} is not allow-listed (nothing was submitted)
     * @throws dev.flexsc.EngineClosedException if the engine closed before the call ran
     */
    long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException;

    /**
     * As {@link #invoke(int, long, long, long, long, long, long)}, for a call whose descriptor
     * argument {@code a0} the caller knows to be of {@code kind} until the call returns (see
     * {@link dev.flexsc.FdKind} for the promise). An engine's call policy may then skip what it
     * does to find out ({@link PostingRule}); the default ignores the kind. An invoker that
     * wraps another passes the kind on.
     */
    default long invoke(dev.flexsc.FdKind kind, int nr, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        return invoke(nr, a0, a1, a2, a3, a4, a5);
    }

    /**
     * Waits until descriptor {@code fd} has one of {@code events} (poll(2) bits) or
     * {@code timeoutMs} milliseconds passed (negative: without bound): the one readiness wait
     * of the engine, what a FlexSC channel in blocking mode and a FlexSC selector wait with.
     * An engine with a readiness operation of its own (an io_uring poll entry) overrides it;
     * the default is poll(2) of one {@code struct pollfd} in memory this method owns, through
     * {@link #invoke} (so posted or made directly as the engine's call policy says).
     *
     * @return the raw result: the ready events ({@code revents}, POLLERR, POLLHUP and POLLNVAL
     *         included), 0 on timeout, or {@code -errno} ({@code -EINTR} when an interrupt or a
     *         {@link CancelScope} cancelled the wait)
     */
    default long awaitReady(int fd, int events, int timeoutMs) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8, 4); // struct pollfd: int fd, short events, short revents
            p.set(ValueLayout.JAVA_INT, 0, fd);
            p.set(ValueLayout.JAVA_SHORT, 4, (short) events);
            long r = invoke(SyscallTable.POLL, p.address(), 1, timeoutMs, 0, 0, 0);
            return r <= 0 ? r : Short.toUnsignedInt(p.get(ValueLayout.JAVA_SHORT, 6));
        }
    }

    /**
     * The file descriptors this engine owns, which {@link dev.flexsc.Syscalls} and
     * {@link dev.flexsc.SyscallBatch} refuse as descriptor arguments ({@link OwnedFds}).
     * None by default. Called on every call with a descriptor argument: return a field.
     */
    default OwnedFds ownedFds() {
        return OwnedFds.NONE;
    }
}
