package dev.flexsc.io;

import dev.flexsc.Syscalls;
import dev.flexsc.spi.CancelScope;

import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * The one place where a FlexSC channel or selector waits for a descriptor to become ready:
 * through the engine ({@link Syscalls#awaitReady}: an io_uring poll entry where the engine
 * has one, a posted poll(2) elsewhere), never around it. A green thread parks while it
 * waits and its carrier runs others; a platform thread waits as the engine's call policy
 * says. A carrier's own poll entries (one per connection, kept armed in the carrier's ring)
 * would be the next form of this wait; every caller reaches it through here.
 */
final class Readiness {
    private Readiness() {}

    /** {@link #await}'s answer when the wait was cancelled (close, interrupt). */
    static final int CANCELLED = -1;

    /**
     * Waits until {@code fd} has one of {@code events} or {@code timeoutMs} passed (negative:
     * without bound), in {@code scope} so that closing the channel ({@link CancelScope#cancel})
     * ends the wait.
     *
     * @return the ready events (POLLERR, POLLHUP, POLLNVAL included), 0 on timeout, or
     *         {@link #CANCELLED} if the wait was cancelled by the scope or by an interrupt of
     *         the calling thread (its status is left set); the caller then looks at why
     */
    static int await(Syscalls sys, int fd, int events, int timeoutMs, CancelScope scope) throws IOException {
        try {
            return scope.run(() -> sys.awaitReady(fd, events, timeoutMs));
        } catch (InterruptedIOException e) {
            return CANCELLED;
        } catch (dev.flexsc.ErrnoException e) {
            if (e.errno() == dev.flexsc.Errno.EINTR) return CANCELLED;
            throw e;
        }
    }
}
