package dev.flexsc.spi;

import java.io.IOException;

/**
 * An engine that runs several independent calls as one batch: it posts them together
 * (with as few shared-memory read-modify-writes or kernel entries as it can) and waits once
 * for all of them. {@link dev.flexsc.SyscallBatch} uses it when the engine behind a
 * {@link dev.flexsc.Syscalls} implements it, and runs the calls one by one otherwise (the
 * direct baseline).
 */
public interface BatchInvoker {
    /**
     * Runs every call of {@code batch} and returns once each position is settled, exactly
     * once: {@link CallBatch#complete} with its raw kernel result, or {@link CallBatch#fail}
     * with an {@link dev.flexsc.EngineClosedException} if the engine closed before it ran
     * (or while it ran and its result was lost). Calls of a batch may run in any order and
     * concurrently. A batch larger than the engine's free capacity is posted in parts as
     * entries free up; it never waits on an entry it holds unposted.
     *
     * <p>Interrupt: as for single calls, a call that may block without bound is cancelled
     * (its result is {@code -EINTR}); others complete first; the interrupt status stays set.
     *
     * @throws IOException only if the engine's machinery failed (a wake-up could not be
     *         sent); positions not settled then are failed with that exception first
     */
    void invokeBatch(CallBatch batch) throws IOException;

    /**
     * Whether {@link dev.flexsc.SyscallBatch} should use {@link #invokeBatch} (true) or run
     * the calls one by one through the engine's single-call path (false). Engines return
     * false under the DIRECT call policy, which never posts: its batches are direct calls.
     */
    default boolean postsBatches() {
        return true;
    }
}
