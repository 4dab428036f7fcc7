package dev.flexsc.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One submitted call whose owner, a green thread, has parked until it completes. The
 * carrier that {@linkplain CallCarrier#watch watches} it polls {@link #isSettled()};
 * when true it calls {@link #fire()} then unparks {@link #owner()}. The owner parks until
 * {@link #isFired()}, so it never depends on a wake-up it could miss, and spurious
 * unparks are harmless.
 *
 * <p>The carrier also uses it to sleep when it has nothing to run:
 * {@link #completionSeq()}, {@link #sleepUntilCompletion(int, long)} and, from a thread
 * that gives the carrier new work, {@link #wakeSleepers()}.
 */
public final class PendingCall {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(PendingCall.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int WAITING = 0, FIRED = 1;

    private final PageEngine engine;
    private final int group;
    private final long entryOffset;
    private final Thread owner;
    /** WAITING, then FIRED once, by the carrier (release); read by the owner (acquire). */
    @SuppressWarnings("unused")
    private int state;

    PendingCall(PageEngine engine, int group, long entryOffset, Thread owner) {
        this.engine = engine;
        this.group = group;
        this.entryOffset = entryOffset;
        this.owner = owner;
    }

    /** The green thread waiting for this call. */
    public Thread owner() {
        return owner;
    }

    /**
     * Carrier: true once the owner can go on: its entry is DONE, or its engine stopped
     * (the owner then fails the call). Cheap: one or two loads.
     */
    public boolean isSettled() {
        return engine.isSettled(group, entryOffset);
    }

    /** Carrier: marks the call settled for its owner; unpark the owner after this. */
    public void fire() {
        // Release: orders the carrier's acquire load of DONE (in isSettled) before it, so
        // the owner that reads FIRED with acquire also sees the entry's ret.
        STATE.setRelease(this, FIRED);
    }

    /** Owner: true once the carrier fired this call. */
    boolean isFired() {
        // Acquire: pairs with fire().
        return (int) STATE.getAcquire(this) == FIRED;
    }

    /**
     * Identifies what {@link #sleepUntilCompletion} sleeps on (the engine and the group):
     * calls with equal keys wake the same sleepers.
     */
    public Object sleepKey() {
        return engine.sleepKey(group);
    }

    /** Carrier: a snapshot of the group's completion sequence, taken before deciding to sleep. */
    public int completionSeq() {
        return engine.completionSeq(group);
    }

    /**
     * Carrier: sleeps until the group publishes a completion after {@code seenSeq} was
     * read, {@link #wakeSleepers()} is called, or the timeout passes (spurious returns
     * possible). The caller rechecks its work after {@code seenSeq} was read and before
     * this call.
     */
    public void sleepUntilCompletion(int seenSeq, long timeoutNanos) {
        engine.sleepUntilCompletion(group, seenSeq, timeoutNanos);
    }

    /** Any thread: wakes every thread sleeping in {@link #sleepUntilCompletion} on this group. */
    public void wakeSleepers() {
        engine.wakeCompletionSleepers(group);
    }
}
