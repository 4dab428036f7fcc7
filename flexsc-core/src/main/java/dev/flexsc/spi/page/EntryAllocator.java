package dev.flexsc.spi.page;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Which entries of each group are free, Java-side: one bit per entry in padded bitmaps
 * (the page's status words say the rest), taken with a CAS and given back with a volatile
 * OR. A caller that finds its group full waits for an entry ({@link #allocate}).
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
    private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waiterCount = new AtomicInteger();
    private volatile boolean closed;

    EntryAllocator(int groups, int entriesPerGroup) {
        this.groups = groups;
        this.entriesPerGroup = entriesPerGroup;
        this.words = (entriesPerGroup + 63) / 64;
        this.freeBits = new long[groups * FREE_STRIDE];
        for (int g = 0; g < groups; g++) {
            for (int w = 0; w < words; w++) freeBits[g * FREE_STRIDE + w] = allBits(w);
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
        Thread me = Thread.currentThread();
        waiters.add(me);
        waiterCount.incrementAndGet(); // volatile: pairs with the check in release()
        try {
            while (true) {
                int index = tryAllocate(g);
                if (index >= 0) return index;
                if (closed) return -1;
                LockSupport.parkNanos(this, 1_000_000L);
            }
        } finally {
            waiters.remove(me);
            waiterCount.decrementAndGet();
        }
    }

    /** Gives entry {@code index} of group g back. */
    void release(int g, int index) {
        // Volatile RMW: the entry is free for the next allocate.
        FREE_WORD.getAndBitwiseOr(freeBits, g * FREE_STRIDE + (index >>> 6), 1L << (index & 63));
        wakeWaiter();
    }

    /** Gives back the entries of group g set in {@code mask} (one word per 64 entries), with one OR per word; clears mask. */
    void release(int g, long[] mask) {
        boolean freed = false;
        for (int word = 0; word < mask.length; word++) {
            if (mask[word] != 0) {
                // Volatile RMW: the entries are free for the next allocation.
                FREE_WORD.getAndBitwiseOr(freeBits, g * FREE_STRIDE + word, mask[word]);
                mask[word] = 0;
                freed = true;
            }
        }
        if (freed) wakeWaiter();
    }

    private void wakeWaiter() {
        if (waiterCount.get() != 0) {
            Thread t = waiters.peek();
            if (t != null) LockSupport.unpark(t);
        }
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
        for (Thread t : waiters) LockSupport.unpark(t);
    }
}
