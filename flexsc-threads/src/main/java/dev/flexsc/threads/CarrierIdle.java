package dev.flexsc.threads;

import dev.flexsc.spi.PendingCall;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * How a carrier with nothing to run waits, and how other threads wake it: the phases of its
 * {@link IdlePolicy} (spin, yield, then sleep), and the sleep itself, on the completion word
 * of a pending call (so that a completion ends it) or, with none pending, in a park.
 *
 * <p>No lost wake-up: the carrier reads the completion word, announces {@link #SLEEPING}
 * (volatile store, full fence), and only then rechecks its queues and pending calls; a waker
 * offers its work, issues a full fence, reads the state, and if it moves the carrier from
 * SLEEPING to RUNNING (CAS) it bumps the word the carrier sleeps on and unparks it. One of
 * the two sees the other.
 */
final class CarrierIdle {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CarrierIdle.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int RUNNING = 0, SLEEPING = 1;

    private final CarrierThread carrier;
    private final IdlePolicy policy;
    private final PendingCalls pending;
    private final CarrierStats stats;
    /** RUNNING or SLEEPING; a waker CASes SLEEPING -> RUNNING. Volatile via STATE. */
    @SuppressWarnings("unused")
    private volatile int state;
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
        sleepingOn = on; // plain: published by the volatile store below
        STATE.setVolatile(this, SLEEPING);
        // Full fence: SLEEPING is visible before the rechecks below (pairs with the fence
        // in CarrierThread.pushExternal between the offer and the read of state).
        VarHandle.fullFence();
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
            STATE.setVolatile(this, RUNNING); // volatile: a waker's CAS then fails harmlessly
            sleepingOn = null;
        }
    }

    /** True while the carrier sleeps (or is about to). */
    boolean isSleeping() {
        return (int) STATE.getVolatile(this) == SLEEPING;
    }

    /** Any thread, after making work visible to the carrier: wakes it if it sleeps. */
    void wake() {
        if ((int) STATE.getVolatile(this) == SLEEPING && STATE.compareAndSet(this, SLEEPING, RUNNING)) {
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
