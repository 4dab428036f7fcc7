package dev.flexsc.spi;

import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.FdKind;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every engine does the same way, written once: its kind and configuration, the typed
 * {@link Syscalls} over it, the call policy ({@link CallGate}), the closed state, the
 * descriptors it owns, the failures of its machinery, and the assembly of its
 * {@link EngineStats}. The call path is {@link #invoke}: the allow-list, the closed check,
 * the policy, then {@link #post} for a call the policy sends down the exception-less path.
 * An engine supplies {@link #post}, {@link #postBatch}, {@link #hasRoom}, {@link #stats()}
 * and {@link #close()}, and may override {@link #postWouldWait}; nothing here calls back from
 * them into this class's call path.
 *
 * <p>Refusing an owned descriptor as an argument is the API's ({@link Syscalls},
 * {@link dev.flexsc.SyscallBatch}), which name the typed call; an engine declares them here
 * ({@link #ownDescriptors}).
 *
 * <p>Thread-safe: subclasses keep it so.
 */
public abstract class AbstractEngine implements FlexscEngine, SyscallInvoker, BatchInvoker {
    /**
     * How often {@link #close()} looks again for the calls still in flight: a close returns
     * within this of the last one coming back, and a closing thread parks rather than spins,
     * leaving the CPU to the threads that finish those calls.
     */
    protected static final long CLOSE_POLL_NANOS = 200_000L;

    private final Engine kind;
    private final FlexscConfig config;
    private final Syscalls syscalls;
    /** The call policy, applied first in {@link #invoke}. */
    private final CallGate gate;
    private final CallGate.Room room = new CallGate.Room() {
        @Override
        public boolean available() {
            return hasRoom();
        }

        @Override
        public boolean available(SyscallTable.Call call) {
            return hasRoom(call);
        }
    };
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Set by {@link #markClosed()} (volatile): calls that start after it fail at once. */
    private volatile boolean closed;
    /** The descriptors this engine owns (see {@link #ownDescriptors}). */
    private volatile OwnedFds ownedFds = OwnedFds.NONE;
    /** Wake-ups or waits that failed after a call was posted (the callers waited on). */
    private final LongAdder machineryFailures = new LongAdder();

    /**
     * @param direct the calling thread's own system calls, for the DIRECT and ADAPTIVE
     *        policies ({@link FlexscConfig#policy()}); null only for EXCEPTIONLESS
     * @param post what a post costs on this engine (the {@link PostingRule}'s input)
     * @throws IllegalArgumentException if {@code direct} is null and the policy needs it
     */
    protected AbstractEngine(Engine kind, FlexscConfig config, DirectPath direct, PostingRule.Post post) {
        this.kind = kind;
        this.config = config;
        this.gate = new CallGate(config.policy(), direct, post);
        this.syscalls = new Syscalls(this);
    }

    // ---- supplied by the engine ----

    /**
     * Runs {@code call}, which the policy sent down the exception-less path, and waits for
     * its result. The rest of a write or send moved in part without waiting comes here as a
     * call of its own (see {@link #invoke}).
     *
     * @return the raw kernel result
     * @throws EngineClosedException if the engine closed before the call ran
     */
    protected abstract long post(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException;

    /**
     * {@link #post} for a call the policy already tried without waiting and found it would
     * wait ({@link CallGate#WOULD_WAIT}), and for the rest of a write or send moved in part:
     * an engine that can skip its own readiness probe for such a call overrides this. The
     * default posts it as any other call.
     */
    protected long postWouldWait(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        return post(call, a0, a1, a2, a3, a4, a5);
    }

    /** Runs every call of {@code batch} as {@link BatchInvoker#invokeBatch} says; called only for a batch of one call or more. */
    protected abstract void postBatch(CallBatch batch) throws IOException;

    /** ADAPTIVE's room check: whether a call of the calling thread can be posted now without waiting (a hint). */
    protected abstract boolean hasRoom();

    /**
     * ADAPTIVE's room check for {@code call}, for an engine that places calls by kind (a
     * hint). Default {@link #hasRoom()}.
     */
    protected boolean hasRoom(SyscallTable.Call call) {
        return hasRoom();
    }

    /**
     * True once the engine's shared memory was released: an {@link IllegalStateException}
     * from an access to it then means "closed", not a bug (see {@link #invoke}). Default false:
     * an engine with no such memory.
     */
    protected boolean released() {
        return false;
    }

    /**
     * Why the engine stopped without {@link #close()} being called (for example the kernel
     * module's stop reason), appended to the {@link EngineClosedException} messages of the
     * calls that then fail; null (the default) when only close() stops it.
     */
    protected String stopCause() {
        return null;
    }

    // ---- the call path ----

    /**
     * One call: refused unless allow-listed, failed if the engine is closed, then as the call
     * policy says: made directly on the calling thread, or {@linkplain #post posted}. A write
     * or send the policy moved in part without waiting has its rest posted here, and the
     * result is the whole transfer's ({@link ShortTransfer}).
     */
    @Override
    public final long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        return invoke(FdKind.UNKNOWN, nr, a0, a1, a2, a3, a4, a5);
    }

    /** As {@link #invoke(int, long, long, long, long, long, long)}; the call policy weighs {@code kind}. */
    @Override
    public final long invoke(FdKind kind, int nr, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr); // refused calls never reach the engine
        if (closed) throw closedException(call, "the engine is closed"); // volatile read
        long r = gate.tryDirect(call, kind, room, a0, a1, a2, a3, a4, a5); // the call policy
        if (!CallGate.posts(r)) return r;
        long done = CallGate.movedBeforePost(r);
        try {
            if (done == 0) {
                return r == CallGate.WOULD_WAIT ? postWouldWait(call, a0, a1, a2, a3, a4, a5)
                        : post(call, a0, a1, a2, a3, a4, a5);
            }
            long rest = postWouldWait(call, a0, a1 + done, ShortTransfer.whole(a2) - done, a3, a4, a5);
            return ShortTransfer.total(done, rest);
        } catch (IllegalStateException e) {
            throw closedIfReleased(call, e);
        }
    }

    /** As the call policy says ({@link PostingRule#postsBatches()}). */
    @Override
    public final boolean postsBatches() {
        return gate.postsBatches();
    }

    @Override
    public final void invokeBatch(CallBatch batch) throws IOException {
        if (batch.size() == 0) return;
        try {
            postBatch(batch);
        } catch (IllegalStateException e) {
            throw closedIfReleased(batch.call(0), e);
        }
    }

    /**
     * An {@link IllegalStateException} that reached the call path: an access to shared memory
     * the engine released meanwhile (the caller gets {@link EngineClosedException}), or else a
     * bug, rethrown as it is.
     */
    private IOException closedIfReleased(SyscallTable.Call call, IllegalStateException e) {
        if (!released()) throw e;
        EngineClosedException x = closedException(call, "the engine was closed during the call");
        x.initCause(e);
        return x;
    }

    // ---- state ----

    /** The exception for {@code call} on a closed engine: {@code "name: what"}, with the stop cause if any. */
    protected final EngineClosedException closedException(SyscallTable.Call call, String what) {
        return new EngineClosedException(call.name() + ": " + closedWhy(what));
    }

    /** {@code what}, with the stop cause when the engine stopped on its own ({@link #stopCause()}). */
    protected final String closedWhy(String what) {
        String cause = stopCause();
        return cause == null ? what : what + " (" + cause + ")";
    }

    /** True for the first caller only: that caller closes the engine ({@link #close()} is idempotent). */
    protected final boolean beginClose() {
        return closing.compareAndSet(false, true);
    }

    /** From now on every call fails with {@link EngineClosedException} before it reaches the engine. */
    protected final void markClosed() {
        closed = true; // volatile: read by every call in invoke()
    }

    /** True once {@link #markClosed()} was called. */
    protected final boolean isClosed() {
        return closed;
    }

    @Override
    public final boolean isOpen() {
        return !closed;
    }

    /**
     * For an engine that owns file descriptors (KERNEL_MODULE's {@code /dev/flexsc}, an
     * io_uring engine's rings): declares them, replacing what was declared before.
     * {@link Syscalls} and {@link dev.flexsc.SyscallBatch} then refuse them as descriptor
     * arguments ({@link OwnedFds}): a {@code close} of them through the engine would stop it.
     *
     * @param what what they are, for the refusal's message
     */
    protected final void ownDescriptors(String what, int... fds) {
        ownedFds = OwnedFds.of(what, fds); // volatile: read by every caller after the engine is published
    }

    @Override
    public final OwnedFds ownedFds() {
        return ownedFds;
    }

    /** Counts a wake-up or wait that failed after a call was posted (its caller waited on). */
    protected final void machineryFailed() {
        machineryFailures.increment();
    }

    /** Wake-ups and waits that failed after a call was posted; their callers waited on. */
    public final long machineryFailures() {
        return machineryFailures.sum();
    }

    /**
     * The counter {@link #machineryFailed()} increments, for the engine's parts that count a
     * failure without a reference to the engine (an io_uring ring).
     */
    protected final LongAdder machineryFailureCounter() {
        return machineryFailures;
    }

    /**
     * The engine's {@link EngineStats}, with the kind and the call policy's counts filled in
     * here; the engine gives its own counters (see the record's parameters).
     */
    protected final EngineStats stats(long submitted, long executed, long refused, long batches, long executorSleeps,
                                      long wakeups, long callerParks, int executorThreads) {
        return stats(submitted, executed, refused, batches, executorSleeps, wakeups, callerParks, executorThreads, 0);
    }

    /**
     * {@link #stats(long, long, long, long, long, long, long, int)} for an engine that makes
     * some posted calls directly after all (an io_uring engine, for a call the ring has no
     * operation for): {@code postedMadeDirectly} of the policy's posted calls count as direct.
     */
    protected final EngineStats stats(long submitted, long executed, long refused, long batches, long executorSleeps,
                                      long wakeups, long callerParks, int executorThreads, long postedMadeDirectly) {
        return new EngineStats(kind, submitted, executed, refused, batches, executorSleeps, wakeups, callerParks,
                executorThreads, Math.max(0, gate.posted() - postedMadeDirectly), gate.direct() + postedMadeDirectly);
    }

    // ---- FlexscEngine ----

    @Override
    public final Engine engine() {
        return kind;
    }

    @Override
    public final FlexscConfig config() {
        return config;
    }

    @Override
    public final Syscalls syscalls() {
        return syscalls;
    }
}
