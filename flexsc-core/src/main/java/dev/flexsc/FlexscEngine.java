package dev.flexsc;

/**
 * An open FlexSC engine: syscall pages shared with the threads (native or in the
 * kernel) that execute the calls posted to them.
 *
 * <p>Thread-safe: any number of threads may call through {@link #syscalls()} at
 * once. {@link #close()} stops the syscall threads and frees the pages; a call in
 * flight at that moment either completes with its result or fails with
 * {@link EngineClosedException}; no call is lost or completed twice.
 */
public interface FlexscEngine extends AutoCloseable {
    /** The engine actually running (never {@link Engine#AUTO}). */
    Engine engine();

    /** The configuration this engine was opened with. */
    FlexscConfig config();

    /** Typed, allow-listed system calls executed by this engine. */
    Syscalls syscalls();

    /** A snapshot of the counters. */
    EngineStats stats();

    /** True until {@link #close()} has been called. */
    boolean isOpen();

    /**
     * The engine implementation behind this handle as {@code type}, for its engine-specific
     * statistics (for example the io_uring engine's {@code uringStats()}), or null if it is
     * not one. The default engine ({@link Flexsc#syscalls()}'s) is a shared handle whose
     * {@link #close()} does nothing; this reaches the engine it stands for.
     *
     * @throws NullPointerException if {@code type} is null
     */
    default <T> T unwrap(Class<T> type) {
        return type.isInstance(this) ? type.cast(this) : null;
    }

    /**
     * Stops the syscall threads and unmaps the pages. Idempotent. Waits for calls in
     * flight to complete or fail (bounded by {@link FlexscConfig#closeTimeoutMillis()}).
     */
    @Override
    void close();
}
