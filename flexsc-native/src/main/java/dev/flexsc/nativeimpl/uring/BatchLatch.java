package dev.flexsc.nativeimpl.uring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The calls of one batch still in flight, and the thread that waits for them: the
 * completer that brings the count to zero unparks the waiter, so a batch costs one
 * wake-up, not one per call. The count starts at one (a guard the submitter drops once
 * every call is posted), so it cannot reach zero while calls are still being added.
 */
final class BatchLatch {
    private static final VarHandle PARKED;

    static {
        try {
            PARKED = MethodHandles.lookup().findVarHandle(BatchLatch.class, "parked", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Thread owner;
    private final AtomicInteger remaining = new AtomicInteger(1);
    /** True while the owner sleeps (or is about to). */
    @SuppressWarnings("unused")
    private volatile boolean parked;

    BatchLatch(Thread owner) {
        this.owner = owner;
    }

    /** Submitter: one more call in flight (before it is registered). */
    void add() {
        remaining.incrementAndGet();
    }

    /** Completer (or the submitter dropping its guard): one call fewer. */
    void countDown() {
        // Volatile RMW (full fence) then volatile load of parked: pairs with the owner's
        // volatile store of parked then load of remaining; one of us sees the other.
        if (remaining.decrementAndGet() == 0 && (boolean) PARKED.getVolatile(this)) {
            LockSupport.unpark(owner);
        }
    }

    /** True once every call completed and the guard was dropped. */
    boolean isDone() {
        return remaining.get() == 0; // volatile load
    }

    /** Owner only: announce a sleep (volatile store; the owner re-checks isDone after it). */
    void setParked(boolean p) {
        PARKED.setVolatile(this, p);
    }
}
