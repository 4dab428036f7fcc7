package dev.flexsc.io;

import org.jctools.queues.varhandle.MpmcVarHandleArrayQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Native memory for heap {@link java.nio.ByteBuffer}s: the kernel (or a syscall thread)
 * can only read and write native memory, so a heap buffer's bytes go through one of
 * these for the length of one call.
 *
 * <p>A lock-free pool per power-of-two size class from 4 KiB to 256 KiB, at most
 * {@value #PER_CLASS} buffers each (a bounded {@link MpmcVarHandleArrayQueue}; its offer and poll
 * are the only synchronisation: a segment handed over through it is published by the
 * queue's release/acquire pair). A green thread keeps its buffer while it is parked in
 * the call, so the pool is shared rather than per carrier. Pooled segments come from
 * {@link Arena#ofAuto()}: one that does not fit back into a full pool is left to the
 * garbage collector. A request above 256 KiB gets its own confined arena, freed as soon
 * as the call returns.
 */
final class NativeBuffers {
    private NativeBuffers() {}

    static final int MIN_SHIFT = 12, MAX_SHIFT = 18;
    /** Largest pooled buffer. */
    static final int MAX_POOLED = 1 << MAX_SHIFT;
    static final int PER_CLASS = 16;

    @SuppressWarnings("unchecked")
    private static final MpmcVarHandleArrayQueue<MemorySegment>[] POOLS = new MpmcVarHandleArrayQueue[MAX_SHIFT - MIN_SHIFT + 1];

    static {
        for (int i = 0; i < POOLS.length; i++) POOLS[i] = new MpmcVarHandleArrayQueue<>(PER_CLASS);
    }

    /** A buffer lent for one call: {@code segment} is at least as large as asked. */
    record Lease(MemorySegment segment, Arena ownArena) implements AutoCloseable {
        /** Returns the buffer to its pool, or frees it if it had its own arena. */
        @Override
        public void close() {
            if (ownArena != null) {
                ownArena.close();
            } else {
                POOLS[classOf(segment.byteSize())].offer(segment); // full pool: dropped, GC frees it
            }
        }
    }

    /** Lends native memory of at least {@code bytes} bytes (at least 1). */
    static Lease take(long bytes) {
        if (bytes > MAX_POOLED) {
            Arena a = Arena.ofConfined();
            return new Lease(a.allocate(bytes, 64), a);
        }
        int c = classOf(Math.max(1, bytes));
        MemorySegment s = POOLS[c].poll();
        if (s == null) s = Arena.ofAuto().allocate(1L << (c + MIN_SHIFT), 64);
        return new Lease(s, null);
    }

    private static int classOf(long bytes) {
        int shift = 64 - Long.numberOfLeadingZeros(bytes - 1); // ceil(log2(bytes))
        return Math.max(0, shift - MIN_SHIFT);
    }
}
