package dev.flexsc.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One submitted call (or batch of calls) whose owner, a green thread, has parked until
 * it completes. The carrier that {@linkplain CallCarrier#watch watches} it polls
 * {@link #isSettled()}; when true it calls {@link #fire()} then unparks {@link #owner()}.
 * The owner parks until {@link #isFired()}, so it never depends on a wake-up it could
 * miss, and spurious unparks are harmless.
 *
 * <p>Each engine supplies a subclass that knows where its completion shows. The carrier
 * also uses it to sleep when it has nothing to run: {@link #doneSeq()},
 * {@link #sleepUntilCompletion(int, long)} and, from a thread that gives the carrier new
 * work, {@link #wakeSleepers()}. Calls with equal {@link #sleepKey()}s complete on the
 * same word: one read of the word and one sleep cover them all.
 */
public abstract class PendingCall {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(PendingCall.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int WAITING = 0, FIRED = 1;

    private final Thread owner;
    /** WAITING, then FIRED once, by the carrier (release); read by the owner (acquire). */
    @SuppressWarnings("unused")
    private int state;

    /** A call waited for by {@code owner}. */
    protected PendingCall(Thread owner) {
        this.owner = owner;
    }

    /** The green thread waiting for this call. */
    public final Thread owner() {
        return owner;
    }

    /**
     * Carrier: true once the owner can go on: its call completed, or its engine stopped
     * (the owner then fails the call). Cheap: one or two loads, never blocks.
     */
    public abstract boolean isSettled();

    /** Carrier: marks the call settled for its owner; unpark the owner after this. */
    public final void fire() {
        // Release: orders the carrier's acquire load of the completion (in isSettled)
        // before it, so the owner that reads FIRED with acquire also sees the result.
        STATE.setRelease(this, FIRED);
    }

    /** Owner: true once the carrier fired this call. */
    public final boolean isFired() {
        // Acquire: pairs with fire().
        return (int) STATE.getAcquire(this) == FIRED;
    }

    /**
     * Owner: parks until the carrier fires this call (or a spurious wake-up; the caller
     * loops on {@link #isFired()}). For a call that may block, run in a {@link CancelScope},
     * the owner registers with the scope first so that a cancel unparks it, and does not park
     * once the scope is cancelled (the caller's loop then cancels the call).
     */
    public final void parkUntilFired(Object blocker, boolean cancellable) {
        CancelScope scope = cancellable ? CancelScope.parking() : null;
        if (scope == null) {
            java.util.concurrent.locks.LockSupport.park(blocker); // the carrier unparks us after fire()
            return;
        }
        try {
            if (mayPark(scope)) java.util.concurrent.locks.LockSupport.park(blocker);
        } finally {
            scope.unparked();
        }
    }

    /**
     * Owner, registered with {@code scope} ({@link CancelScope#parking()}): true if it may park,
     * the scope not cancelled and the call not fired (jcstress: CancelParkTest).
     */
    final boolean mayPark(CancelScope scope) {
        // Volatile loads after the registration's CAS (Dekker with CancelScope.cancel(): it
        // stores the flag, then scans the registered threads; one of us sees the other).
        return !scope.isCancelled() && !isFired();
    }

    /**
     * Identifies what {@link #sleepUntilCompletion} sleeps on (for page engines, the
     * engine and the group): calls with equal keys wake the same sleepers.
     */
    public abstract Object sleepKey();

    /**
     * Carrier: the value of its done_seq word, a counter its engine increments after
     * completions (and {@link #wakeSleepers()}); read before deciding to sleep.
     */
    public abstract int doneSeq();

    /**
     * Carrier: sleeps until a completion is published after {@code seenWord} was read,
     * {@link #wakeSleepers()} is called, or the timeout passes (spurious returns
     * possible). The caller rechecks its work after {@code seenWord} was read and before
     * this call.
     */
    public abstract void sleepUntilCompletion(int seenWord, long timeoutNanos);

    /** Any thread: wakes every thread sleeping in {@link #sleepUntilCompletion} on this key. */
    public abstract void wakeSleepers();

    /**
     * True once an executor has taken the call up (it runs, or ran); false while it waits in
     * the queue. With {@link #isSettled()} false, this tells a call that takes long from a
     * syscall side that is behind ({@link CallCarrier#postPays(int)} posts for the first, not
     * the second). Default true: an engine that cannot tell.
     */
    public boolean isStarted() {
        return true;
    }

    /**
     * True if posting this call had to wake a sleeping executor: its latency then says
     * nothing about the call's cost ({@link CallCarrier#postPays(int)} ignores it). Default false.
     */
    public boolean wokeExecutor() {
        return false;
    }

    // ---- observability (dev.flexsc.jfr.BatchReaped, the FlexscStats MXBean) ----

    /** Carrier-private: when the carrier took charge of the call, or 0 if nobody asked (JFR off). */
    private long watchedAtNanos;

    /** The engine executing this call, for events and statistics; null if the subclass does not say. */
    public dev.flexsc.Engine engine() {
        return null;
    }

    /** The engine's group (syscall CPU) of this call, for events; -1 if the subclass does not say. */
    public int group() {
        return -1;
    }

    /** Carrier: records when it took charge of the call ({@link System#nanoTime()}). */
    public final void watchedAt(long nanos) {
        watchedAtNanos = nanos; // plain: read only by the same carrier thread
    }

    /** Carrier: what {@link #watchedAt(long)} recorded, or 0. */
    public final long watchedAtNanos() {
        return watchedAtNanos;
    }
}
