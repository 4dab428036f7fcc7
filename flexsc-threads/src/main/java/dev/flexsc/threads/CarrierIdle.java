package dev.flexsc.threads;

import dev.flexsc.spi.PendingCall;

import java.util.concurrent.locks.LockSupport;

/**
 * How a carrier with nothing to run waits, and how other threads wake it: the phases of its
 * {@link IdlePolicy} (spin, yield, then sleep), and the sleep itself, on the completion word
 * of a pending call (so that a completion ends it) or, with none pending, in a park.
 *
 * <p>No lost wake-up: the carrier reads the completion word, announces SLEEPING
 * ({@link SleepState#announce()}), and only then rechecks its queues and pending calls; a
 * waker offers its work, then claims the wake-up ({@link SleepState#claimWake()}), and if it
 * moved the carrier from SLEEPING to RUNNING it bumps the word the carrier sleeps on and
 * unparks it. One of the two sees the other.
 */
final class CarrierIdle {
    private final CarrierThread carrier;
    private final IdlePolicy policy;
    private final PendingCalls pending;
    private final CarrierStats stats;
    private final SleepState state = new SleepState();
    /**
     * The call whose completion word the carrier sleeps on, or null when it parks. Plain:
     * written before the volatile store of SLEEPING, read by a waker after its CAS read SLEEPING.
     */
    private PendingCall sleepingOn;

    CarrierIdle(CarrierThread carrier, IdlePolicy policy, PendingCalls pending, CarrierStats stats) {
        this.carrier = carrier;
        this.policy = policy;
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
     * unparks the carrier, or bumps the completion word it sleeps on) or one of its pending
     * calls completes.
     */
    private void sleep() {
        PendingCall on = pending.sleepTarget();
        boolean oneWord = pending.oneWord();
        FlexscScheduler scheduler = carrier.scheduler();
        // Read before announcing SLEEPING: a completion or a waker's bump after this read
        // changes the word, so the futex wait below returns at once.
        int word = on != null ? on.completionWord() : 0;
        sleepingOn = on; // plain: published by the volatile store of SLEEPING
        state.announce(); // SLEEPING, then a full fence: visible before the rechecks below
        scheduler.sleepers.incrementAndGet();
        try {
            if (!carrier.hasQueuedWork() && !pending.anySettled(word) && !scheduler.isStopping()) {
                long t0 = stats.sleepBegins();
                if (on != null) {
                    // Calls on several completion words: sleep on one with a short timeout.
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
            // plain store of sleepingOn: the read below sees it.
            PendingCall on = sleepingOn;
            if (on != null) {
                on.wakeSleepers(); // bumps the completion word: its futex wait returns
            }
            LockSupport.unpark(carrier);
        }
    }
}
