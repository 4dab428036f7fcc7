package dev.flexsc.spi.page;

import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.FlexscConfig;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.AbstractEngine;
import dev.flexsc.spi.CallBatch;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CancelScope;
import dev.flexsc.spi.GreenThreads;
import dev.flexsc.spi.DirectPath;
import dev.flexsc.spi.PostingRule;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.Errno.EINTR;
import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * An engine built on syscall pages (SYSCALL_THREADS, KERNEL_MODULE): the data plane, posting
 * entries and reaping completions in plain Java over a {@link MemorySegment} view of the
 * shared mapping with no native call per system call, composed with the control plane its
 * engine supplies ({@link ExecutorControl}: waking executors, sleeping until a completion,
 * cancelling a blocked call, stopping).
 *
 * <p>The parts, one job each: {@link SyscallPage} (entry and control-word accesses with their
 * orderings, and the pages' lifecycle), {@link EntryAllocator} (free entries, and the callers
 * waiting for one), {@link Submitter} (exposing posted entries, waking executors),
 * {@link GroupWaiters} (sleeping on and waking a group's done_seq), {@link EntryCall}
 * (a single call: post, wait, reap) and {@link PageBatch} (a batch: the same steps for many
 * entries at once). Both wait through {@link dev.flexsc.spi.CallerWait}.
 *
 * <p><b>Calls in flight are waited for</b> (docs/engines.md): once an entry is posted, the
 * caller gets it back only when it is DONE or was taken back unrun (SUBMITTED -> FREE after
 * the executors stopped), never while an executor may still run it: not when a wake-up or a
 * wait fails, not when close gives up on a call stuck in the kernel (the caller then goes on
 * waiting on a view of the pages that close leaves mapped, and gets the call's result when it
 * ends). So the memory a call was given stays the caller's until then.
 *
 * <p>Thread-safe. Subclass only to give an engine a type and API of its own; the data plane is
 * not meant to be changed.
 */
public class PageEngine extends AbstractEngine {
    /** The message of a blocking call that close() knocked out of the kernel, after its name. */
    static final String BLOCKED_AT_CLOSE = ": the engine was closed while the call was blocked; it was interrupted"
            + " and did not complete";

    private final ExecutorControl control;
    private final SyscallPage pages;
    private final EntryAllocator entries;
    private final Submitter submitter;
    private final GroupWaiters waiters;
    /** One single-call driver per entry, by {@code group * entriesPerGroup + index}. */
    private final EntryCall[] calls;
    private final int groups;
    /** Groups [0, serveGroups) serve every caller; the rest are carrier groups. */
    private final int serveGroups;
    /** The carrier-local mode's groups, or null without it. */
    private final CarrierGroups carrierGroups;
    private final LongAdder carrierPosted = new LongAdder();
    private final LongAdder carrierEntries = new LongAdder();
    private final LongAdder carrierExecuted = new LongAdder();
    private final int entriesPerGroup;
    private final int callerSpin;
    private final LongAdder callerParks = new LongAdder();

    /**
     * @param mapping the engine's view of the pages: closed by {@code control}'s release, so
     *        that a late access throws instead of faulting
     * @param direct the calling thread's own system calls, for the DIRECT and ADAPTIVE
     *        policies; null only under EXCEPTIONLESS
     * @throws IllegalArgumentException if the geometry is invalid, the mapping too small, or
     *         the policy needs a direct path and there is none
     */
    public PageEngine(Engine kind, FlexscConfig config, MemorySegment mapping, int groups, int pages,
                      DirectPath direct, ExecutorControl control) {
        this(kind, config, mapping, groups, pages, direct, control, new int[0]);
    }

    /**
     * An engine whose last {@code carrierCpus.length} groups are carrier groups, group
     * {@code groups - carrierCpus.length + i} for the carrier on CPU {@code carrierCpus[i]}
     * (the carrier-local mode: {@link #carrierContexts()}); the others serve every other
     * caller.
     *
     * @throws IllegalArgumentException as the other constructor, or if there are carrier
     *         groups and {@code control} cannot run a group in the caller
     *         ({@link LocalExecution}), a CPU is named twice, or no group is left for the
     *         syscall threads
     */
    public PageEngine(Engine kind, FlexscConfig config, MemorySegment mapping, int groups, int pages,
                      DirectPath direct, ExecutorControl control, int[] carrierCpus) {
        super(kind, config, direct, PostingRule.Post.HAND_OFF);
        int carrierGroups = carrierCpus.length;
        if (carrierGroups >= groups) {
            throw new IllegalArgumentException(carrierGroups + " carrier groups of " + groups + " leave none for the"
                    + " syscall threads");
        }
        if (java.util.Arrays.stream(carrierCpus).distinct().count() != carrierGroups) {
            throw new IllegalArgumentException("a CPU has two carrier groups: " + java.util.Arrays.toString(carrierCpus));
        }
        if (carrierGroups > 0 && !(control instanceof LocalExecution)) {
            throw new IllegalArgumentException("carrier groups need executors that run a group in the caller");
        }
        checkGeometry(groups, pages);
        if (mapping.byteSize() < mappingSize(groups, pages)) {
            throw new IllegalArgumentException("mapping of " + mapping.byteSize() + " bytes is smaller than "
                    + mappingSize(groups, pages));
        }
        this.control = control;
        this.groups = groups;
        this.serveGroups = groups - carrierGroups;
        this.carrierGroups = carrierGroups == 0 ? null
                : new CarrierGroups(this, (LocalExecution) control, serveGroups, carrierCpus);
        this.entriesPerGroup = dev.flexsc.abi.SyscallPageDescriptor.entries(pages);
        this.callerSpin = config.callerSpin();
        this.pages = new SyscallPage(mapping, groups, pages);
        this.entries = new EntryAllocator(groups, entriesPerGroup);
        this.submitter = new Submitter(this, this.pages, control);
        this.waiters = new GroupWaiters(this, this.pages, control, groups);
        this.calls = new EntryCall[groups * entriesPerGroup];
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < entriesPerGroup; i++) calls[g * entriesPerGroup + i] = new EntryCall(this, this.pages, g, i);
        }
    }

    /** Number of groups (syscall CPUs). */
    public final int groups() {
        return groups;
    }

    /** Groups lent to carriers, one each (the carrier-local mode); 0 without it. */
    public final int carrierGroups() {
        return carrierGroups == null ? 0 : carrierGroups.count();
    }

    /**
     * The carriers' contexts of this engine (the scheduler asks it for a carrier's own group:
     * {@link dev.flexsc.spi.CallCarrier#context}), or null without the carrier-local mode.
     */
    public final dev.flexsc.spi.CarrierContext.Provider carrierContexts() {
        return carrierGroups;
    }

    /** Calls green threads posted into their carriers' own groups. */
    public final long carrierPosted() {
        return carrierPosted.sum();
    }

    /** Kernel entries carriers made to run their own groups (each WAIT with EXECUTE). */
    public final long carrierKernelEntries() {
        return carrierEntries.sum();
    }

    /** Calls carriers ran themselves, in their own kernel entries. */
    public final long carrierExecuted() {
        return carrierExecuted.sum();
    }

    /**
     * Calls an executor is running now (entries BUSY, in every group): a snapshot for
     * statistics and tests, 0 once the executors are stopped. A call blocked in the kernel
     * (a read of an empty pipe) counts until it returns.
     */
    public final int callsRunning() {
        int n = 0;
        if (pages.isStopped()) return 0; // volatile: the pages may be released next
        try {
            for (int g = 0; g < groups; g++) {
                for (int i = 0; i < entriesPerGroup; i++) {
                    if (pages.status(pages.entry(g, i)) == STATUS_BUSY) n++; // acquire; a snapshot suffices
                }
            }
        } catch (IllegalStateException e) {
            pages.checkReleased(e);
            return 0;
        }
        return n;
    }

    /** Entries per group. */
    public final int entriesPerGroup() {
        return entriesPerGroup;
    }

    // ---- the data plane (AbstractEngine) ----

    @Override
    protected final long post(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        if (!call.mayBlock()) {
            // The carrier-local mode: a green thread posts a call that does not block into its
            // carrier's own group, if an entry is free there now (waiting would park it, and it
            // could resume elsewhere). A call that may block goes to the syscall threads: run
            // by the carrier, it would stall every green thread of the carrier.
            CallCarrier carrier = GreenThreads.currentCarrier();
            GroupContext local = carrierGroup(carrier);
            if (local != null) {
                int index = entries.tryAllocate(local.group());
                if (index >= 0) {
                    if (isClosed()) { // volatile, after the CAS: see below
                        entries.release(local.group(), index);
                        throw closedException(call, "the engine is closed");
                    }
                    carrierPosted.increment();
                    carrier.postedLocally(); // ADAPTIVE: no latency sample from it
                    return calls[local.group() * entriesPerGroup + index].runLocal(call, a0, a1, a2, a3, a4, a5, local);
                }
            }
        }
        int g = groupOf(Thread.currentThread());
        int index = entries.allocate(g);
        // Volatile read after the volatile CAS that took the entry: close() marks the engine
        // closed, then scans the free bitmaps, so either it sees our entry or we see it closed.
        if (index < 0 || isClosed()) {
            if (index >= 0) entries.release(g, index);
            throw closedException(call, "the engine is closed");
        }
        return calls[g * entriesPerGroup + index].run(call, a0, a1, a2, a3, a4, a5);
    }

    /** Posts the batch's calls to the calling thread's group and waits once for them (see {@link PageBatch}). */
    @Override
    protected final void postBatch(CallBatch b) throws IOException {
        int capacity = Math.min(b.size(), entriesPerGroup);
        // The previous submit's state, if it fits: no per-submit allocation of its arrays.
        PageBatch w = b.engineState() instanceof PageBatch old && old.fits(this, capacity)
                ? old : new PageBatch(this, pages, capacity, entries.words());
        b.engineState(null);
        GroupContext local = carrierGroup(GreenThreads.currentCarrier());
        if (local == null || !w.runLocal(b, local)) w.run(b, groupOf(Thread.currentThread()));
        // Kept only after a normal return, when it is free to run the next submit.
        if (w.fits(this, capacity)) b.engineState(w);
    }

    /** ADAPTIVE's room check: a free entry in the caller's group now (a hint). */
    @Override
    protected final boolean hasRoom() {
        return entries.hasFree(groupOf(Thread.currentThread()));
    }

    /**
     * ADAPTIVE's room check for {@code call}, as {@link #post} places it: a green thread's
     * call that does not block goes to its carrier's group while that has a free entry, and
     * to the syscall threads' group otherwise (a hint).
     */
    @Override
    protected final boolean hasRoom(SyscallTable.Call call) {
        if (!call.mayBlock()) {
            GroupContext local = carrierGroup(GreenThreads.currentCarrier());
            if (local != null && entries.hasFree(local.group())) return true;
        }
        return hasRoom();
    }

    /**
     * The group of {@code carrier}, the calling green thread's (opened on its first call), or
     * null: no carrier-local mode, a platform thread (null carrier), or a carrier without a
     * group of its own.
     */
    private GroupContext carrierGroup(CallCarrier carrier) {
        if (carrierGroups == null) return null;
        return carrier != null && carrier.context(carrierGroups) instanceof GroupContext local ? local : null;
    }

    private int groupOf(Thread t) {
        return serveGroups == 1 ? 0 : (int) Long.remainderUnsigned(t.threadId(), serveGroups);
    }

    /**
     * A call's result as its caller gets it: a blocking call that close() knocked out of the
     * kernel (stopping an executor signals it: the call ends with EINTR) fails with
     * EngineClosedException, as the contract of {@link dev.flexsc.FlexscEngine#close()} says.
     */
    final long result(SyscallTable.Call call, long ret, boolean interrupted) throws EngineClosedException {
        if (closedByClose(call, ret, interrupted)) throw new EngineClosedException(call.name() + BLOCKED_AT_CLOSE);
        return ret;
    }

    /**
     * True if {@code ret} is an EINTR that close() caused: not if the caller's own thread was
     * interrupted (the waits clear the flag: {@code interrupted} says they did) or its scope
     * cancelled, for then EINTR is what it asked for.
     */
    final boolean closedByClose(SyscallTable.Call call, long ret, boolean interrupted) {
        // Volatile read of closed (set before the executors are stopped), only for an EINTR.
        return ret == -EINTR && isClosed() && call.mayBlock() && !interrupted
                && !Thread.currentThread().isInterrupted() && !CancelScope.requested();
    }

    // ---- for the parts ----

    final SyscallPage pages() {
        return pages;
    }

    final EntryAllocator entries() {
        return entries;
    }

    final Submitter submitter() {
        return submitter;
    }

    final GroupWaiters waiters() {
        return waiters;
    }

    final ExecutorControl control() {
        return control;
    }

    final int callerSpin() {
        return callerSpin;
    }

    /** A green thread posted {@code n} calls into its carrier's group. */
    final void carrierPosted(int n) {
        carrierPosted.add(n);
    }

    /** A carrier's kernel entry on its own group ran {@code executed} calls. */
    final void carrierEntered(int executed) {
        carrierEntries.increment();
        if (executed > 0) carrierExecuted.add(executed);
    }

    final void callerParked() {
        callerParks.increment();
    }

    final void machineryFailedAfterPost() {
        machineryFailed();
    }

    /** True once close() began (the volatile read after an entry was taken, see {@link #post}). */
    final boolean closing() {
        return isClosed();
    }

    final EngineClosedException closed(SyscallTable.Call call, String what) {
        return closedException(call, what);
    }

    // ---- state, stats, close ----

    @Override
    protected final boolean released() {
        return pages.isReleased();
    }

    @Override
    protected final String stopCause() {
        return control.stopCause();
    }

    @Override
    public final EngineStats stats() {
        long executed = 0, refused = 0, sleeps = 0, batches = 0;
        if (!isClosed()) {
            try {
                for (int g = 0; g < groups; g++) {
                    executed += pages.stat(g, GROUP_STAT_EXECUTED);
                    refused += pages.stat(g, GROUP_STAT_REFUSED);
                    sleeps += pages.stat(g, GROUP_STAT_SLEEPS);
                    batches += pages.stat(g, GROUP_STAT_BATCHES);
                }
            } catch (IllegalStateException e) {
                pages.checkReleased(e); // released under us: report what the Java side knows
            }
        }
        return stats(submitter.submitted(), executed, refused, batches, sleeps, submitter.wakeups(),
                callerParks.sum(), isClosed() ? 0 : control.executorThreads());
    }

    /**
     * Closes the engine: from now on calls fail at once; the executors are stopped (an entry
     * still SUBMITTED then never runs, and its caller takes it back); every sleeping caller is
     * woken; the entries in flight are given {@link FlexscConfig#closeTimeoutMillis()} to come
     * back; then the pages are released, and freed unless an executor may still use them.
     */
    @Override
    public final void close() {
        if (!beginClose()) return;
        pages.keepAfterStop(); // before the stop: whoever sees the executors stopped sees the view
        markClosed(); // volatile: see post()
        entries.close();
        long timeout = config().closeTimeoutMillis();
        boolean stopped = control.stopExecutors(timeout);
        pages.markStopped();
        waiters.wakeAllAfterStop(groups);
        long deadline = System.nanoTime() + timeout * 1_000_000L;
        while (!entries.allFree() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(CLOSE_POLL_NANOS);
        }
        boolean safe = stopped && entries.allFree();
        pages.markReleased(); // before the view closes: an access that then throws is a close, not a bug
        control.release(safe);
    }
}
