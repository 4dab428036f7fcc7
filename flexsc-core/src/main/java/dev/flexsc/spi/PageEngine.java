package dev.flexsc.spi;

import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * The data plane shared by every engine built on syscall pages (SYSCALL_THREADS,
 * KERNEL_MODULE): posting entries and reaping completions in plain Java over a
 * {@link MemorySegment} view of the shared mapping, with no native call per system
 * call. Subclasses supply the control plane: waking executors, sleeping until a
 * completion, cancelling a blocked call, stopping.
 *
 * <p>Call policy: {@link #invoke} first asks its {@link CallGate} ({@link FlexscConfig#policy()})
 * whether to post the call at all; a call made directly never touches the page and runs on
 * the caller's thread through the engine's {@link DirectPath}.
 *
 * <p>Calls in flight are waited for (docs/engines.md): once an entry is posted, the caller
 * gets it back only when it is DONE or was taken back unrun (SUBMITTED -> FREE after the
 * executors stopped), never while an executor may still run it: not when a wake-up or a
 * wait fails, not when close gives up on a call stuck in the kernel (the caller then goes
 * on waiting on a view of the pages that close leaves mapped, and gets the call's result
 * when it ends). So the memory a call was given stays the caller's until then.
 *
 * <p>Memory ordering (see docs/abi.md). Accessors are named for their ordering:
 * {@code setRelease}/{@code getAcquire} pair one writer with one reader; volatile
 * read-modify-writes ({@code getAndBitwiseOr}, {@code getAndAdd}, {@code compareAndSet})
 * are full fences and order a store before a later load (the Dekker-style handshakes
 * for sleeping executors and sleeping callers).
 */
public abstract class PageEngine implements FlexscEngine, SyscallInvoker, BatchInvoker {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle FREE_WORD = MethodHandles.arrayElementVarHandle(long[].class);
    /** Java-side free bitmaps are padded to 16 longs (two cache lines) per group. */
    private static final int EINTR = 4;
    private static final int FREE_STRIDE = 16;

    private final Engine kind;
    private final FlexscConfig config;
    /** The shared mapping; accesses after {@link #close()} throw instead of faulting. */
    protected final MemorySegment mapping;
    private final int groups;
    private final int pages;
    private final int entriesPerGroup;
    private final int words;
    private final long[] groupOff;
    private final long[] entriesOff;
    /** 1 bit = entry free (Java-private; the page's status says the rest). */
    private final long[] freeBits;
    private final ConcurrentLinkedQueue<Thread> entryWaiters = new ConcurrentLinkedQueue<>();
    private final AtomicInteger entryWaiterCount = new AtomicInteger();
    private final int callerSpin;
    /** One identity per group: completion sleepers of equal keys share a futex word. */
    private final Object[] sleepKeys;
    private final Syscalls syscalls;

    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    /** Set once stopExecutors returned: entries still SUBMITTED will never run. */
    private volatile boolean executorsStopped;
    /**
     * A view of the pages that no close invalidates, set by close() before executorsStopped:
     * callers of calls still running after close use it (release(false) leaves the pages
     * mapped; only the engine's own view, {@link #mapping}, is closed).
     */
    private volatile MemorySegment stuckView;
    /** The descriptors this engine owns (see {@link #ownDescriptors}). */
    private volatile OwnedFds ownedFds = OwnedFds.NONE;
    /** Wake-ups or waits that failed after a call was posted (the callers waited on). */
    private final LongAdder machineryFailures = new LongAdder();

    private final LongAdder submitted = new LongAdder();
    private final LongAdder wakeups = new LongAdder();
    private final LongAdder callerParks = new LongAdder();
    /** The call policy, applied first in {@link #invoke}. */
    private final CallGate gate;
    private final CallGate.Room room = this::hasRoom;

    /**
     * An engine without a direct path: only {@link dev.flexsc.CallPolicy#EXCEPTIONLESS} can run.
     *
     * @throws IllegalArgumentException if {@code config.policy()} needs a direct path
     */
    protected PageEngine(Engine kind, FlexscConfig config, MemorySegment mapping, int groups, int pages) {
        this(kind, config, mapping, groups, pages, null);
    }

    /**
     * @param direct the calling thread's own system calls, for the DIRECT and ADAPTIVE
     *        policies ({@link FlexscConfig#policy()})
     */
    protected PageEngine(Engine kind, FlexscConfig config, MemorySegment mapping, int groups, int pages,
                         DirectPath direct) {
        checkGeometry(groups, pages);
        if (mapping.byteSize() < mappingSize(groups, pages)) {
            throw new IllegalArgumentException("mapping of " + mapping.byteSize() + " bytes is smaller than "
                    + mappingSize(groups, pages));
        }
        this.kind = kind;
        this.config = config;
        this.mapping = mapping;
        this.groups = groups;
        this.pages = pages;
        this.entriesPerGroup = entries(pages);
        this.words = (entriesPerGroup + 63) / 64;
        this.groupOff = new long[groups];
        this.entriesOff = new long[groups];
        this.freeBits = new long[groups * FREE_STRIDE];
        for (int g = 0; g < groups; g++) {
            groupOff[g] = groupOffset(g);
            entriesOff[g] = groupPagesOffset(groups, pages, g);
            for (int w = 0; w < words; w++) {
                int n = Math.min(64, entriesPerGroup - w * 64);
                freeBits[g * FREE_STRIDE + w] = n == 64 ? -1L : (1L << n) - 1;
            }
        }
        this.callerSpin = config.callerSpin();
        this.sleepKeys = new Object[groups];
        for (int g = 0; g < groups; g++) sleepKeys[g] = new Object();
        this.syscalls = new Syscalls(this);
        this.gate = new CallGate(config.policy(), direct);
    }

    // ---- control plane, supplied by the engine ----

    /** Wake the sleeping executors of group g (NEED_WAKEUP was set and has been cleared). */
    protected abstract void wakeExecutors(int g) throws IOException;

    /**
     * Sleep until group g's done_seq differs from {@code seenDoneSeq}, the timeout passes, or
     * a spurious wake-up; return promptly in every case once the engine is stopped.
     */
    protected abstract void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) throws IOException;

    /** Interrupt the executor running entry {@code index} of group g, if any (best effort). */
    protected abstract void cancel(int g, int index);

    /** Stop every executor; true if all stopped within the timeout. */
    protected abstract boolean stopExecutors(long timeoutMillis);

    /** Free the mapping and native resources; {@code safe} is false if an executor may still touch it. */
    protected abstract void release(boolean safe);

    /** Executor threads alive now. */
    protected abstract int executorThreads();

    /**
     * Why the executors stopped without {@link #close()} being called (for example the kernel
     * module's stop reason), appended to the {@link EngineClosedException} messages of the calls
     * that then fail; null (the default) when only close() stops them.
     */
    protected String stopCause() {
        return null;
    }

    /** {@code what}, with the stop cause when the executors stopped on their own. */
    private String closedWhy(String what) {
        String cause = stopCause();
        return cause == null ? what : what + " (" + cause + ")";
    }

    /**
     * For an engine that owns file descriptors (KERNEL_MODULE: its {@code /dev/flexsc}
     * descriptor): declares them, once, while it opens. {@link Syscalls} and
     * {@link dev.flexsc.SyscallBatch} then refuse them as descriptor arguments
     * ({@link OwnedFds}): a {@code close} of them through the engine would stop it.
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

    /** Wake-ups and waits that failed after a call was posted; their callers waited on. */
    public long machineryFailures() {
        return machineryFailures.sum();
    }

    // ---- FlexscEngine ----

    @Override
    public Engine engine() {
        return kind;
    }

    @Override
    public FlexscConfig config() {
        return config;
    }

    @Override
    public Syscalls syscalls() {
        return syscalls;
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    /** Number of groups (syscall CPUs). */
    public int groups() {
        return groups;
    }

    /** Entries per group. */
    public int entriesPerGroup() {
        return entriesPerGroup;
    }

    @Override
    public EngineStats stats() {
        long executed = 0, refused = 0, sleeps = 0, batches = 0;
        if (!closed) {
            try {
                for (int g = 0; g < groups; g++) {
                    // Opaque reads: statistics only, no ordering needed.
                    executed += (long) LONG.getOpaque(mapping, groupOff[g] + GROUP_STAT_EXECUTED);
                    refused += (long) LONG.getOpaque(mapping, groupOff[g] + GROUP_STAT_REFUSED);
                    sleeps += (long) LONG.getOpaque(mapping, groupOff[g] + GROUP_STAT_SLEEPS);
                    batches += (long) LONG.getOpaque(mapping, groupOff[g] + GROUP_STAT_BATCHES);
                }
            } catch (IllegalStateException closedMeanwhile) {
                // the mapping went away under us: report what the Java side knows
            }
        }
        return new EngineStats(kind, submitted.sum(), executed, refused, batches, sleeps, wakeups.sum(),
                callerParks.sum(), closed ? 0 : executorThreads(), gate.posted(), gate.direct());
    }

    // ---- data plane ----

    @Override
    public final long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr); // refused calls never reach the page
        if (closed) { // volatile read; the posted path checks again after taking an entry
            throw new EngineClosedException(call.name() + ": " + closedWhy("the engine is closed"));
        }
        long direct = gate.tryDirect(call, room, this, a0, a1, a2, a3, a4, a5); // the call policy
        if (direct != CallGate.POST) {
            return direct;
        }
        int g = groupOf(Thread.currentThread());
        int index = allocate(g, call);
        long e = entriesOff[g] + (long) index * ENTRY_SIZE;
        MemorySegment m = mapping;
        EntryProtocol.write(m, e, nr, a0, a1, a2, a3, a4, a5);
        // SUBMITTED (release), its bit (full fence), then NEED_WAKEUP (see EntryProtocol).
        boolean sleeping = EntryProtocol.post(m, groupOff[g], e, index);
        submitted.increment();
        boolean woke = sleeping && wakeAfterPost(g);
        return await(g, index, e, call, woke);
    }

    /**
     * {@link #wake} for a call already posted: a failure is counted, not thrown (the caller
     * must wait for the entry it posted; its wait wakes the group again while the entry is
     * still SUBMITTED, see {@link #rewake}).
     */
    private boolean wakeAfterPost(int g) {
        try {
            return wake(g);
        } catch (IOException | RuntimeException failed) {
            machineryFailures.increment();
            return false;
        }
    }

    /** In a wait for an entry still SUBMITTED: wake the group if its executors sleep (a lost or failed wake-up). */
    private void rewake(int g) {
        // Volatile load of flags: one load when the executors are awake.
        if (EntryProtocol.needsWakeup(mapping, groupOff[g])) wakeAfterPost(g);
    }

    /** {@link #awaitCompletions} for a caller with a call posted: a failure is counted and slept off, not thrown. */
    private void awaitPosted(int g, int seenDoneSeq, long timeoutNanos) {
        try {
            awaitCompletions(g, seenDoneSeq, timeoutNanos);
        } catch (IOException | RuntimeException failed) {
            machineryFailures.increment();
            LockSupport.parkNanos(this, Math.min(timeoutNanos, 1_000_000L));
        }
    }

    /**
     * Whether a submitter that sees NEED_WAKEUP clears it before waking (true: one wake-up
     * per sleep, libflexsc's protocol). Engines whose executors own the flag return false:
     * the kernel module keeps NEED_WAKEUP set exactly while no syscall thread holds its run
     * token, so every submitter that sees it set calls WAKE until a thread takes the token
     * (as io_uring's IORING_SQ_NEED_WAKEUP works).
     */
    protected boolean submitterClearsNeedWakeup() {
        return true;
    }

    /** Wakes group g's executors if NEED_WAKEUP is set; true if this call woke them. */
    boolean wake(int g) throws IOException {
        boolean mine = submitterClearsNeedWakeup()
                ? EntryProtocol.clearNeedWakeup(mapping, groupOff[g]) // only the one that clears it wakes
                : EntryProtocol.needsWakeup(mapping, groupOff[g]);
        if (mine) {
            wakeups.increment();
            wakeExecutors(g);
        }
        return mine;
    }

    /**
     * ADAPTIVE's room check: a free entry in the caller's group now (volatile reads of the
     * free bitmap; a hint, the allocation that follows may still have to wait).
     */
    private boolean hasRoom() {
        int base = groupOf(Thread.currentThread()) * FREE_STRIDE;
        for (int w = 0; w < words; w++) {
            if ((long) FREE_WORD.getVolatile(freeBits, base + w) != 0) return true;
        }
        return false;
    }

    private long await(int g, int index, long e, SyscallTable.Call call, boolean woke) throws IOException {
        CallCarrier carrier = GreenThreads.currentCarrier(); // null at once on platform threads
        if (carrier != null) {
            return awaitOnCarrier(carrier, g, index, e, call, woke);
        }
        MemorySegment m = mapping;
        try {
            for (int i = 0; i < callerSpin; i++) {
                // Acquire: pairs with the executor's release store of DONE, so ret is visible.
                if (EntryProtocol.isDone(m, e)) {
                    return closedIfInterruptedByClose(call, reap(g, index, e), false);
                }
                Thread.onSpinWait();
            }
        } catch (IllegalStateException released) {
            return awaitAfterStop(g, index, e, call, false);
        }
        boolean interrupted = false;
        long doneSeqOff = groupOff[g] + GROUP_DONE_SEQ;
        long waitersOff = groupOff[g] + GROUP_DONE_WAITERS;
        try {
            while (true) {
                int s;
                try {
                    s = (int) INT.getAcquire(m, e + ENTRY_STATUS);
                    if (s == STATUS_DONE) {
                        return closedIfInterruptedByClose(call, reap(g, index, e), interrupted);
                    }
                } catch (IllegalStateException released) {
                    return awaitAfterStop(g, index, e, call, interrupted); // close released the mapping under us
                }
                if (executorsStopped) {
                    return awaitAfterStop(g, index, e, call, interrupted);
                }
                if (Thread.interrupted()) {
                    interrupted = true;
                }
                // A cancel for an interrupt, or for a channel's close (CancelScope): the call
                // returns -EINTR; repeated until it does. One that cannot be cancelled is waited for.
                boolean cancelWanted = call.mayBlock() && (interrupted || CancelScope.requested());
                if (cancelWanted && s == STATUS_BUSY) {
                    cancel(g, index);
                }
                try {
                    if (s == STATUS_SUBMITTED) rewake(g);
                    int seq = (int) INT.getAcquire(m, doneSeqOff);
                    // Volatile RMW (full fence): our registration is visible before we re-read the
                    // status; pairs with the executor's add to done_seq then load of done_waiters.
                    INT.getAndAdd(m, waitersOff, 1);
                    try {
                        if (!EntryProtocol.isDone(m, e) && !executorsStopped) {
                            callerParks.increment();
                            awaitPosted(g, seq, cancelWanted ? 1_000_000L : 20_000_000L);
                        }
                    } finally {
                        INT.getAndAdd(m, waitersOff, -1);
                    }
                } catch (IllegalStateException released) {
                    return awaitAfterStop(g, index, e, call, interrupted);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- green threads: the caller parks, its carrier polls the entry (see CallCarrier) ----

    /**
     * Waits for entry {@code index} on behalf of a green thread: a short spin while its
     * carrier has nothing else to run (a completion that arrives within it costs no
     * switch), then the carrier takes the entry and the thread parks until the carrier
     * has seen it settle. Interrupt and engine-stop handling as on platform threads.
     */
    private long awaitOnCarrier(CallCarrier carrier, int g, int index, long e, SyscallTable.Call call,
                                boolean woke) throws IOException {
        MemorySegment m = mapping;
        try {
            for (int i = 0; i < callerSpin && !carrier.hasOtherWork(); i++) {
                // Acquire: pairs with the executor's release store of DONE, so ret is visible.
                if (EntryProtocol.isDone(m, e)) {
                    return closedIfInterruptedByClose(call, reap(g, index, e), false);
                }
                Thread.onSpinWait();
            }
        } catch (IllegalStateException released) {
            return awaitAfterStop(g, index, e, call, false);
        }
        PendingCall pending = new PagePendingCall(this, g, e, Thread.currentThread(), woke);
        carrier.watch(pending);
        callerParks.increment();
        boolean interrupted = false;
        try {
            while (true) {
                if (pending.isFired()) { // acquire: pairs with the carrier's fire()
                    try {
                        // Acquire: the carrier saw DONE (or the engine stopped); ret is visible.
                        if (EntryProtocol.isDone(m, e)) {
                            return closedIfInterruptedByClose(call, reap(g, index, e), interrupted);
                        }
                    } catch (IllegalStateException released) {
                        // close released the mapping: the entry is read through the stuck view
                    }
                    return awaitAfterStop(g, index, e, call, interrupted); // fired before DONE: the executors stopped
                }
                if (Thread.interrupted()) {
                    interrupted = true;
                }
                if ((interrupted || CancelScope.requested()) && call.mayBlock()) {
                    // Acquire (a snapshot suffices): cancel only a call an executor is running;
                    // one still SUBMITTED is retried after the timed park, like the platform path.
                    if ((int) INT.getAcquire(m, e + ENTRY_STATUS) == STATUS_BUSY) {
                        cancel(g, index); // the call returns -EINTR; repeated until it does
                    }
                    LockSupport.parkNanos(this, 1_000_000L);
                } else {
                    pending.parkUntilFired(this, call.mayBlock());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A green thread's wait on group {@code group} of a page engine: the carrier sleeps on
     * that group's completion word (done_seq). Subclasses say when the wait is settled.
     */
    private abstract static class GroupPendingCall extends PendingCall {
        final PageEngine engine;
        final int group;

        GroupPendingCall(PageEngine engine, int group, Thread owner) {
            super(owner);
            this.engine = engine;
            this.group = group;
        }

        @Override
        public final Object sleepKey() {
            return engine.sleepKey(group);
        }

        @Override
        public final int completionWord() {
            return engine.completionWord(group);
        }

        @Override
        public final void sleepUntilCompletion(int seenWord, long timeoutNanos) {
            engine.sleepUntilCompletion(group, seenWord, timeoutNanos);
        }

        @Override
        public final void wakeSleepers() {
            engine.wakeCompletionSleepers(group);
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

    /** A green thread's call on entry {@code e} of group {@code g}. */
    private static final class PagePendingCall extends GroupPendingCall {
        private final long entryOffset;
        private final boolean woke;

        PagePendingCall(PageEngine engine, int group, long entryOffset, Thread owner, boolean woke) {
            super(engine, group, owner);
            this.entryOffset = entryOffset;
            this.woke = woke;
        }

        @Override
        public boolean wokeExecutor() {
            return woke;
        }

        @Override
        public boolean isStarted() {
            return engine.isStarted(entryOffset);
        }

        @Override
        public boolean isSettled() {
            return engine.isSettled(group, entryOffset);
        }
    }

    /** For PendingCall: true once an executor claimed entry {@code e} (it is no longer SUBMITTED). */
    boolean isStarted(long e) {
        if (executorsStopped) return true; // volatile: the mapping may be released next
        try {
            // Acquire: pairs with the executor's acquiring CAS SUBMITTED -> BUSY (a hint only).
            return (int) INT.getAcquire(mapping, e + ENTRY_STATUS) != STATUS_SUBMITTED;
        } catch (IllegalStateException released) {
            return true;
        }
    }

    /** For PendingCall: true once entry {@code e} is DONE or the executors are gone. */
    boolean isSettled(int g, long e) {
        // Volatile read first: once close() set it, the mapping may be released next.
        if (executorsStopped) {
            return true;
        }
        try {
            // Acquire: pairs with the executor's release store of DONE.
            return (int) INT.getAcquire(mapping, e + ENTRY_STATUS) == STATUS_DONE;
        } catch (IllegalStateException released) {
            return true; // closed meanwhile: the owner fails the call
        }
    }

    /** For PendingCall: what a completion sleeper of group g waits on. */
    Object sleepKey(int g) {
        return sleepKeys[g];
    }

    /** For PendingCall: group g's done_seq, read before a sleeper rechecks its work. */
    int completionWord(int g) {
        try {
            // Acquire: completions published before this value are visible to the recheck.
            return (int) INT.getAcquire(mapping, groupOff[g] + GROUP_DONE_SEQ);
        } catch (IllegalStateException released) {
            return 0;
        }
    }

    /** For PendingCall: a carrier sleeps as a done-waiter of group g (the platform callers' protocol). */
    void sleepUntilCompletion(int g, int seenSeq, long timeoutNanos) {
        if (executorsStopped) { // volatile read: never sleep on a mapping being released
            return;
        }
        long waitersOff = groupOff[g] + GROUP_DONE_WAITERS;
        try {
            // Volatile RMW (full fence): registered before the futex compares done_seq with
            // seenSeq; pairs with the executor's add to done_seq then load of done_waiters.
            INT.getAndAdd(mapping, waitersOff, 1);
            try {
                awaitCompletions(g, seenSeq, timeoutNanos);
            } finally {
                INT.getAndAdd(mapping, waitersOff, -1);
            }
        } catch (IllegalStateException | IOException closedOrFailed) {
            // the engine closed under us: the carrier rescans and finds the calls settled
        }
    }

    /** For PendingCall: wakes the completion sleepers of group g (a carrier got new work). */
    void wakeCompletionSleepers(int g) {
        try {
            // Volatile RMW (full fence): a sleeper that read done_seq before this add returns
            // from its futex wait at once; and the load of done_waiters below cannot move
            // before it (pairs with the sleeper's add to done_waiters then futex compare).
            INT.getAndAdd(mapping, groupOff[g] + GROUP_DONE_SEQ, 1);
            if ((int) INT.getVolatile(mapping, groupOff[g] + GROUP_DONE_WAITERS) != 0) {
                wakeCallers(g);
            }
        } catch (IllegalStateException | IOException closedOrFailed) {
            // closed: nobody sleeps on this group any more
        }
    }

    /**
     * A call's result as its caller gets it: a blocking call that close() knocked out of the
     * kernel (stopping an executor signals it: the call ends with EINTR) fails with
     * EngineClosedException, as the contract of {@link FlexscEngine#close()} says, unless its
     * own thread was interrupted (the wait loops clear the flag while they wait: {@code
     * interrupted} says they did) or its scope cancelled: then EINTR is what it asked for.
     */
    private long closedIfInterruptedByClose(SyscallTable.Call call, long ret, boolean interrupted)
            throws EngineClosedException {
        if (ret == -EINTR && closed && call.mayBlock() && !interrupted && !Thread.currentThread().isInterrupted()
                && !CancelScope.requested()) { // volatile read of closed: set before the executors are stopped
            throw new EngineClosedException(call.name() + ": the engine was closed while the call was blocked;"
                    + " it was interrupted and did not complete");
        }
        return ret;
    }

    /** The pages for a caller after close stopped the executors (see {@link #stuckView}). */
    private MemorySegment pagesAfterStop() {
        MemorySegment v;
        while ((v = stuckView) == null) { // volatile: close() sets it before anything else
            Thread.onSpinWait();
        }
        return v;
    }

    /**
     * The executors stopped with our entry not DONE. An entry still SUBMITTED is taken back
     * (it never ran) and fails with EngineClosedException; one an executor claimed may still
     * be running in the kernel (a call that nothing cancels, on FUSE or NFS): the caller keeps
     * waiting for it, polling the stuck view, and gets its result when it ends. The memory the
     * call was given is never handed back while the kernel may still use it.
     */
    private long awaitAfterStop(int g, int index, long e, SyscallTable.Call call, boolean interruptedBefore)
            throws IOException {
        MemorySegment m = pagesAfterStop();
        // The entry is ours again only if no executor claimed it.
        if (EntryProtocol.takeBack(m, e)) {
            release(g, index);
            throw new EngineClosedException(call.name() + ": " + closedWhy("the engine was closed before the call ran"));
        }
        boolean interrupted = interruptedBefore; // the caller cleared the flag while it waited
        long pause = 1_000_000L;
        try {
            // Acquire: pairs with the executor's release store of DONE, so ret is visible.
            while (!EntryProtocol.isDone(m, e)) {
                if (Thread.interrupted()) interrupted = true;
                if ((interrupted || CancelScope.requested()) && call.mayBlock()) cancel(g, index); // best effort
                LockSupport.parkNanos(this, pause);
                pause = Math.min(pause * 2, 50_000_000L);
            }
            long ret = EntryProtocol.reap(m, e); // after the acquire load of DONE above
            release(g, index);
            return closedIfInterruptedByClose(call, ret, interrupted);
        } finally {
            if (interrupted && !interruptedBefore) Thread.currentThread().interrupt(); // the caller restores its own
        }
    }

    long reap(int g, int index, long e) {
        long ret = EntryProtocol.reap(mapping, e); // after the caller's acquire load of DONE
        release(g, index);
        return ret;
    }

    private int groupOf(Thread t) {
        return groups == 1 ? 0 : (int) Long.remainderUnsigned(t.threadId(), groups);
    }

    /** Takes a free entry of group g, waiting while all are in flight. */
    int allocate(int g, SyscallTable.Call call) throws IOException {
        int index = tryAllocate(g);
        if (index < 0) {
            index = allocateSlow(g, call);
        }
        // Volatile read after the volatile CAS that took the entry: close() writes `closed`
        // then scans the free bitmaps, so either it sees our entry or we see `closed`.
        if (closed) {
            release(g, index);
            throw new EngineClosedException(call.name() + ": " + closedWhy("the engine is closed"));
        }
        return index;
    }

    private int tryAllocate(int g) {
        int base = g * FREE_STRIDE;
        int start = words == 1 ? 0 : (int) (Thread.currentThread().threadId() % words);
        for (int k = 0; k < words; k++) {
            int w = base + (start + k) % words;
            long v = (long) FREE_WORD.getVolatile(freeBits, w);
            while (v != 0) {
                long bit = Long.lowestOneBit(v);
                if (FREE_WORD.compareAndSet(freeBits, w, v, v & ~bit)) {
                    return (w - base) * 64 + Long.numberOfTrailingZeros(bit);
                }
                v = (long) FREE_WORD.getVolatile(freeBits, w);
            }
        }
        return -1;
    }

    private int allocateSlow(int g, SyscallTable.Call call) throws IOException {
        Thread me = Thread.currentThread();
        entryWaiters.add(me);
        entryWaiterCount.incrementAndGet(); // volatile: pairs with the check in release()
        try {
            while (true) {
                int index = tryAllocate(g);
                if (index >= 0) return index;
                if (closed) throw new EngineClosedException(call.name() + ": " + closedWhy("the engine is closed"));
                LockSupport.parkNanos(this, 1_000_000L);
            }
        } finally {
            entryWaiters.remove(me);
            entryWaiterCount.decrementAndGet();
        }
    }

    void release(int g, int index) {
        // Volatile RMW: the entry is free for the next allocate.
        FREE_WORD.getAndBitwiseOr(freeBits, g * FREE_STRIDE + (index >>> 6), 1L << (index & 63));
        if (entryWaiterCount.get() != 0) {
            Thread t = entryWaiters.peek();
            if (t != null) LockSupport.unpark(t);
        }
    }

    private boolean allEntriesFree() {
        for (int g = 0; g < groups; g++) {
            for (int w = 0; w < words; w++) {
                int n = Math.min(64, entriesPerGroup - w * 64);
                long all = n == 64 ? -1L : (1L << n) - 1;
                if ((long) FREE_WORD.getVolatile(freeBits, g * FREE_STRIDE + w) != all) return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        // Before executorsStopped (volatile): whoever sees the executors stopped sees the view.
        stuckView = MemorySegment.ofAddress(mapping.address()).reinterpret(mapping.byteSize());
        closed = true; // volatile: see allocate()
        for (Thread t : entryWaiters) LockSupport.unpark(t);
        long timeout = config.closeTimeoutMillis();
        boolean stopped = stopExecutors(timeout);
        executorsStopped = true; // volatile: waiters now fail entries that never ran
        for (int g = 0; g < groups; g++) {
            // Wake every caller sleeping on this group so it sees executorsStopped.
            INT.getAndAdd(mapping, groupOff[g] + GROUP_DONE_SEQ, 1);
            try {
                wakeCallers(g);
            } catch (IOException ignored) {
                // callers also wake on their own timeout
            }
        }
        long deadline = System.nanoTime() + timeout * 1_000_000L;
        while (!allEntriesFree() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(200_000L);
        }
        release(stopped && allEntriesFree());
    }

    /** Wake every caller sleeping in {@link #awaitCompletions} on group g (used by close). */
    protected abstract void wakeCallers(int g) throws IOException;

    // ---- batches (BatchInvoker) ----

    /** As the call policy says ({@link PostingRule#postsBatches()}). */
    @Override
    public boolean postsBatches() {
        return gate.postsBatches();
    }

    /**
     * Posts the batch's calls to the calling thread's group and waits once for them. Per
     * part: the entries are taken with one CAS per free-bitmap word, each is written and
     * released SUBMITTED, then one volatile OR per submit-bitmap word publishes them all and
     * NEED_WAKEUP is checked once. A batch larger than the group's free entries is posted in
     * parts: after each wait the completed entries are reaped and freed, and as many more are
     * posted as are free. The batch never holds an entry it has not posted, so any number of
     * batches (and single calls) share a group without deadlock.
     */
    @Override
    public final void invokeBatch(CallBatch b) throws IOException {
        int n = b.size();
        if (n == 0) return;
        int capacity = Math.min(n, entriesPerGroup);
        // The previous submit's state, if it fits: no per-submit allocation of its arrays.
        BatchState w = b.engineState() instanceof BatchState old && old.engine == this
                && old.pos.length >= capacity ? old : new BatchState(this, capacity, words);
        b.engineState(null);
        runBatch(b, n, w);
        // Kept only after a normal return: every entry was reaped (count 0) and the bitmap
        // words in mask were cleared as they were used. Not after a carrier watched it: the
        // carrier's pending call still references it.
        if (w.count == 0 && !w.watched) b.engineState(w);
    }

    private void runBatch(CallBatch b, int n, BatchState w) throws IOException {
        int g = groupOf(Thread.currentThread());
        int next = 0;
        boolean interrupted = false;
        w.interrupted = false;
        long stuckPause = 500_000L;
        try {
            while (true) {
                if (next < n) {
                    int posted = postPart(g, b, next, w, -1);
                    if (posted < 0) { // the engine closed: the rest never runs
                        failFrom(b, next, closedWhy("the engine is closed"));
                        next = n;
                    } else if (posted == 0 && w.count == 0) {
                        // Every entry of the group is held by other callers: wait for one
                        // (allocate parks until an entry is released), then post with it.
                        int index;
                        try {
                            index = allocate(g, b.call(next));
                        } catch (EngineClosedException closedNow) {
                            failFrom(b, next, closedWhy("the engine is closed"));
                            return;
                        }
                        int got = postPart(g, b, next, w, index);
                        if (got < 0) {
                            failFrom(b, next, closedWhy("the engine is closed"));
                            next = n;
                        } else {
                            next += got;
                        }
                    } else {
                        next += posted;
                    }
                }
                if (w.count == 0) {
                    if (next >= n) return;
                    continue;
                }
                // Wait for all of ours when nothing is left to post, else for any: freed
                // entries let the rest go out (a blocked call never holds the batch back).
                w.all = next >= n;
                interrupted |= awaitBatch(g, b, w);
                w.interrupted = interrupted;
                reapBatch(g, b, w);
                if (w.count == 0 && next >= n) return;
                if (executorsStopped && w.count > 0) {
                    // Calls still running after close (stuck in the kernel): wait for them.
                    stuckPause = Math.min(stuckPause * 2, 50_000_000L);
                    LockSupport.parkNanos(this, stuckPause);
                    if (Thread.interrupted()) interrupted = true;
                    if (interrupted) cancelBlocked(g, b, w);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void failFrom(CallBatch b, int from, String why) {
        for (int i = from; i < b.size(); i++) {
            if (!b.isSettled(i)) b.fail(i, new EngineClosedException(b.call(i).name() + ": " + why));
        }
    }

    /** The entries of one batch in flight on one group: which batch position each holds. */
    private static final class BatchState {
        final PageEngine engine;
        final int[] pos;
        final int[] index;
        int count;
        /** Wait for every entry (true) or for any (false). */
        boolean all;
        /** First entry not yet seen DONE in the current wait (the waiter's, or its carrier's). */
        int cursor;
        /** Offset of the group's entries (set before each wait). */
        long entriesBase;
        final int[] taken;
        final long[] mask;
        /** Set once a carrier watched this state (then it is not reused). */
        boolean watched;
        /** The submitting thread was interrupted (its EINTR results are its own, not close()'s). */
        boolean interrupted;

        BatchState(PageEngine engine, int capacity, int words) {
            this.engine = engine;
            pos = new int[capacity];
            index = new int[capacity];
            taken = new int[capacity];
            mask = new long[words];
        }
    }

    /**
     * Posts up to the free entries (and the room left in {@code w}) of group g, starting at
     * batch position {@code from}; {@code preTaken} is an entry already allocated, or -1.
     * Returns the number posted (0 if no entry was free), or -1 if the engine is closed.
     */
    private int postPart(int g, CallBatch b, int from, BatchState w, int preTaken) throws IOException {
        int want = Math.min(b.size() - from, w.pos.length - w.count);
        int[] taken = w.taken;
        int k = 0;
        if (preTaken >= 0) taken[k++] = preTaken;
        if (want > k) k += tryAllocateMany(g, want - k, taken, k);
        if (k == 0) return 0;
        // Volatile read after the volatile CAS that took the entries: close() writes `closed`
        // then scans the free bitmaps, so either it sees our entries or we see `closed`.
        if (closed) {
            for (int j = 0; j < k; j++) release(g, taken[j]);
            return -1;
        }
        MemorySegment m = mapping;
        long[] mask = w.mask;
        long base = entriesOff[g];
        int[] pos = w.pos, held = w.index;
        int count = w.count;
        // Two passes: the plain stores of every entry first, with no barrier among them (the
        // JIT keeps the arrays and checks out of the loop), then the release stores.
        for (int j = 0; j < k; j++) {
            int index = taken[j];
            int p = from + j;
            // One slice per entry: a single bounds check here, then the constant offsets below
            // fall inside its constant size and the JIT drops their checks.
            MemorySegment e = m.asSlice(base + (long) index * ENTRY_SIZE, ENTRY_SIZE);
            // Plain stores: published by this entry's release store of SUBMITTED below.
            e.set(ValueLayout.JAVA_INT, ENTRY_SYSNR, b.nr(p));
            b.copyArgs(p, e, ENTRY_ARGS);
            mask[index >>> 6] |= 1L << index;
            pos[count] = p;
            held[count] = index;
            count++;
        }
        w.count = count;
        for (int j = 0; j < k; j++) {
            // Each entry's sysnr and args (stored above) are visible before its SUBMITTED.
            EntryProtocol.publish(m, base + (long) taken[j] * ENTRY_SIZE);
        }
        for (int word = 0; word < mask.length; word++) {
            long bits = mask[word];
            if (bits != 0) {
                mask[word] = 0;
                // One full fence per 64 entries: every SUBMITTED store above precedes the bits
                // that expose it, and the load of flags below cannot move before the last.
                EntryProtocol.expose(m, groupOff[g], word, bits);
            }
        }
        submitted.add(k);
        if (EntryProtocol.needsWakeup(m, groupOff[g])) {
            wakeAfterPost(g); // once for the whole part; posted now, so a failure is waited out
        }
        return k;
    }

    /** Takes up to {@code want} free entries of group g with one CAS per bitmap word; returns how many. */
    private int tryAllocateMany(int g, int want, int[] out, int off) {
        int base = g * FREE_STRIDE;
        int start = words == 1 ? 0 : (int) (Thread.currentThread().threadId() % words);
        int got = 0;
        for (int k = 0; k < words && got < want; k++) {
            int w = base + (start + k) % words;
            long v = (long) FREE_WORD.getVolatile(freeBits, w);
            while (v != 0) {
                long take = lowestBits(v, want - got);
                // CAS: the entries of `take` are ours alone.
                if (FREE_WORD.compareAndSet(freeBits, w, v, v & ~take)) {
                    int wordBase = (w - base) * 64;
                    while (take != 0) {
                        out[off + got++] = wordBase + Long.numberOfTrailingZeros(take);
                        take &= take - 1;
                    }
                    break;
                }
                v = (long) FREE_WORD.getVolatile(freeBits, w);
            }
        }
        return got;
    }

    /** The lowest {@code count} set bits of v (all of v if it has no more). */
    private static long lowestBits(long v, int count) {
        if (Long.bitCount(v) <= count) return v;
        long m = 0;
        for (int i = 0; i < count; i++) {
            long bit = v & -v;
            m |= bit;
            v ^= bit;
        }
        return m;
    }

    /** True if the batch's wait condition holds (see BatchState.all), or the executors are gone. */
    private boolean batchSettled(BatchState w) {
        // Volatile read first: once close() set it, the mapping may be released next.
        if (executorsStopped) return true;
        try {
            MemorySegment m = mapping;
            return w.all ? allDone(m, w) : anyDone(m, w);
        } catch (IllegalStateException released) {
            return true; // closed meanwhile: the owner fails what is left
        }
    }

    private boolean allDone(MemorySegment m, BatchState w) {
        long base = w.entriesBase;
        int c = w.cursor, count = w.count;
        int[] index = w.index; // in locals: the acquire loads below would make the JIT reload fields
        // Acquire loads: pair with the executors' release stores of DONE. Entries before the
        // cursor were seen DONE already; they stay DONE until their owner (us) frees them.
        while (c < count && (int) INT.getAcquire(m, base + (long) index[c] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_DONE) {
            c++;
        }
        w.cursor = c;
        return c == count;
    }

    private boolean anyDone(MemorySegment m, BatchState w) {
        long base = w.entriesBase;
        for (int j = 0; j < w.count; j++) {
            // Acquire: pairs with the executor's release store of DONE.
            if ((int) INT.getAcquire(m, base + (long) w.index[j] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_DONE) return true;
        }
        return false;
    }

    /** Waits once for the batch's condition; returns true if the thread was interrupted. */
    private boolean awaitBatch(int g, CallBatch b, BatchState w) throws IOException {
        w.entriesBase = entriesOff[g];
        w.cursor = 0;
        CallCarrier carrier = GreenThreads.currentCarrier();
        if (carrier != null) {
            return awaitBatchOnCarrier(carrier, g, b, w);
        }
        for (int i = 0; i < callerSpin; i++) {
            if (batchSettled(w)) return false;
            Thread.onSpinWait();
        }
        boolean interrupted = false;
        MemorySegment m = mapping;
        long doneSeqOff = groupOff[g] + GROUP_DONE_SEQ;
        long waitersOff = groupOff[g] + GROUP_DONE_WAITERS;
        while (!batchSettled(w)) {
            if (Thread.interrupted()) interrupted = true;
            if (interrupted) cancelBlocked(g, b, w);
            try {
                rewake(g); // a wake-up that failed while posting
                int seq = (int) INT.getAcquire(m, doneSeqOff);
                // Volatile RMW (full fence): our registration is visible before we re-check the
                // entries; pairs with the executor's add to done_seq then load of done_waiters.
                INT.getAndAdd(m, waitersOff, 1);
                try {
                    if (!batchSettled(w)) {
                        callerParks.increment();
                        awaitPosted(g, seq, interrupted ? 1_000_000L : 20_000_000L);
                    }
                } finally {
                    INT.getAndAdd(m, waitersOff, -1);
                }
            } catch (IllegalStateException released) {
                break; // the engine closed and released the mapping: reapBatch goes on after the stop
            }
        }
        return interrupted;
    }

    /** A green thread's wait for its batch: one park, its carrier watches the entries. */
    private boolean awaitBatchOnCarrier(CallCarrier carrier, int g, CallBatch b, BatchState w) throws IOException {
        for (int i = 0; i < callerSpin && !carrier.hasOtherWork(); i++) {
            if (batchSettled(w)) return false;
            Thread.onSpinWait();
        }
        PendingCall pending = new BatchPendingCall(this, g, w, Thread.currentThread());
        w.watched = true;
        carrier.watch(pending);
        callerParks.increment();
        boolean interrupted = false;
        while (!pending.isFired()) { // acquire: pairs with the carrier's fire(); statuses then visible
            if (Thread.interrupted()) interrupted = true;
            if (interrupted) {
                // A snapshot suffices: a blocking call still SUBMITTED is cancelled on the next round.
                cancelBlocked(g, b, w);
                LockSupport.parkNanos(this, 1_000_000L);
            } else {
                LockSupport.park(this); // the carrier unparks us after fire()
            }
        }
        return interrupted;
    }

    /** Cancels the batch's running calls that may block without bound (they return -EINTR). */
    private void cancelBlocked(int g, CallBatch b, BatchState w) {
        try {
            MemorySegment m = executorsStopped ? pagesAfterStop() : mapping; // volatile read
            for (int j = 0; j < w.count; j++) {
                if (b.call(w.pos[j]).mayBlock()
                        // Acquire: cancel only a call an executor is running.
                        && (int) INT.getAcquire(m, entriesOff[g] + (long) w.index[j] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_BUSY) {
                    cancel(g, w.index[j]);
                }
            }
        } catch (IllegalStateException released) {
            // closed meanwhile
        }
    }

    /**
     * Reaps the batch's DONE entries (results into the batch, entries freed with one OR per
     * bitmap word) and keeps the others in flight; once the executors are stopped, settles
     * the rest as {@link #awaitAfterStop} does for single calls ({@link #reapBatchAfterStop}).
     */
    private void reapBatch(int g, CallBatch b, BatchState w) {
        if (executorsStopped) { // volatile
            reapBatchAfterStop(g, b, w);
            return;
        }
        long base = entriesOff[g];
        long[] free = w.mask;
        int[] pos = w.pos, held = w.index, done = w.taken;
        int count = w.count, d = 0;
        // The wait for all of them saw every entry DONE (allDone: acquire loads, on this thread
        // or on the carrier that watched it, whose fire() release pairs with our acquire of
        // isFired), so every ret stored before DONE is visible here: no need to look again.
        boolean allSeen = w.all && w.cursor == count;
        try {
            MemorySegment m = mapping;
            // Three passes, so no barrier sits among the plain accesses of the second: which
            // entries are DONE (opaque loads), one acquire fence, their results (plain loads),
            // then FREE (release stores).
            if (allSeen) {
                d = count;
            } else {
                for (int j = 0; j < count; j++) {
                    if ((int) INT.getOpaque(m, base + (long) held[j] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_DONE) {
                        done[d++] = j;
                    }
                }
                if (d == 0) return;
                // Acquire fence: every DONE load above is ordered before every ret load below,
                // so with the executors' release stores of DONE each ret read is the one they
                // stored (an acquire load per entry, with one fence).
                VarHandle.acquireFence();
            }
            for (int k = 0; k < d; k++) {
                int j = allSeen ? k : done[k], index = held[j];
                // Plain load: ordered after this entry's DONE by the fence above.
                settle(b, pos[j], m.get(ValueLayout.JAVA_LONG, base + (long) index * ENTRY_SIZE + ENTRY_RET), w);
                free[index >>> 6] |= 1L << index;
            }
            for (int k = 0; k < d; k++) {
                // Release: our ret load above precedes FREE (the executor is done with the
                // entry; FREE is for diagnostics only, the free bitmap below hands it out).
                INT.setRelease(m, base + (long) held[allSeen ? k : done[k]] * ENTRY_SIZE + ENTRY_STATUS, STATUS_FREE);
            }
        } catch (IllegalStateException released) {
            reapBatchAfterStop(g, b, w); // close released the mapping: the stuck view has the entries
            return;
        }
        int keep = 0;
        if (d < count) { // keep the entries still in flight, in order
            for (int j = 0, k = 0; j < count; j++) {
                if (k < d && done[k] == j) {
                    k++;
                } else {
                    pos[keep] = pos[j];
                    held[keep] = held[j];
                    keep++;
                }
            }
        }
        w.count = keep;
        freeReaped(g, free);
    }

    /** A batch position's result, as {@link #closedIfInterruptedByClose} has it for single calls. */
    private void settle(CallBatch b, int p, long ret, BatchState w) {
        // Volatile read of closed only for an EINTR result.
        if (ret == -EINTR && closed && !w.interrupted && b.call(p).mayBlock()) {
            b.fail(p, new EngineClosedException(b.call(p).name() + ": the engine was closed while the call was"
                    + " blocked; it was interrupted and did not complete"));
        } else {
            b.complete(p, ret);
        }
    }

    /** Frees the entries in {@code free} (cleared) with one OR per bitmap word; wakes an entry waiter. */
    private void freeReaped(int g, long[] free) {
        boolean freed = false;
        for (int word = 0; word < free.length; word++) {
            if (free[word] != 0) {
                // Volatile RMW: the entries are free for the next allocation.
                FREE_WORD.getAndBitwiseOr(freeBits, g * FREE_STRIDE + word, free[word]);
                free[word] = 0;
                freed = true;
            }
        }
        if (freed && entryWaiterCount.get() != 0) {
            Thread t = entryWaiters.peek();
            if (t != null) LockSupport.unpark(t);
        }
    }

    /**
     * {@link #reapBatch} once the executors are stopped: DONE entries are reaped, an entry
     * still SUBMITTED is taken back (CAS) and fails with EngineClosedException, one an
     * executor claimed stays in flight (a call stuck in the kernel: the batch waits for it,
     * see {@link #runBatch}). Reads the entries through the stuck view.
     */
    private void reapBatchAfterStop(int g, CallBatch b, BatchState w) {
        long base = entriesOff[g];
        long[] free = w.mask;
        MemorySegment m = pagesAfterStop();
        int[] pos = w.pos, held = w.index;
        int keep = 0;
        for (int j = 0, count = w.count; j < count; j++) {
            int index = held[j], p = pos[j];
            // One slice per entry: one bounds check, the constant offsets below need none.
            MemorySegment e = m.asSlice(base + (long) index * ENTRY_SIZE, ENTRY_SIZE);
            // Acquire: pairs with the executor's release store of DONE, so ret is visible.
            int s = (int) INT.getAcquire(e, (long) ENTRY_STATUS);
            if (s != STATUS_DONE) {
                // The entry is ours again only if no executor claimed it.
                if (EntryProtocol.takeBack(e, 0)) {
                    free[index >>> 6] |= 1L << index;
                    b.fail(p, new EngineClosedException(b.call(p).name() + ": "
                            + closedWhy("the engine was closed before the call ran")));
                    continue;
                }
                if ((int) INT.getAcquire(e, (long) ENTRY_STATUS) != STATUS_DONE) {
                    pos[keep] = p; // claimed and still running: kept in flight, in order
                    held[keep] = index;
                    keep++;
                    continue;
                }
            }
            // Plain load: ordered after the acquire load of DONE above.
            settle(b, p, e.get(ValueLayout.JAVA_LONG, ENTRY_RET), w);
            // Release: the executor is done with the entry; FREE is for diagnostics only.
            INT.setRelease(e, (long) ENTRY_STATUS, STATUS_FREE);
            free[index >>> 6] |= 1L << index;
        }
        w.count = keep;
        freeReaped(g, free);
    }

    /** A green thread's batch on group g: settled when its wait condition holds. */
    private static final class BatchPendingCall extends GroupPendingCall {
        private final BatchState batch;

        BatchPendingCall(PageEngine engine, int group, BatchState batch, Thread owner) {
            super(engine, group, owner);
            this.batch = batch;
        }

        @Override
        public boolean isSettled() {
            // Carrier only, while the owner is parked: the cursor is the carrier's until fire().
            return engine.batchSettled(batch);
        }
    }

    // ---- for test helpers in this package (raw entries: see the tests' RawEntries) ----

    /** Offset of entry {@code index} of group g in the mapping. */
    final long entryOffset(int g, int index) {
        return entriesOff[g] + (long) index * ENTRY_SIZE;
    }

    /** Offset of group g's control block in the mapping (for engines). */
    protected final long groupControlOffset(int g) {
        return groupOff[g];
    }
}
