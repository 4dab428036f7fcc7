package dev.flexsc.nativeimpl.uring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The calls in flight on one ring: {@code user_data} (slot and generation) to the waiting
 * {@link UringCall}. A slot is taken before the call's SQE is written and given back when
 * its CQE is dispatched; the generation tells a CQE of the slot's current call from a stale
 * one. Thread-safe: any thread may take and free slots (a CAS per take, an atomic OR per
 * free), and a reaper finds a call by its slot with an acquire load.
 */
final class RequestTable {
    private static final VarHandle CALLS = MethodHandles.arrayElementVarHandle(UringCall[].class);
    private static final VarHandle FREE_WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final int slots;
    private final UringCall[] calls;
    private final int[] generation;
    /** 1 bit = slot free. */
    private final long[] freeSlots;
    private final AtomicInteger inFlight = new AtomicInteger();

    RequestTable(int slots) {
        this.slots = slots;
        this.calls = new UringCall[slots];
        this.generation = new int[slots];
        this.freeSlots = new long[(slots + 63) / 64];
        for (int w = 0; w < freeSlots.length; w++) {
            int n = Math.min(64, slots - w * 64);
            freeSlots[w] = n == 64 ? -1L : (1L << n) - 1;
        }
    }

    /** Calls that may be in flight at once. */
    int capacity() {
        return slots;
    }

    /** Calls registered and not yet dispatched (a volatile read). */
    int inFlight() {
        return inFlight.get();
    }

    /** True while a slot is free (a hint: the volatile count of calls in flight). */
    boolean hasFreeSlot() {
        return inFlight.get() < slots;
    }

    /** Takes a free slot, or returns -1 if every slot is in flight. */
    int tryTake() {
        int words = freeSlots.length;
        int start = words == 1 ? 0 : (int) (Thread.currentThread().threadId() % words);
        for (int k = 0; k < words; k++) {
            int w = (start + k) % words;
            long v = (long) FREE_WORD.getVolatile(freeSlots, w);
            while (v != 0) {
                long bit = Long.lowestOneBit(v);
                // CAS: exactly one thread takes the bit.
                if (FREE_WORD.compareAndSet(freeSlots, w, v, v & ~bit)) {
                    return w * 64 + Long.numberOfTrailingZeros(bit);
                }
                v = (long) FREE_WORD.getVolatile(freeSlots, w);
            }
        }
        return -1;
    }

    /**
     * Enters {@code c} under {@code slot} (taken by the caller) and gives it its user_data.
     * Volatile store of the call into the table: a reaper that finds this slot sees the fully
     * built call, and the caller's later load of the engine's closed flag cannot move before
     * it (close writes the flag, then scans the table: one of the two sees the other).
     */
    void register(UringCall c, int slot) {
        int gen = ++generation[slot]; // the slot is ours: plain, published by the volatile store below
        c.slot = slot;
        c.userData = ((long) gen << 32) | slot;
        CALLS.setVolatile(calls, slot, c);
        inFlight.incrementAndGet();
    }

    /** Gives back {@code slot}. */
    void release(int slot) {
        CALLS.setRelease(calls, slot, null);
        inFlight.decrementAndGet();
        // Volatile RMW: the slot is free for the next take.
        FREE_WORD.getAndBitwiseOr(freeSlots, slot >>> 6, 1L << (slot & 63));
    }

    /**
     * The call a CQE with {@code userData} belongs to, its slot given back; null for a CQE that
     * is not (or no longer) a call's: out of range, or a stale generation of an abandoned slot.
     */
    UringCall complete(long userData) {
        int slot = (int) userData;
        if (slot < 0 || slot >= slots) return null; // not ours (cannot happen: we write every user_data)
        // Acquire: pairs with the volatile store in register, so the call's fields are visible.
        UringCall c = (UringCall) CALLS.getAcquire(calls, slot);
        if (c == null || c.userData != userData) return null;
        release(slot);
        return c;
    }

    /** The call under {@code slot}, or null (acquire: its fields are visible). */
    UringCall at(int slot) {
        return (UringCall) CALLS.getAcquire(calls, slot);
    }
}
