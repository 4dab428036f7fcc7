package dev.flexsc.nativeimpl.uring;

import dev.flexsc.abi.SyscallTable;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One system call on its way through an io_uring engine: the SQE fields its preparation
 * filled ({@link UringOps}), its place in the ring it was posted to, and its result.
 *
 * <p>Completion is published once, by the owner of the ring the call is in flight on (the
 * carrier that reaps its CQE, or the platform thread that waits on its borrowed ring); the
 * thread that waits for the call is unparked then if it announced its park. The SQE fields
 * belong to the thread that posts the call; the result and state are safe to read from any
 * thread after {@link #isDone()}.
 */
final class UringCall {
    private static final VarHandle STATE;
    private static final VarHandle PARKED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(UringCall.class, "state", int.class);
            PARKED = l.findVarHandle(UringCall.class, "parked", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int QUEUED = 0, DONE = 1;

    final UringEngine engine;
    /** The allow-listed call, or null for the engine's own requests (cancel, nop). */
    final SyscallTable.Call call;
    final Thread owner;
    final long a0, a1, a2, a3, a4, a5;

    // The SQE, filled by UringOps (plain fields: written before the SQ producer's lock,
    // which publishes them to the thread that copies them into the ring).
    byte opcode;
    int fd;
    long off;
    long addr;
    int len;
    int opFlags;
    short ioprio;
    int spliceFdIn;
    /**
     * The caller already tried the call without waiting and found that it would wait, on a
     * descriptor where the syscall waits (the call policy's try, {@link dev.flexsc.spi.CallGate#WOULD_WAIT}):
     * the preparation adds no "do not wait" probe and asks no flags.
     */
    boolean waits;
    /**
     * Prepared with a "do not wait" flag that the syscall did not ask for (RWF_NOWAIT,
     * MSG_DONTWAIT, IORING_ACCEPT_DONTWAIT: {@link UringOps}): an EAGAIN then means "would
     * block", and the engine decides from the descriptor's O_NONBLOCK what the syscall does.
     */
    boolean nowaitProbe;
    /** Counted in the engine's per-call statistics (owner only: once per call, not per SQE). */
    boolean counted;
    /** The bits of opFlags / ioprio that the probe added. */
    int nowaitOpFlags;
    short nowaitIoprio;

    // Request-table bookkeeping, written by the ring's owner when it posts the call.
    /** The ring the call is in flight on (its owner alone touches it; others ask it to cancel). */
    ConfinedRing ring;
    int slot = -1;
    long userData;
    /** The batch this call belongs to, or null (plain: set before the call is registered). */
    BatchLatch batch;
    /** Set by the submitter or close(): a cancel was asked for; -ECANCELED then means what it says. */
    volatile boolean cancelRequested;
    volatile boolean cancelledByClose;
    volatile long lastCancelNanos;
    /**
     * A readiness wait's deadline ({@link System#nanoTime()}), or 0 for none: past it, the
     * waiter cancels the call as for an interrupt, and -ECANCELED then means "timed out"
     * ({@link UringEngine#awaitReady}). Written by the owner before the call is posted.
     */
    long deadlineNanos;

    /** QUEUED until the CQE is reaped, then DONE (release store after {@link #result}). */
    @SuppressWarnings("unused")
    private volatile int state;
    /** True while the owner sleeps (or is about to): the completer unparks it. */
    @SuppressWarnings("unused")
    private volatile boolean parked;
    /** Plain: written before the release store of DONE, read after an acquire load of it. */
    private long result;

    UringCall(UringEngine engine, SyscallTable.Call call, Thread owner,
                long a0, long a1, long a2, long a3, long a4, long a5) {
        this.engine = engine;
        this.call = call;
        this.owner = owner;
        this.a0 = a0;
        this.a1 = a1;
        this.a2 = a2;
        this.a3 = a3;
        this.a4 = a4;
        this.a5 = a5;
    }

    /** True once the result is available. Never blocks. */
    boolean isDone() {
        // Acquire: pairs with the release store in complete(), so result is visible.
        return (int) STATE.getAcquire(this) == DONE;
    }

    /**
     * The raw kernel result ({@code >= 0} value, {@code < 0} -errno), exactly as the direct
     * system call would return it; -ECANCELED if the call was cancelled.
     *
     * @throws IllegalStateException if not {@link #isDone()}
     */
    long result() {
        if (!isDone()) throw new IllegalStateException(name() + ": not complete yet");
        return result;
    }

    String name() {
        return call != null ? call.name() : "io_uring op " + opcode;
    }

    // ---- engine side ----

    /** Publishes the result and wakes the owner if it sleeps. Called once per CQE. */
    void complete(long res) {
        result = res;
        // Release: result is visible before DONE; pairs with the acquire in isDone().
        // Volatile write (full fence with the load below): a sleeping owner either sees DONE
        // on its re-check, or we see parked here and unpark it.
        STATE.setVolatile(this, DONE);
        BatchLatch b = batch;
        if (b != null) b.countDown(); // the batch's waiter is woken by the last of its calls
        if ((boolean) PARKED.getVolatile(this)) {
            java.util.concurrent.locks.LockSupport.unpark(owner);
        }
    }

    /** True if the call has a deadline and it has passed. Owner only. */
    boolean pastDeadline() {
        return deadlineNanos != 0 && System.nanoTime() - deadlineNanos >= 0;
    }

    /** Nanoseconds to the deadline (at least 1), or 0 if the call has none. Owner only. */
    long nanosToDeadline() {
        return deadlineNanos == 0 ? 0 : Math.max(1, deadlineNanos - System.nanoTime());
    }

    /** Owner only: announce a sleep (volatile store, then the owner re-checks isDone). */
    void setParked(boolean p) {
        PARKED.setVolatile(this, p);
    }

    /** Drops the "do not wait" probe: the resubmitted call waits for readiness. Owner only. */
    void clearNowait() {
        opFlags &= ~nowaitOpFlags;
        ioprio &= (short) ~nowaitIoprio;
        nowaitProbe = false;
    }

    /** Re-arm for a resubmission (short write continuation, unexpected cancel). Owner only. */
    void rearm() {
        batch = null; // continued alone: its batch no longer waits for it
        STATE.setVolatile(this, QUEUED);
        slot = -1;
        ring = null;
    }
}
