package dev.flexsc.threads;

import dev.flexsc.spi.CarrierContext;
import dev.flexsc.spi.PendingCall;

import java.util.concurrent.locks.LockSupport;

/**
 * How a carrier with nothing to run waits, and how other threads wake it: the phases of its
 * {@link IdlePolicy} (spin, yield, then sleep), and the sleep itself. With a context of its
 * own (an io_uring ring) the carrier sleeps in the kernel in its primary context, in the one
 * system call that also submits what its threads posted ({@link CarrierContext#idle}); a
 * completion or a wake-up (an eventfd write) ends it. Without one, on the done_seq of
 * a page engine's pending call, or, with none pending, in a park.
 *
 * <p>No lost wake-up: the carrier reads the done_seq (if it sleeps on one), announces
 * SLEEPING ({@link SleepState#announce()}: volatile store, full fence), and only then rechecks
 * its queues and pending calls; a waker offers its work, then claims the wake-up
 * ({@link SleepState#claimWake()}: full fence, read of the state, CAS SLEEPING to RUNNING), and
 * if it moved the carrier it wakes what the carrier sleeps in (the context's eventfd, or the
 * word) and unparks it. One of the two sees the other. A wake-up that reaches a context whose
 * carrier is no longer in the kernel is kept there (the eventfd count) and ends the next sleep
 * at once: harmless.
 */
final class CarrierIdle {
    private final CarrierThread carrier;
    private final IdlePolicy policy;
    private final CarrierContexts contexts;
    private final PendingCalls pending;
    private final CarrierStats stats;
    private final SleepState state = new SleepState();
    /**
     * The call whose done_seq the carrier sleeps on, or null when it parks. Plain:
     * written before the volatile store of SLEEPING, read by a waker after its CAS read SLEEPING.
     */
    private PendingCall sleepingOn;
    /**
     * The context the carrier sleeps in, or null. Plain: written before the volatile store of
     * SLEEPING, read by a waker after its CAS read SLEEPING.
     */
    private CarrierContext sleepingIn;

    CarrierIdle(CarrierThread carrier, IdlePolicy policy, CarrierContexts contexts, PendingCalls pending,
                CarrierStats stats) {
        this.carrier = carrier;
        this.policy = policy;
        this.contexts = contexts;
        this.pending = pending;
        this.stats = stats;
    }

    /**
     * Carrier thread: one idle round with nothing to run, as {@link IdlePolicy#phase} says.
     * Returns the next round's number (0 after a sleep).
     */
    int round(int round) {
        switch (policy.phase(round)) {
            case SPIN -> Thread.onSpinWait();
            case YIELD -> Thread.yield();
            case BLOCK -> {
                sleep();
                return 0;
            }
        }
        return round + 1;
    }

    /**
     * Carrier thread: sleeps until new work arrives (a waker CASes SLEEPING -> RUNNING and
     * wakes the context or the done_seq it sleeps on, and unparks the carrier) or one
     * of its calls completes.
     */
    private void sleep() {
        CarrierContext in = contexts.primary();
        PendingCall on = pending.sleepTarget();
        if (on != null && in != null && !in.notifies() && !in.hasCalls() && contexts.size() == 1) {
            // A context with nothing in flight whose sleep the watched calls' completions
            // cannot end (KERNEL_MODULE's carrier group): sleep on their done_seq.
            in = null;
        }
        boolean oneWord = pending.oneWord();
        FlexscScheduler scheduler = carrier.scheduler();
        // Read before announcing SLEEPING: a completion or a waker's bump after this read
        // changes the word, so the futex wait below returns at once.
        int word = on != null ? on.doneSeq() : 0;
        sleepingIn = in; // plain: published by the volatile store of SLEEPING
        sleepingOn = on;
        state.announce(); // SLEEPING, then a full fence: visible before the rechecks below
        scheduler.sleepers.incrementAndGet();
        try {
            // carrier.held: a monitor's mark that came after the loop's look must not sleep
            // with the carrier (Dekker with FlexscScheduler.compensate: see there).
            if (!carrier.hasQueuedWork() && !carrier.heldInboxWaiting() && !pending.anySettled(word)
                    && !carrier.held && !scheduler.isStopping()) {
                long t0 = stats.sleepBegins();
                if (in != null) {
                    // In the kernel, submitting the round's calls in the same entry; with page
                    // engines' calls pending too, only briefly (their completions do not end it).
                    // Briefly too when a context's completions cannot end the primary's sleep.
                    long timeout = on == null && contexts.othersWakePrimary()
                            ? policy.blockTimeoutNanos() : policy.multiWordTimeoutNanos();
                    // A compensator reaping a held carrier's ring: that ring's completions do
                    // not end this sleep, so it looks again after a short while.
                    if (carrier.reapsForHeld()) timeout = Math.min(timeout, CarrierMonitor.HELD_REAP_NANOS);
                    int n = in.idle(timeout);
                    n += contexts.pollOthers();
                    stats.sleepEnded(t0);
                    if (n > 0) stats.contextReaped(n);
                    return;
                } else if (carrier.reapsForHeld()) {
                    LockSupport.parkNanos(this, CarrierMonitor.HELD_REAP_NANOS); // no context of its own yet
                } else if (on != null) {
                    // Calls on several done_seq words: sleep on one with a short timeout.
                    on.sleepUntilCompletion(word, oneWord ? policy.blockTimeoutNanos() : policy.multiWordTimeoutNanos());
                } else {
                    LockSupport.park(this);
                }
                stats.sleepEnded(t0);
            } else {
                stats.spinWakes++;
            }
        } finally {
            scheduler.sleepers.decrementAndGet();
            state.running();
            sleepingOn = null;
            sleepingIn = null;
        }
    }

    /** True while the carrier sleeps (or is about to). */
    boolean isSleeping() {
        return state.isSleeping();
    }

    /** Any thread, after making work visible to the carrier: wakes it if it sleeps. */
    void wake() {
        if (state.claimWake()) {
            // The CAS read the carrier's volatile store of SLEEPING, which followed its
            // plain stores of sleepingIn and sleepingOn: the reads below see them.
            CarrierContext in = sleepingIn;
            if (in != null) {
                in.wake(); // ends its io_uring_enter (an eventfd write), or its next one
                return;
            }
            PendingCall on = sleepingOn;
            if (on != null) {
                on.wakeSleepers(); // bumps the done_seq: its futex wait returns
            }
            LockSupport.unpark(carrier);
        }
    }
}
