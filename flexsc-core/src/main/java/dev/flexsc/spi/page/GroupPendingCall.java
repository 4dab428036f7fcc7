package dev.flexsc.spi.page;

import dev.flexsc.Engine;
import dev.flexsc.spi.CallerWait;
import dev.flexsc.spi.PendingCall;

import java.util.concurrent.locks.LockSupport;

/**
 * A green thread's call (or batch) on one group of a page engine, handed to its carrier
 * ({@link dev.flexsc.spi.CallCarrier#watch}): the carrier sleeps on that group's completion
 * word (done_seq) and fires the call once {@link #isSettled()}. For its owner it is also what
 * {@link CallerWait} waits on: done once fired, a sleep with no timeout is a park until the
 * carrier's unpark.
 */
abstract class GroupPendingCall extends PendingCall implements CallerWait.Waitable {
    final PageEngine engine;
    final int group;

    GroupPendingCall(PageEngine engine, int group, Thread owner) {
        super(owner);
        this.engine = engine;
        this.group = group;
    }

    // ---- the owner's wait ----

    /** Acquire: pairs with the carrier's {@link #fire()}, after which the entries' statuses are visible. */
    @Override
    public final boolean isDone() {
        return isFired();
    }

    @Override
    public final void sleep(long timeoutNanos) {
        if (timeoutNanos == CallerWait.UNTIL_WOKEN) {
            parkUntilFired(this, mayBlock()); // the carrier unparks us after fire()
        } else {
            LockSupport.parkNanos(this, timeoutNanos);
        }
    }

    // ---- the carrier's ----

    @Override
    public final Object sleepKey() {
        return engine.waiters().sleepKey(group);
    }

    @Override
    public final int doneSeq() {
        return engine.waiters().doneSeq(group);
    }

    @Override
    public final void sleepUntilCompletion(int seenWord, long timeoutNanos) {
        engine.waiters().sleepOn(group, seenWord, timeoutNanos);
    }

    @Override
    public final void wakeSleepers() {
        engine.waiters().wake(group);
    }

    @Override
    public final Engine engine() {
        return engine.engine();
    }

    @Override
    public final int group() {
        return group;
    }
}
