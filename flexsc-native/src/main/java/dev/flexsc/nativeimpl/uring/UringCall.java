package dev.flexsc.nativeimpl.uring;

import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A system call submitted to an io_uring engine and not necessarily complete: the handle
 * {@link UringEngine#submit} returns for schedulers that post a call, run other work and
 * collect the result later.
 *
 * <p>Completion is published once, by whichever thread reaps the call's CQE (a caller, the
 * engine's completion thread, or a scheduler in {@link UringEngine#reapCompletions()}); the
 * thread that submitted the call is unparked then. Thread-safe.
 */
public final class UringCall {
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

    // Request-table bookkeeping, written by the submitting thread before the SQE is published.
    int slot = -1;
    long userData;
    /** The batch this call belongs to, or null (plain: set before the call is registered). */
    BatchLatch batch;
    /** Set by the submitter or close(): a cancel was asked for; -ECANCELED then means what it says. */
    volatile boolean cancelRequested;
    volatile boolean cancelledByClose;
    volatile long lastCancelNanos;

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

    /** A call that completed without the ring (ran on the fallback engine). */
    static UringCall completed(UringEngine engine, SyscallTable.Call call, long result) {
        UringCall c = new UringCall(engine, call, Thread.currentThread(), 0, 0, 0, 0, 0, 0);
        c.result = result;
        c.state = DONE;
        return c;
    }

    /** True once the result is available. Never blocks. */
    public boolean isDone() {
        // Acquire: pairs with the release store in complete(), so result is visible.
        return (int) STATE.getAcquire(this) == DONE;
    }

    /**
     * The raw kernel result ({@code >= 0} value, {@code < 0} -errno), exactly as the direct
     * system call would return it; -ECANCELED if the call was cancelled with {@link #cancel()}.
     *
     * @throws IllegalStateException if not {@link #isDone()}
     */
    public long result() {
        if (!isDone()) throw new IllegalStateException(name() + ": not complete yet");
        return result;
    }

    /**
     * Waits for the result (the submitting thread spins briefly, then sleeps; the engine's
     * completion thread reaps for it). An interrupt of a call that may block without bound
     * cancels it; the result is then -EINTR with the interrupt status set, as
     * {@link dev.flexsc.Syscalls} expects.
     *
     * @throws dev.flexsc.EngineClosedException if the engine was closed before the call completed
     */
    public long await() throws IOException {
        return engine.await(this);
    }

    /**
     * Asks the kernel to cancel the call (IORING_OP_ASYNC_CANCEL). Returns at once; the call
     * then completes with -ECANCELED, or with its result if it had already finished.
     */
    public void cancel() throws IOException {
        engine.cancel(this);
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
    }
}
