package dev.flexsc.spi;

import java.io.IOException;

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
     * The file descriptors this engine owns, which {@link dev.flexsc.Syscalls} and
     * {@link dev.flexsc.SyscallBatch} refuse as descriptor arguments ({@link OwnedFds}).
     * None by default. Called on every call with a descriptor argument: return a field.
     */
    default OwnedFds ownedFds() {
        return OwnedFds.NONE;
    }
}
