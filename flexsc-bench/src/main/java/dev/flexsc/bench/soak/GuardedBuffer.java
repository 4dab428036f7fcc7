package dev.flexsc.bench.soak;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Native memory for one call with canaries: {@value #GUARD} guard bytes on each side, and
 * the buffer itself filled with {@link #FRESH} before the call. After the call returns, the
 * guards must be intact (no write outside the buffer) and the bytes past the call's count
 * still fresh; {@link #returned} then takes a snapshot of the whole region, and every later
 * {@link #changedSinceReturn} compares against it: a difference is a write after the call
 * returned to its caller.
 *
 * <p>Confined to one thread at a time (the worker that owns it, then the auditor).
 */
final class GuardedBuffer {
    static final int GUARD = 64;
    static final byte GUARD_BYTE = (byte) 0xA5, FRESH = (byte) 0x5A;

    private final MemorySegment whole;
    private final MemorySegment data;
    private byte[] snapshot;
    /** What the call was, for the report of a late write. */
    private String returnedBy;
    private long returnedAtNanos;

    GuardedBuffer(Arena arena, int capacity) {
        this.whole = arena.allocate(capacity + 2L * GUARD, 64);
        this.data = whole.asSlice(GUARD, capacity);
    }

    /** Guards and buffer refilled; returns the first {@code length} bytes for the call. */
    MemorySegment arm(int length) {
        whole.fill(GUARD_BYTE);
        data.fill(FRESH);
        snapshot = null;
        return data.asSlice(0, length);
    }

    int capacity() {
        return (int) data.byteSize();
    }

    MemorySegment data() {
        return data;
    }

    /**
     * Null if the guards are intact and bytes {@code [count, capacity)} are still fresh (the
     * call wrote nothing outside {@code [0, count)}); else what was touched.
     */
    String outsideWrites(long count) {
        for (int i = 0; i < GUARD; i++) {
            if (whole.get(ValueLayout.JAVA_BYTE, i) != GUARD_BYTE) return "guard byte " + (i - GUARD) + " before the buffer";
            if (whole.get(ValueLayout.JAVA_BYTE, GUARD + data.byteSize() + i) != GUARD_BYTE) {
                return "guard byte " + i + " after the buffer";
            }
        }
        for (long i = Math.max(0, count); i < data.byteSize(); i++) {
            if (data.get(ValueLayout.JAVA_BYTE, i) != FRESH) return "byte " + i + " past the call's count " + count;
        }
        return null;
    }

    /** The call returned to its caller: from now on nothing may write here. */
    void returned(String by) {
        snapshot = whole.toArray(ValueLayout.JAVA_BYTE);
        returnedBy = by;
        returnedAtNanos = System.nanoTime();
    }

    boolean hasReturned() {
        return snapshot != null;
    }

    long returnedAtNanos() {
        return returnedAtNanos;
    }

    /** Null if unchanged since {@link #returned}; else where it changed and for which call. */
    String changedSinceReturn() {
        byte[] now = whole.toArray(ValueLayout.JAVA_BYTE);
        int i = Arrays.mismatch(now, snapshot);
        if (i < 0) return null;
        return String.format("byte %d of the buffer of %s changed %.0f ms after the call returned (0x%02x -> 0x%02x)",
                i - GUARD, returnedBy, (System.nanoTime() - returnedAtNanos) / 1e6, snapshot[i], now[i]);
    }
}
