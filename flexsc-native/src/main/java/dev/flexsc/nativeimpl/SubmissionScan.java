package dev.flexsc.nativeimpl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * The executor's side of one group of syscall pages, written in Java with the accesses and
 * orderings of libflexsc's executor (flexsc.c: {@code run_word}, {@code claim_entry},
 * {@code complete}): take the group's submit bits, claim each entry still SUBMITTED, and
 * complete it. The engines' executors are libflexsc's pthreads and the kernel module's SERVE
 * threads; this is for executors a Java program runs itself (the benchmarks' no-op engine,
 * the tests' engine that holds calls), so that they claim and complete as the real ones do.
 *
 * <p>Not thread-safe as a whole: one executor thread scans; {@link #complete} and
 * {@link #bumpDoneSeq} may run on any thread that owns the claimed entry.
 */
public final class SubmissionScan {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** What the executor does with an entry it claimed (now BUSY and its own). */
    @FunctionalInterface
    public interface Claimed {
        void claimed(int index, long entry);
    }

    private final MemorySegment mapping;
    private final long entries;
    private final long submitBits;
    private final long doneSeq;
    private final int words;

    /** The scan of group {@code g} of a mapping of {@code groups} groups of {@code pages} pages each. */
    public SubmissionScan(MemorySegment mapping, int groups, int pages, int g) {
        this.mapping = mapping;
        this.entries = groupPagesOffset(groups, pages, g);
        this.submitBits = groupOffset(g) + GROUP_SUBMIT_BITS;
        this.doneSeq = groupOffset(g) + GROUP_DONE_SEQ;
        this.words = entries(pages) / 64;
    }

    /**
     * Takes the group's submit bits, word by word, and hands each entry it claims (CAS
     * SUBMITTED -> BUSY; an entry its owner took back is skipped) to {@code each}.
     *
     * @return the number of entries claimed
     */
    public int scan(Claimed each) {
        MemorySegment m = mapping;
        int claimed = 0;
        for (int w = 0; w < words; w++) {
            // Acquire exchange: claims the word's submissions; pairs with the submitter's volatile OR (expose).
            long v = (long) LONG.getAndSetAcquire(m, submitBits + w * 8L, 0L);
            while (v != 0) {
                int index = w * 64 + Long.numberOfTrailingZeros(v);
                v &= v - 1;
                long e = entry(index);
                // CAS (volatile, so acquire): pairs with the owner's release of SUBMITTED, so the
                // entry's sysnr and args are visible; the owner's take-back CASes the same word,
                // so one of the two wins.
                if (INT.compareAndSet(m, e + ENTRY_STATUS, STATUS_SUBMITTED, STATUS_BUSY)) {
                    claimed++;
                    each.claimed(index, e);
                }
            }
        }
        return claimed;
    }

    /** The offset of entry {@code index} of the group in the mapping. */
    public long entry(int index) {
        return entries + (long) index * ENTRY_SIZE;
    }

    /** A claimed entry's call number (a plain load: the claiming CAS ordered it). */
    public int nr(long entry) {
        return mapping.get(ValueLayout.JAVA_INT, entry + ENTRY_SYSNR);
    }

    /** A claimed entry's arguments (plain, as {@link #nr}). */
    public long[] args(long entry) {
        long[] a = new long[ARGS];
        for (int i = 0; i < ARGS; i++) a[i] = mapping.get(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS + 8L * i);
        return a;
    }

    /** Stores a claimed entry's result and releases it DONE (pairs with the owner's acquire of its status). */
    public void complete(long entry, long ret) {
        mapping.set(ValueLayout.JAVA_LONG, entry + ENTRY_RET, ret);
        INT.setRelease(mapping, entry + ENTRY_STATUS, STATUS_DONE);
    }

    /** Bumps the group's {@code done_seq} (an atomic add), which its sleeping callers wait on to move. */
    public void bumpDoneSeq() {
        INT.getAndAdd(mapping, doneSeq, 1);
    }

    /** The group's {@code done_seq} (acquire: a completion published before it moved is visible). */
    public int doneSeq() {
        return (int) INT.getAcquire(mapping, doneSeq);
    }
}
