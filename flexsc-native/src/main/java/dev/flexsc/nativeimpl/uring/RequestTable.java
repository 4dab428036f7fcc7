package dev.flexsc.nativeimpl.uring;

/**
 * The calls in flight on one ring: {@code user_data} (slot and generation) to the waiting
 * {@link UringCall}. A slot is taken when the call's SQE is written and given back when its
 * CQE is dispatched; the generation tells a CQE of the slot's current call from a stale one.
 *
 * <p>Confined to the ring's owner (a carrier's OS thread, or the thread that borrowed a
 * platform ring; for a carrier's ring, whoever holds its use: {@link CarrierRing}): plain
 * fields, no synchronisation. {@link #inFlight()} may be read racily
 * by other threads, as a statistic.
 */
final class RequestTable {
    private final UringCall[] calls;
    private final int[] generation;
    /** Free slots, a stack: the most recently freed slot (its cache lines warm) is taken first. */
    private final int[] free;
    private int freeCount;

    RequestTable(int slots) {
        this.calls = new UringCall[slots];
        this.generation = new int[slots];
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) free[i] = slots - 1 - i;
        this.freeCount = slots;
    }

    /** Calls that may be in flight at once. */
    int capacity() {
        return calls.length;
    }

    /** Calls registered and not yet dispatched (other threads: a racy read, statistics only). */
    int inFlight() {
        return calls.length - freeCount;
    }

    /** True while a slot is free. */
    boolean hasFreeSlot() {
        return freeCount > 0;
    }

    /** Enters {@code c} under a free slot and gives it its user_data; false if every slot is in flight. */
    boolean register(UringCall c) {
        if (freeCount == 0) return false;
        int slot = free[--freeCount];
        int gen = ++generation[slot] & 0x7fff_ffff; // user_data stays >= 0: the negative ones are the ring's own
        c.slot = slot;
        c.userData = ((long) gen << 32) | slot;
        calls[slot] = c;
        return true;
    }

    /**
     * The call a CQE with {@code userData} belongs to, its slot given back; null for a CQE that
     * is not (or no longer) a call's.
     */
    UringCall complete(long userData) {
        UringCall c = find(userData);
        if (c == null) return null;
        calls[c.slot] = null;
        free[freeCount++] = c.slot;
        return c;
    }

    /** The call in flight under {@code userData}, its slot kept; null if none. */
    UringCall find(long userData) {
        int slot = (int) userData;
        if (userData < 0 || slot < 0 || slot >= calls.length) return null;
        UringCall c = calls[slot];
        return c != null && c.userData == userData ? c : null;
    }

    /** The call under {@code slot}, or null. */
    UringCall at(int slot) {
        return calls[slot];
    }
}
