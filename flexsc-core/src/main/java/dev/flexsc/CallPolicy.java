package dev.flexsc;

import java.util.Arrays;
import java.util.Locale;

/**
 * When an engine posts a call to its syscall threads (exception-less) and when the calling
 * thread makes it itself with an ordinary system call. Set per engine with
 * {@link FlexscConfig.Builder#policy(CallPolicy)} or the system property
 * {@code flexsc.policy}; the engine's data plane applies it to every call, whichever API
 * made it. Either way only allow-listed calls run: refused calls are refused before the
 * policy is consulted.
 *
 * <p>See docs/io.md ("Call policies") for how {@link #ADAPTIVE} decides and what it was
 * measured to cost. The engines apply the policy through one rule,
 * {@code dev.flexsc.spi.PostingRule}.
 */
public enum CallPolicy {
    /**
     * Post every call to the syscall pages (or ring) and wait for its completion: a green
     * thread parks and its carrier runs others; a platform thread spins, then sleeps.
     */
    EXCEPTIONLESS,
    /**
     * Make every call directly on the calling thread (one FFM downcall, one trap): the
     * baseline. A call that blocks (a read on an empty pipe) blocks the caller's OS thread,
     * for a green thread its carrier and every green thread queued on it, and
     * {@link Thread#interrupt()} does not cancel it.
     */
    DIRECT,
    /**
     * The default: post when the wait can be used, call directly when it cannot. A platform
     * thread calls directly (it has nothing else to run while it waits). A green thread posts
     * when its carrier has other threads to run, the engine has room, and calls on this
     * carrier have recently still been running two thread switches after they were posted
     * (the call costs more than the switches posting it costs); otherwise it calls directly.
     * Calls that may block without bound never block the caller's thread: a read or write is
     * tried directly without waiting ({@code RWF_NOWAIT}), a recvfrom or sendto likewise
     * ({@code MSG_DONTWAIT}; a recvfrom with {@code MSG_WAITALL} is always posted), and posted
     * if it would block; the other such calls (accept, connect, sendfile, ...) are always posted.
     */
    ADAPTIVE;

    /**
     * Parses a policy name, any case.
     *
     * @throws IllegalArgumentException naming {@code what} and the accepted names
     */
    public static CallPolicy parse(String what, String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException(what + "=" + value + ": expected one of "
                    + Arrays.toString(values()) + " (any case)");
        }
    }
}
