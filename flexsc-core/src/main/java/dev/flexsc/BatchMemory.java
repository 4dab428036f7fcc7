package dev.flexsc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The memory the calls of one {@link SyscallBatch} submit use, under {@link CallMemory}'s
 * rules: the segments used in place (rechecked at submit and kept reachable until the
 * results are reaped), the native copies of heap and shared-arena buffers and of paths (an
 * arena created on demand), and the reads to copy back into their heap destinations.
 * Released after every call of the submit completed, quarantined for good if the engine's
 * machinery failed (a call may still be running).
 *
 * <p>Not thread-safe: the batch's one submitting thread uses it.
 */
final class BatchMemory {
    /** Native memory for heap buffers and paths; created on demand, freed after each submit. */
    private Arena arena;
    /**
     * The segments used in place by the calls added since the last submit, with their calls'
     * names: rechecked at submit, and kept reachable until the results are reaped (an
     * automatic arena's memory would otherwise be freed by the GC under the kernel).
     */
    private MemorySegment[] inPlace;
    private String[] inPlaceCall;
    private int inPlaceCount;
    /** Heap reads to copy back after submit: (position, native copy, heap destination). */
    private int[] copyBackPos;
    private MemorySegment[] copyBackFrom, copyBackTo;
    private int copyBacks;

    /** The arena for this submit's copies, created on first use. */
    Arena arena() {
        if (arena == null) arena = Arena.ofConfined();
        return arena;
    }

    /** The address a write of {@code buf} passes: {@code buf} itself, or a native copy of it. */
    long writeSource(MemorySegment buf, boolean inPlace) {
        return inPlace ? buf.address() : CallMemory.copyOf(arena(), buf).address();
    }

    /** Remembers a segment used in place by the call just added. */
    void keep(MemorySegment seg, String call) {
        if (inPlace == null) {
            inPlace = new MemorySegment[8];
            inPlaceCall = new String[8];
        } else if (inPlaceCount == inPlace.length) {
            inPlace = Arrays.copyOf(inPlace, inPlaceCount * 2);
            inPlaceCall = Arrays.copyOf(inPlaceCall, inPlaceCount * 2);
        }
        inPlace[inPlaceCount] = seg;
        inPlaceCall[inPlaceCount] = call;
        inPlaceCount++;
    }

    /**
     * Checks again, at submit, that every segment used in place is alive and accessible to
     * this thread ({@link CallMemory#recheck}: IllegalStateException or WrongThreadException).
     */
    void recheck() {
        for (int k = 0; k < inPlaceCount; k++) CallMemory.recheck(inPlace[k], inPlaceCall[k]);
    }

    /** Remembers that the read at batch position {@code pos} lands in {@code from}, to be copied to {@code to}. */
    void addCopyBack(int pos, MemorySegment from, MemorySegment to) {
        if (copyBackPos == null) {
            copyBackPos = new int[4];
            copyBackFrom = new MemorySegment[4];
            copyBackTo = new MemorySegment[4];
        } else if (copyBacks == copyBackPos.length) {
            copyBackPos = Arrays.copyOf(copyBackPos, copyBacks * 2);
            copyBackFrom = Arrays.copyOf(copyBackFrom, copyBacks * 2);
            copyBackTo = Arrays.copyOf(copyBackTo, copyBacks * 2);
        }
        copyBackPos[copyBacks] = pos;
        copyBackFrom[copyBacks] = from;
        copyBackTo[copyBacks] = to;
        copyBacks++;
    }

    /** Reads of this submit to copy back. */
    int copyBacks() {
        return copyBacks;
    }

    /** The batch position of copy-back {@code k}. */
    int copyBackPosition(int k) {
        return copyBackPos[k];
    }

    /**
     * Copies the {@code count} bytes read for copy-back {@code k} to their destination.
     *
     * @return null, or the exception of a destination whose shared arena was closed while the
     *         call ran (its bytes cannot be delivered)
     */
    RuntimeException copyBack(int k, long count) {
        try {
            MemorySegment.copy(copyBackFrom[k], 0, copyBackTo[k], 0, Math.min(count, copyBackTo[k].byteSize()));
            return null;
        } catch (IllegalStateException | WrongThreadException gone) {
            return gone;
        }
    }

    /**
     * Rule 4 of {@link CallMemory}: this submit's native memory and segments are kept for
     * good, because a call the engine had posted may still be using them.
     */
    void quarantine() {
        CallMemory.quarantine(arena);
        arena = null;
        if (inPlaceCount > 0) CallMemory.quarantine(Arrays.copyOf(inPlace, inPlaceCount));
        for (int k = 0; k < copyBacks; k++) CallMemory.quarantine(copyBackTo[k]);
    }

    /** After a submit's results are reaped, or at close: forgets every segment and frees the arena. */
    void release() {
        for (int k = 0; k < copyBacks; k++) copyBackFrom[k] = copyBackTo[k] = null;
        copyBacks = 0;
        if (inPlaceCount > 0) {
            Arrays.fill(inPlace, 0, inPlaceCount, null);
            inPlaceCount = 0;
        }
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }
}
