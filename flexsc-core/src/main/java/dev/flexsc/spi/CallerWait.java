package dev.flexsc.spi;

import java.util.concurrent.TimeUnit;

/**
 * How a caller waits for a call (or a batch) it posted, the same for every engine: spin a
 * little, then sleep in the engine's wait and look again; an interrupt of the thread, or a
 * cancel of the {@link CancelScope} it runs in, cancels a call that may block without bound,
 * again and again until it ends. The phases and their bounds live here, named with their
 * reasons, in the manner of the LMAX Disruptor's wait strategies; what "done", "cancel" and
 * "sleep" mean is the engine's ({@link Waitable}).
 *
 * <p>A caller never gives up on a posted call: it waits until the engine says the call is
 * settled, so the memory the call was given stays the caller's until then. The interrupt
 * status is cleared while waiting and reported back; the caller restores it once it has its
 * result (it also tells an EINTR the caller asked for from one the engine's close caused).
 */
public final class CallerWait {
    private CallerWait() {}

    /**
     * {@link Waitable#sleep}'s timeout for a sleep that only a wake-up ends: a green thread
     * parked until its carrier fires its call.
     */
    public static final long UNTIL_WOKEN = Long.MAX_VALUE;
    /**
     * How long a platform caller sleeps in the engine's wait before it looks again. A
     * completion ends the sleep at once; the bound is for what cannot: an interrupt or a
     * scope's cancel (neither ends a futex wait or an ioctl), a wake-up of the executors that
     * failed, a close. 20 ms: 50 looks a second for a caller blocked in a read, a hundredth of
     * the 2 s the interrupt tests allow.
     */
    public static final long SLEEP_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * While a cancel is wanted and the call has not ended: the pause before the call is
     * cancelled again. A cancel that reaches the executor before the call sleeps in the
     * kernel is lost (the signal or the module's CANCEL finds nothing to interrupt), so it is
     * repeated until one takes; 1 ms keeps a cancelled read's latency near the cancel's own.
     */
    public static final long RECANCEL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * A call still running after the engine stopped its executors (stuck in the kernel, on
     * FUSE or NFS) has nobody to wake its caller: it looks again after this pause, doubled
     * each time up to {@link #STUCK_MAX_PAUSE_NANOS}, so a call that ends soon is seen soon
     * and one that never ends costs a look every 50 ms.
     */
    public static final long STUCK_FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** The longest pause between looks at a stuck call (see {@link #STUCK_FIRST_PAUSE_NANOS}). */
    public static final long STUCK_MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** One posted call or batch, as its caller waits for it. Used by one thread at a time. */
    public interface Waitable {
        /**
         * True once the caller can go on: the call completed, or the engine stopped (the
         * caller then settles what is left). Its load is an acquire that pairs with the
         * completer's release, so the result is visible after it.
         */
        boolean isDone();

        /** True if the call (or one of the batch) may block without bound: an interrupt cancels it. */
        boolean mayBlock();

        /**
         * Cancels what may block and is running (it returns -EINTR); best effort, called
         * again every {@link #RECANCEL_NANOS} while the caller wants it cancelled.
         */
        void cancel();

        /**
         * Sleeps until a completion, a wake-up or {@code timeoutNanos} ({@link #UNTIL_WOKEN}:
         * no timeout); may return early. The engine's sleep protocol: it registers as a sleeper,
         * then rechecks {@link #isDone()} before it sleeps (the Dekker pairing with the
         * completer, which publishes the completion, then looks for sleepers). A sleep with no
         * timeout of a call that may block registers with the {@link CancelScope} too
         * ({@link PendingCall#parkUntilFired}), so a scope's cancel ends it.
         */
        void sleep(long timeoutNanos);
    }

    /**
     * Spins up to {@code rounds} looks while the caller's carrier has nothing else to run (a
     * completion that arrives within it costs no sleep and no switch).
     *
     * @param rounds {@link dev.flexsc.FlexscConfig#callerSpin()}
     * @param carrier the caller's carrier, or null on a platform thread (which spins them all)
     * @return true if {@code w} is done
     */
    public static boolean spin(Waitable w, int rounds, CallCarrier carrier) {
        for (int i = 0; i < rounds; i++) {
            if (carrier != null && carrier.hasOtherWork()) return false;
            if (w.isDone()) return true;
            Thread.onSpinWait();
        }
        return false;
    }

    /**
     * Waits until {@code w} is done: sleeps in slices of {@code sliceNanos}
     * ({@link #SLEEP_SLICE_NANOS}, or {@link #UNTIL_WOKEN} for a green thread its carrier
     * unparks); while an interrupt or a scope's cancel asks for it, cancels a call that may
     * block every {@link #RECANCEL_NANOS}.
     *
     * @return true if the thread was interrupted (its flag is cleared: the caller restores it)
     */
    public static boolean await(Waitable w, long sliceNanos) {
        boolean interrupted = false;
        while (!w.isDone()) {
            if (Thread.interrupted()) interrupted = true;
            if ((interrupted || CancelScope.requested()) && w.mayBlock()) {
                w.cancel(); // the call returns -EINTR; repeated until it does
                w.sleep(RECANCEL_NANOS);
            } else {
                w.sleep(sliceNanos);
            }
        }
        return interrupted;
    }

    /**
     * Waits for a call that runs on after the engine stopped its executors (nothing wakes its
     * caller): looks with growing pauses ({@link #STUCK_FIRST_PAUSE_NANOS} to
     * {@link #STUCK_MAX_PAUSE_NANOS}), cancelling it on an interrupt or a scope's cancel.
     *
     * @return true if the thread was interrupted meanwhile (its flag is cleared)
     */
    public static boolean awaitStuck(Waitable w) {
        boolean interrupted = false;
        long pause = STUCK_FIRST_PAUSE_NANOS;
        while (!w.isDone()) {
            if (Thread.interrupted()) interrupted = true;
            if ((interrupted || CancelScope.requested()) && w.mayBlock()) w.cancel(); // best effort
            w.sleep(pause); // nothing wakes it: a timed park
            pause = Math.min(pause * 2, STUCK_MAX_PAUSE_NANOS);
        }
        return interrupted;
    }
}
