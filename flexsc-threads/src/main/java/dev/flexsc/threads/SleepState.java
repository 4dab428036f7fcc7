package dev.flexsc.threads;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A carrier's sleep state, RUNNING or SLEEPING, and the two halves of the handshake that
 * keeps a wake-up from being lost (a Dekker pair): the carrier {@linkplain #announce()
 * announces} SLEEPING and only then rechecks its queues; a waker makes its work visible, then
 * {@linkplain #claimWake() claims} the wake-up. Either the carrier's recheck sees the work, or
 * the waker sees SLEEPING and wakes it. {@link CarrierIdle} does the rest (what the carrier
 * sleeps on, the unpark); the jcstress test {@code CarrierSleepTest} races the two halves.
 */
final class SleepState {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(SleepState.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int RUNNING = 0, SLEEPING = 1;

    /** RUNNING or SLEEPING; the carrier stores, a waker CASes SLEEPING -> RUNNING. Volatile via STATE. */
    @SuppressWarnings("unused")
    private volatile int state;

    /** Carrier, before it rechecks its work and sleeps: SLEEPING. Plain stores before it are published. */
    void announce() {
        STATE.setVolatile(this, SLEEPING);
        // Full fence: SLEEPING is visible before the carrier's rechecks that follow (pairs
        // with the fence in claimWake() between the waker's offer and its read of the state).
        VarHandle.fullFence();
    }

    /** Carrier, awake again: RUNNING (volatile store; a waker's CAS then fails harmlessly). */
    void running() {
        STATE.setVolatile(this, RUNNING);
    }

    /** True while the carrier sleeps (or is about to). */
    boolean isSleeping() {
        return (int) STATE.getVolatile(this) == SLEEPING;
    }

    /**
     * Waker, after making its work visible to the carrier: true if this call moved the carrier
     * from SLEEPING to RUNNING, and so must wake it (only one waker does).
     */
    boolean claimWake() {
        // Full fence: the work made visible before this call precedes the read of the state
        // (pairs with the fence in announce()).
        VarHandle.fullFence();
        // CAS: of the wakers that saw SLEEPING, only the one that moves it to RUNNING wakes.
        return (int) STATE.getVolatile(this) == SLEEPING && STATE.compareAndSet(this, SLEEPING, RUNNING);
    }
}
