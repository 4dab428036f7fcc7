package dev.flexsc.spi.page;

import dev.flexsc.spi.CallBatch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * One engine's syscall pages as the Java side reads and writes them (docs/abi.md): the
 * entries and each group's control words, every access with the ordering the ABI gives it,
 * named for it; and the pages' lifecycle as callers see it.
 *
 * <p><b>Orderings.</b> {@code setRelease}/{@code getAcquire} pair one writer with one reader
 * (the submitter's SUBMITTED with the executor's claim, the executor's DONE with the owner's
 * read of {@code ret}); the volatile read-modify-writes ({@link #expose}, {@link #addDoneWaiter},
 * {@link #bumpDoneSeq}, {@link #clearNeedWakeup}) are full fences and order a store before a
 * later load: the Dekker handshakes with sleeping executors and sleeping callers.
 *
 * <p><b>Lifecycle.</b> Running; then, at close, {@linkplain #keepAfterStop kept} (a view of the
 * same pages that no close invalidates, for callers of calls still running after it), then
 * {@linkplain #markStopped stopped} (an entry still SUBMITTED will never run), then
 * {@linkplain #markReleased released}: the engine's own view is closed, and an access through
 * it throws {@link IllegalStateException} instead of touching memory that may be unmapped.
 * A caller reads {@link #isStopped()} before it touches an entry; one whose access raced with
 * the release hands the exception to {@link #checkReleased}, which rethrows it unless the
 * pages were released (a real bug is never swallowed as "closed").
 */
final class SyscallPage {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment m;
    private final long[] groupOff;
    private final long[] entriesOff;

    /** The view that stays valid after close (see the class comment); null until {@link #keepAfterStop}. */
    private volatile SyscallPage afterStop;
    private volatile boolean stopped;
    private volatile boolean released;

    SyscallPage(MemorySegment mapping, int groups, int pages) {
        this.m = mapping;
        this.groupOff = new long[groups];
        this.entriesOff = new long[groups];
        for (int g = 0; g < groups; g++) {
            groupOff[g] = groupOffset(g);
            entriesOff[g] = groupPagesOffset(groups, pages, g);
        }
    }

    private SyscallPage(SyscallPage layout, MemorySegment view) {
        this.m = view;
        this.groupOff = layout.groupOff;
        this.entriesOff = layout.entriesOff;
    }

    // ---- entries ----

    /** Offset of entry {@code index} of group g. */
    long entry(int g, int index) {
        return entriesOff[g] + (long) index * ENTRY_SIZE;
    }

    /** Offset of group g's first entry. */
    long entries(int g) {
        return entriesOff[g];
    }

    /** Writes a call into entry {@code e}: plain stores, published by {@link #submit}. */
    void write(long e, int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        MemorySegment s = m;
        s.set(ValueLayout.JAVA_INT, e + ENTRY_SYSNR, nr);
        s.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS, a0);
        s.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 8, a1);
        s.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 16, a2);
        s.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 24, a3);
        s.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 32, a4);
        s.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 40, a5);
    }

    /**
     * Release store of SUBMITTED: the entry's sysnr and args (stored before) are visible
     * before it; pairs with the executor's acquiring CAS SUBMITTED -> BUSY.
     */
    void submit(long e) {
        INT.setRelease(m, e + ENTRY_STATUS, STATUS_SUBMITTED);
    }

    /**
     * Volatile OR of {@code bits} into group g's submit-bitmap word {@code word}: a full fence
     * that orders every SUBMITTED store before it (a volatile write orders all earlier stores)
     * and the caller's later load of the flags after it. Pairs with a sleeping executor's RMW
     * on the flags (NEED_WAKEUP) followed by its load of submit_bits: one sees the other.
     */
    void expose(int g, int word, long bits) {
        LONG.getAndBitwiseOr(m, groupOff[g] + GROUP_SUBMIT_BITS + (long) word * 8, bits);
    }

    /** Acquire load of entry {@code e}'s status: pairs with the executor's release store of DONE (ret is then visible). */
    int status(long e) {
        return (int) INT.getAcquire(m, e + ENTRY_STATUS);
    }

    /** Opaque load of entry {@code e}'s status: ordered for its results by a later {@link VarHandle#acquireFence()}. */
    int statusOpaque(long e) {
        return (int) INT.getOpaque(m, e + ENTRY_STATUS);
    }

    /** Plain load of entry {@code e}'s result: the caller saw DONE with acquire (or fenced) first. */
    long ret(long e) {
        return m.get(ValueLayout.JAVA_LONG, e + ENTRY_RET);
    }

    /**
     * Release store of FREE: the owner's load of ret precedes it (the executor is done with
     * the entry; FREE is for diagnostics only, the free bitmap hands entries out).
     */
    void free(long e) {
        INT.setRelease(m, e + ENTRY_STATUS, STATUS_FREE);
    }

    /** Release store of any status (tests' raw entries; the data plane uses {@link #submit} and {@link #free}). */
    void setStatus(long e, int status) {
        INT.setRelease(m, e + ENTRY_STATUS, status);
    }

    /** CAS SUBMITTED -> FREE: the entry is its owner's again only if no executor claimed it. */
    boolean takeBack(long e) {
        return INT.compareAndSet(m, e + ENTRY_STATUS, STATUS_SUBMITTED, STATUS_FREE);
    }

    // ---- many entries of one group (a batch): each loop keeps the segment in a local, so no
    // ordering point inside it makes the JIT reload this object's fields per entry ----

    /**
     * Writes batch positions {@code from .. from+k-1} into entries {@code idx[0..k)} of the
     * group whose entries start at {@code base}, then releases each SUBMITTED. Two passes: the
     * plain stores of every entry first, with no barrier among them, then the release stores
     * (each orders its entry's stores before it; pairs with the executor's acquiring CAS).
     */
    void post(long base, int[] idx, int k, CallBatch b, int from) {
        MemorySegment s = m;
        for (int j = 0; j < k; j++) {
            // One slice per entry: a single bounds check, then the constant offsets below
            // fall inside its constant size and the JIT drops their checks.
            MemorySegment e = s.asSlice(base + (long) idx[j] * ENTRY_SIZE, ENTRY_SIZE);
            e.set(ValueLayout.JAVA_INT, ENTRY_SYSNR, b.nr(from + j));
            b.copyArgs(from + j, e, ENTRY_ARGS);
        }
        for (int j = 0; j < k; j++) {
            INT.setRelease(s, base + (long) idx[j] * ENTRY_SIZE + ENTRY_STATUS, STATUS_SUBMITTED);
        }
    }

    /**
     * The first of entries {@code idx[c..n)} that is not DONE, or {@code n}: acquire loads,
     * each pairing with the executor's release store of DONE (so the results up to it are
     * visible).
     */
    int firstNotDone(long base, int[] idx, int c, int n) {
        MemorySegment s = m;
        while (c < n && (int) INT.getAcquire(s, base + (long) idx[c] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_DONE) c++;
        return c;
    }

    /** True if any of entries {@code idx[0..n)} is DONE (acquire loads). */
    boolean anyDone(long base, int[] idx, int n) {
        MemorySegment s = m;
        for (int j = 0; j < n; j++) {
            if ((int) INT.getAcquire(s, base + (long) idx[j] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_DONE) return true;
        }
        return false;
    }

    /**
     * Puts into {@code done} the positions {@code j} of entries {@code idx[0..n)} that are DONE
     * and returns how many: opaque loads, then one acquire fence, which orders every one of
     * them before the caller's loads of their results (an acquire per entry, with one fence).
     */
    int collectDone(long base, int[] idx, int n, int[] done) {
        MemorySegment s = m;
        int d = 0;
        for (int j = 0; j < n; j++) {
            if ((int) INT.getOpaque(s, base + (long) idx[j] * ENTRY_SIZE + ENTRY_STATUS) == STATUS_DONE) done[d++] = j;
        }
        if (d > 0) VarHandle.acquireFence();
        return d;
    }

    /**
     * Release stores of FREE into entries {@code idx[which[k]]} for {@code k < d}
     * ({@code which} null: {@code idx[0..d)}); the owner read their results before.
     */
    void freeAll(long base, int[] idx, int[] which, int d) {
        MemorySegment s = m;
        for (int k = 0; k < d; k++) {
            int i = idx[which == null ? k : which[k]];
            INT.setRelease(s, base + (long) i * ENTRY_SIZE + ENTRY_STATUS, STATUS_FREE);
        }
    }

    // ---- group control words ----

    /** Volatile load of group g's flags: NEED_WAKEUP set means its executors sleep (or the module has no runner). */
    boolean needsWakeup(int g) {
        return ((int) INT.getVolatile(m, groupOff[g] + GROUP_FLAGS) & GROUP_NEED_WAKEUP) != 0;
    }

    /**
     * Clears NEED_WAKEUP with a CAS if it is set; true if this caller cleared it (only that
     * caller wakes: one wake-up per sleep, libflexsc's protocol).
     */
    boolean clearNeedWakeup(int g) {
        long off = groupOff[g] + GROUP_FLAGS;
        int f = (int) INT.getVolatile(m, off);
        while ((f & GROUP_NEED_WAKEUP) != 0) {
            if (INT.compareAndSet(m, off, f, f & ~GROUP_NEED_WAKEUP)) return true;
            f = (int) INT.getVolatile(m, off);
        }
        return false;
    }

    /** Acquire load of group g's done_seq: completions published before this value are visible to a recheck after it. */
    int doneSeq(int g) {
        return (int) INT.getAcquire(m, groupOff[g] + GROUP_DONE_SEQ);
    }

    /**
     * Volatile add to group g's done_waiters (a full fence): a sleeper's registration is
     * visible before it rechecks its work; pairs with the executor's add to done_seq then
     * load of done_waiters.
     */
    void addDoneWaiter(int g, int delta) {
        INT.getAndAdd(m, groupOff[g] + GROUP_DONE_WAITERS, delta);
    }

    /**
     * Volatile add to group g's done_seq (a full fence): a sleeper that read done_seq before
     * it returns from its wait at once, and a later load of done_waiters cannot move before it.
     */
    void bumpDoneSeq(int g) {
        INT.getAndAdd(m, groupOff[g] + GROUP_DONE_SEQ, 1);
    }

    /** Volatile load of group g's done_waiters. */
    int doneWaiters(int g) {
        return (int) INT.getVolatile(m, groupOff[g] + GROUP_DONE_WAITERS);
    }

    /** Opaque load of a group statistic (statistics only, no ordering needed). */
    long stat(int g, int field) {
        return (long) LONG.getOpaque(m, groupOff[g] + field);
    }

    // ---- lifecycle ----

    /** Close, first: keeps a view of the pages that the release does not invalidate. */
    void keepAfterStop() {
        // Before stopped (volatile): whoever sees the executors stopped sees the view.
        afterStop = new SyscallPage(this, MemorySegment.ofAddress(m.address()).reinterpret(m.byteSize()));
    }

    /** Close, once the executors stopped: entries still SUBMITTED will never run. */
    void markStopped() {
        stopped = true; // volatile: waiters now settle what never ran
    }

    /** True once the executors stopped (volatile read, before any access that could race with the release). */
    boolean isStopped() {
        return stopped;
    }

    /** The view for callers after the executors stopped (see {@link #keepAfterStop}). */
    SyscallPage afterStop() {
        SyscallPage v;
        while ((v = afterStop) == null) { // volatile: close sets it before anything else
            Thread.onSpinWait();
        }
        return v;
    }

    /** Close, just before the engine's view is closed: accesses through it now throw. */
    void markReleased() {
        released = true; // volatile: read by checkReleased after an access threw
    }

    /** True once the engine's view was (or is about to be) closed. */
    boolean isReleased() {
        return released;
    }

    /**
     * For a caller whose access threw {@code e}: returns if the pages were released (the
     * access raced with close; the caller takes its closed path), rethrows {@code e}
     * otherwise (it is a bug, not a close).
     */
    void checkReleased(IllegalStateException e) {
        if (!released) throw e;
    }
}
