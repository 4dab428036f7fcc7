package dev.flexsc.spi;

import java.io.IOException;

/**
 * One carrier's own submission and completion context for one engine: the calls its green
 * threads post through that engine wait here, and the carrier submits them, reaps their
 * completions (unparking their owners onto its own run queue) and, when it has nothing to
 * run, sleeps in the kernel through it. No other thread takes part in the steady state: no
 * completion thread, no hand-off, no contended lock.
 *
 * <p>The engine opens a context ({@link Provider#openContext}) on the carrier's own OS thread
 * the first time one of the carrier's green threads calls through it
 * ({@link CallCarrier#context}). Everything but {@link #wake()}, {@link #requestClose()} and
 * {@link #pollHeld} is confined to that thread: the carrier itself, or a green thread mounted on it (which posts
 * its call and then parks). A green thread that resumes on another carrier never touches
 * this context again except through those two methods.
 *
 * <p>The carrier's loop drives it: {@link #poll()} while it has work (on a budget) and when it
 * runs out, {@link #idle(long)} when nothing is runnable (after announcing its sleep, so that
 * a waker that sees the announcement calls {@link #wake()}). A carrier that holds several
 * contexts sleeps in one, its primary; the others {@linkplain #notifyOn notify} the primary's
 * {@linkplain #wakeFd() wake descriptor} of their completions.
 *
 * <p>Shapes this is meant to take: an io_uring ring per carrier (IO_URING: submit and wait
 * in one {@code io_uring_enter}; SQPOLL: carrier rings sharing one polling thread), and the
 * KERNEL_MODULE's group per carrier, whose idle is its WAIT with EXECUTE.
 */
public interface CarrierContext {
    /** Implemented by an engine that gives carriers contexts of their own. */
    @FunctionalInterface
    interface Provider {
        /**
         * Opens {@code carrier}'s context for this engine, on the carrier's own OS thread.
         *
         * @throws IOException if it cannot (the engine is closed, or the kernel refused the
         *         resources); the caller then waits for its call the platform way
         */
        CarrierContext openContext(CallCarrier carrier) throws IOException;
    }

    /**
     * Carrier: submits what its threads posted since the last call, reaps what completed and
     * unparks the owners (onto this carrier's local queue). Never sleeps. Also carries out
     * what other threads asked of it ({@link #requestClose()}, cancellations).
     *
     * @return completions reaped
     */
    int poll();

    /**
     * Carrier, cheap (no system call, no lock): false only if {@link #poll()} would find
     * nothing to do now: no completion to reap, no call to submit, no completion work the
     * kernel holds for the carrier, nothing asked of it by another thread. The carrier's idle
     * rounds look here and poll only on true. It may answer true when there is nothing (the
     * poll then finds nothing); a false may miss work offered by another thread an instant
     * ago (that thread also wakes the carrier, which polls before it sleeps). The default
     * always says true.
     */
    default boolean needsPoll() {
        return true;
    }

    /**
     * Carrier, between two of its dispatches: reaps the completions that are ready, without
     * submitting, and unparks their owners as {@link #poll()} does, so that a completion does
     * not wait for the carrier's next poll behind the threads it runs meanwhile. Cheap when
     * there are none (a look at shared memory, no system call); a system call at most where
     * the kernel holds ready completions until the carrier enters it. The default reaps
     * nothing.
     *
     * @return completions reaped
     */
    default int reapPosted() {
        return 0;
    }

    /**
     * Carrier: true while calls posted here have not completed (their owners are parked on
     * this carrier), so a caller that could spin for its own completion parks instead.
     */
    boolean hasCalls();

    /**
     * Carrier, with nothing to run and its sleep announced: submits what is queued and sleeps
     * in the kernel until a completion arrives, {@link #wake()} is called (also a call made
     * before this one and after the last idle), or {@code timeoutNanos} pass; then reaps as
     * {@link #poll()} does. Spurious returns are allowed.
     *
     * @return completions reaped
     */
    int idle(long timeoutNanos);

    /**
     * Another carrier (the compensator of this context's carrier while one green thread holds
     * it, so that its loop neither submits nor reaps): does what it can of {@link #poll()} in
     * the carrier's stead without waiting for the carrier. The calls posted here and not yet
     * handed to the kernel may move to the calling carrier's own context of the same engine,
     * which {@code into} gives (opening it if need be; null if it cannot), asked only when a
     * call moves; completions unpark their owners onto the calling carrier. Returns 0 at once while the carrier itself uses the context. No completion is
     * lost or dispatched twice whatever the carrier does meanwhile: the implementation states
     * how it shares the context. Default: does nothing (the context's calls wait for its
     * carrier).
     *
     * @return calls moved and completions reaped
     */
    default int pollHeld(java.util.function.Supplier<CarrierContext> into) {
        return 0;
    }

    /**
     * Any thread: ends the carrier's current {@link #idle} or, if it is not sleeping yet, its
     * next one at once. Never blocks; a wake-up with no sleeper is harmless.
     */
    void wake();

    /**
     * A descriptor whose readability ends {@link #idle} (an eventfd), for the carrier's other
     * contexts to {@linkplain #notifyOn notify}; -1 if this context has none.
     */
    int wakeFd();

    /**
     * Carrier: from now on, every completion here also makes {@code fd} (the primary
     * context's {@link #wakeFd()}) readable, so that it ends the primary's idle; -1 stops it.
     */
    void notifyOn(int fd);

    /**
     * False if this context cannot {@linkplain #notifyOn notify} another's wake descriptor of
     * its completions (nor be notified: its {@link #wakeFd()} is -1): a carrier that holds it
     * with another context then sleeps with a short timeout. Default true.
     */
    default boolean notifies() {
        return true;
    }

    /**
     * Any thread (the engine's close): asks the carrier to close this context. The carrier
     * cancels the calls that may block without bound, waits for the others to complete, then
     * releases the context's resources; {@link #isClosed()} then says so.
     */
    void requestClose();

    /** Carrier: true once the context is closed; the carrier then forgets it. */
    boolean isClosed();

    /**
     * The carrier, as it stops (its scheduler closes): cancels what may block, waits up to
     * {@code timeoutNanos} for the calls in flight, then releases the context. Calls still in
     * flight then belong to green threads that will never run again.
     */
    void close(long timeoutNanos);
}
