package dev.flexsc.spi.page;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Which entries of each group are free, Java-side: one bit per entry in padded bitmaps
 * (the page's status words say the rest), taken with a CAS and given back with a volatile
 * OR.
 *
 * <p><b>Waiting for an entry.</b> A caller that finds its group full queues up (one FIFO
 * queue per group) and parks with no timeout. A release unparks exactly one waiter, the
 * first in its group's queue; that waiter takes an entry (a caller that never waited may
 * have taken it first: the waiter then parks again, still first), and when it leaves with
 * one while entries are free and others wait, it unparks the next: the turn passes on, so
 * several releases that woke the same first waiter are not lost. No waiter polls, so any
 * number of them cost nothing while they wait.
 *
 * <p><b>No lost wake-up</b> (a Dekker pairing): a waiter enqueues, adds itself to its
 * group's waiting count (a volatile read-modify-write, a full fence), then tries the bitmap
 * again before it parks; a releaser ORs the entry into the bitmap (a volatile RMW, a full
 * fence), then reads the waiting count. Either the waiter's retry sees the entry, or the
 * releaser sees the count and unparks the first waiter (whose node the queue already holds).
 * An unpark that comes before the park makes the park return at once.
 */
final class EntryAllocator {
    private static final VarHandle FREE_WORD = MethodHandles.arrayElementVarHandle(long[].class);
    /** The bitmaps are padded to 16 longs (two cache lines) per group: no false sharing between groups. */
    private static final int FREE_STRIDE = 16;

    private final int groups;
    private final int entriesPerGroup;
    private final int words;
    /** 1 bit = entry free. */
    private final long[] freeBits;
    /** Per group: the callers waiting for an entry, first come first. */
    private final ConcurrentLinkedQueue<Waiter>[] queues;
    /** Per group: how many wait (read by every release: a volatile load while nobody waits). */
    private final AtomicInteger[] waiting;
    private volatile boolean closed;

    /** A caller waiting for an entry. */
    private static final class Waiter {
        final Thread thread = Thread.currentThread();
        /** Set (volatile) when the waiter leaves: releasers skip it and drop it from the queue. */
        volatile boolean gone;
    }

    EntryAllocator(int groups, int entriesPerGroup) {
        this.groups = groups;
        this.entriesPerGroup = entriesPerGroup;
        this.words = (entriesPerGroup + 63) / 64;
        this.freeBits = new long[groups * FREE_STRIDE];
        @SuppressWarnings("unchecked")
        ConcurrentLinkedQueue<Waiter>[] q = new ConcurrentLinkedQueue[groups];
        this.queues = q;
        this.waiting = new AtomicInteger[groups];
        for (int g = 0; g < groups; g++) {
            for (int w = 0; w < words; w++) freeBits[g * FREE_STRIDE + w] = allBits(w);
            queues[g] = new ConcurrentLinkedQueue<>();
            waiting[g] = new AtomicInteger();
        }
    }

    /** Bitmap words per group. */
    int words() {
        return words;
    }

    private long allBits(int w) {
        int n = Math.min(64, entriesPerGroup - w * 64);
        return n == 64 ? -1L : (1L << n) - 1;
    }

    /** The first bitmap word a thread looks at: threads of one group spread over its words. */
    private int startWord() {
        return words == 1 ? 0 : (int) (Thread.currentThread().threadId() % words);
    }

    /** Takes a free entry of group g; -1 if none is free now. */
    int tryAllocate(int g) {
        int base = g * FREE_STRIDE;
        int start = startWord();
        for (int k = 0; k < words; k++) {
            int w = base + (start + k) % words;
            long v = (long) FREE_WORD.getVolatile(freeBits, w);
            while (v != 0) {
                long bit = Long.lowestOneBit(v);
                // CAS: the entry is ours alone.
                if (FREE_WORD.compareAndSet(freeBits, w, v, v & ~bit)) {
                    return (w - base) * 64 + Long.numberOfTrailingZeros(bit);
                }
                v = (long) FREE_WORD.getVolatile(freeBits, w);
            }
        }
        return -1;
    }

    /** Takes up to {@code want} free entries of group g with one CAS per bitmap word into {@code out}; returns how many. */
    int tryAllocateMany(int g, int want, int[] out, int off) {
        int base = g * FREE_STRIDE;
        int start = startWord();
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

    /**
     * Takes a free entry of group g, waiting while all are in flight; -1 once the allocator
     * is {@linkplain #close closed}.
     */
    int allocate(int g) {
        int index = tryAllocate(g);
        return index >= 0 ? index : allocateSlow(g);
    }

    private int allocateSlow(int g) {
        Waiter me = new Waiter();
        queues[g].add(me);
        // Volatile RMW (full fence): registered before the retry below loads the bitmap; pairs
        // with release(): its OR of the bitmap, then its load of this count.
        waiting[g].incrementAndGet();
        boolean interrupted = false;
        try {
            while (true) {
                int index = tryAllocate(g);
                if (index >= 0) return index;
                if (closed) return -1; // volatile: close() sets it, then unparks every waiter
                LockSupport.park(this); // no timeout: a release (or close) unparks us
                // An interrupt is the call's business once it is posted (the wait cancels a
                // call that may block); here it would only make park return at once.
                if (Thread.interrupted()) interrupted = true;
            }
        } finally {
            me.gone = true;
            waiting[g].decrementAndGet(); // full fence: ordered before the loads of wakeNext's check
            // Pass the turn on: releases that unparked us while we took an entry were meant
            // for the queue, not for us alone.
            if (waiting[g].get() != 0 && hasFree(g)) wakeNext(g);
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Gives entry {@code index} of group g back. */
    void release(int g, int index) {
        // Volatile RMW (full fence): the entry is free, then the load of the waiting count.
        FREE_WORD.getAndBitwiseOr(freeBits, g * FREE_STRIDE + (index >>> 6), 1L << (index & 63));
        if (waiting[g].get() != 0) wakeNext(g);
    }

    /** Gives back the entries of group g set in {@code mask} (one word per 64 entries), with one OR per word; clears mask. */
    void release(int g, long[] mask) {
        boolean freed = false;
        for (int word = 0; word < mask.length; word++) {
            if (mask[word] != 0) {
                // Volatile RMW (full fence): the entries are free, then the load of the count below.
                FREE_WORD.getAndBitwiseOr(freeBits, g * FREE_STRIDE + word, mask[word]);
                mask[word] = 0;
                freed = true;
            }
        }
        if (freed && waiting[g].get() != 0) wakeNext(g);
    }

    /** Unparks the first waiter of group g that has not left, dropping those that have from the queue's head. */
    private void wakeNext(int g) {
        ConcurrentLinkedQueue<Waiter> q = queues[g];
        Waiter w;
        while ((w = q.peek()) != null && w.gone) q.remove(w); // the head: found at once
        if (w != null) LockSupport.unpark(w.thread);
    }

    /** A free entry in group g now (volatile reads: a hint, an allocation may still have to wait). */
    boolean hasFree(int g) {
        int base = g * FREE_STRIDE;
        for (int w = 0; w < words; w++) {
            if ((long) FREE_WORD.getVolatile(freeBits, base + w) != 0) return true;
        }
        return false;
    }

    /** True if every entry of every group is free. */
    boolean allFree() {
        for (int g = 0; g < groups; g++) {
            for (int w = 0; w < words; w++) {
                if ((long) FREE_WORD.getVolatile(freeBits, g * FREE_STRIDE + w) != allBits(w)) return false;
            }
        }
        return true;
    }

    /** From now on {@link #allocate} returns -1 instead of waiting; wakes every waiter. */
    void close() {
        closed = true; // volatile: read by waiters after they wake
        for (ConcurrentLinkedQueue<Waiter> q : queues) {
            for (Waiter w : q) LockSupport.unpark(w.thread);
        }
    }
}
