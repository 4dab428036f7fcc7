package dev.flexsc.bench.soak;

import java.lang.foreign.Arena;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The guarded buffers of one run and their late-write audit. A worker takes buffers from
 * its own {@link Pool}; a buffer given back after its call returned is reused only after
 * {@link #QUIET_NANOS} and only once it is found unchanged since the return. A buffer whose
 * call failed, was interrupted or was abandoned by an engine's close is never reused: it is
 * audited at the end of the run ({@link #auditAll()}), after every stuck call was released
 * and every engine closed, when a late write has had every chance to land. The arena lives
 * as long as the run, so the audit never reads freed memory.
 */
final class Buffers implements AutoCloseable {
    /** A buffer given back is reused no sooner than this (a late write has time to land). */
    static final long QUIET_NANOS = 50_000_000L;
    static final int CAPACITY = 16 << 10;

    private final Arena arena = Arena.ofShared();
    private final Ledger ledger;
    private final Queue<GuardedBuffer> kept = new ConcurrentLinkedQueue<>();
    private final Queue<Pool> pools = new ConcurrentLinkedQueue<>();

    Buffers(Ledger ledger) {
        this.ledger = ledger;
    }

    /** A pool for one worker (one thread at a time). */
    Pool pool() {
        Pool p = new Pool();
        pools.add(p);
        return p;
    }

    /** A buffer that is never reused: audited only by {@link #auditAll()}. */
    GuardedBuffer keep(GuardedBuffer b) {
        kept.add(b);
        return b;
    }

    /** A new buffer outside any pool (for stuck calls and batches): give it to {@link #keep} once returned. */
    GuardedBuffer fresh(int capacity) {
        return new GuardedBuffer(arena, capacity);
    }

    private void audit(GuardedBuffer b) {
        if (!b.hasReturned()) return; // its call never returned: lost, counted by the ledger
        String change = b.changedSinceReturn();
        if (change != null) ledger.violation(Ledger.Count.LATE_WRITES, change);
    }

    /** Audits every buffer given back or kept; returns how many were audited. */
    int auditAll() {
        int n = 0;
        for (GuardedBuffer b; (b = kept.poll()) != null; n++) audit(b);
        for (Pool p : pools) {
            for (GuardedBuffer b; (b = p.returned.poll()) != null; n++) audit(b);
        }
        return n;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** One worker's buffers, reused in the order they were given back. */
    final class Pool {
        private final ConcurrentLinkedQueue<GuardedBuffer> returned = new ConcurrentLinkedQueue<>();
        private int allocated;

        /** A buffer of {@link #CAPACITY} bytes: the oldest one given back, once quiet and audited, else a new one. */
        GuardedBuffer take() {
            GuardedBuffer b = returned.peek();
            if (b != null && (System.nanoTime() - b.returnedAtNanos() >= QUIET_NANOS || allocated >= 64)) {
                returned.poll();
                audit(b);
                return b;
            }
            allocated++;
            return new GuardedBuffer(arena, CAPACITY);
        }

        /** Gives back a buffer whose call returned ({@link GuardedBuffer#returned} was called). */
        void giveBack(GuardedBuffer b) {
            returned.add(b);
        }
    }
}
