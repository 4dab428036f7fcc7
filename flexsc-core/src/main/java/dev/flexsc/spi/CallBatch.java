package dev.flexsc.spi;

import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The calls of one batch as an engine sees them: for each position {@code i}, an
 * allow-listed call ({@link #call(int)}, checked when it was added) with six arguments, and
 * the outcome the engine records: {@link #complete(int, long) a raw kernel result} or
 * {@link #fail(int, IOException) a failure of the engine} (closed before the call ran).
 *
 * <p>Built by {@link dev.flexsc.SyscallBatch}; read and settled by a {@link BatchInvoker}.
 * Not thread-safe: every access happens on the thread that submits the batch (engines that
 * complete calls on other threads copy the results in on that thread before returning).
 */
public final class CallBatch {
    private static final int ARGS = 6;

    /**
     * The calls' numbers; {@link #call(int)} maps them back to the table's entries. An int
     * array, not an array of the {@code Call} references: a reference store into a long-lived
     * array costs a GC write barrier per call (G1's fences when the array is in the old
     * generation), a primitive store does not.
     */
    private int[] nrs;
    private long[] args;
    private long[] ret;
    private IOException[] failure;
    /** 1 once position i is settled (a result or a failure), so no call is settled twice. */
    private byte[] settled;
    private int size;
    private int settledCount;
    /** Whether some position failed since the last clear (else failure[] holds only nulls). */
    private boolean failed;
    private Object engineState;

    public CallBatch(int initialCapacity) {
        int c = Math.max(1, initialCapacity);
        nrs = new int[c];
        args = new long[c * ARGS];
        ret = new long[c];
        failure = new IOException[c];
        settled = new byte[c];
    }

    /**
     * Appends a call; returns its position. {@code call} is an allow-listed call (a table entry).
     *
     * @throws IllegalArgumentException if {@code call} is not the call table's own entry
     */
    public int add(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) {
        int nr = call.nr();
        if (SyscallTable.lookup(nr) != call) throw new IllegalArgumentException(call + " is not an entry of the call table");
        int i = size;
        if (i == nrs.length) grow();
        nrs[i] = nr;
        int k = i * ARGS;
        long[] a = args;
        a[k] = a0;
        a[k + 1] = a1;
        a[k + 2] = a2;
        a[k + 3] = a3;
        a[k + 4] = a4;
        a[k + 5] = a5;
        size = i + 1;
        return i;
    }

    private void grow() {
        int c = nrs.length * 2;
        nrs = Arrays.copyOf(nrs, c);
        args = Arrays.copyOf(args, c * ARGS);
        ret = Arrays.copyOf(ret, c);
        failure = Arrays.copyOf(failure, c);
        settled = Arrays.copyOf(settled, c);
    }

    /** Number of calls. */
    public int size() {
        return size;
    }

    /** Call at position i (an allow-listed table entry: engines need not look it up again). */
    public SyscallTable.Call call(int i) {
        return SyscallTable.lookup(nrs[i]);
    }

    /** The system call number at position i. */
    public int nr(int i) {
        return nrs[i];
    }

    /** Argument {@code k} (0..5) of the call at position i. */
    public long arg(int i, int k) {
        return args[i * ARGS + k];
    }

    /**
     * Copies the six arguments of position i into {@code dst} at {@code offset} as native
     * longs (plain stores; the engine publishes them).
     */
    public void copyArgs(int i, MemorySegment dst, long offset) {
        long[] a = args;
        int k = i * ARGS;
        dst.set(ValueLayout.JAVA_LONG, offset, a[k]);
        dst.set(ValueLayout.JAVA_LONG, offset + 8, a[k + 1]);
        dst.set(ValueLayout.JAVA_LONG, offset + 16, a[k + 2]);
        dst.set(ValueLayout.JAVA_LONG, offset + 24, a[k + 3]);
        dst.set(ValueLayout.JAVA_LONG, offset + 32, a[k + 4]);
        dst.set(ValueLayout.JAVA_LONG, offset + 40, a[k + 5]);
    }

    /** Engine: records the raw kernel result of position i ({@code >= 0} value, {@code < 0} -errno). */
    public void complete(int i, long result) {
        settle(i);
        ret[i] = result;
    }

    /** Engine: records that position i did not run (or its result was lost) because of {@code e}. */
    public void fail(int i, IOException e) {
        settle(i);
        failure[i] = e;
        failed = true;
    }

    private void settle(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("position " + i + " of a batch of " + size);
        if (settled[i] != 0) throw new IllegalStateException("position " + i + " (" + call(i).name() + ") settled twice");
        settled[i] = 1;
        settledCount++;
    }

    /** True once position i has a result or a failure. */
    public boolean isSettled(int i) {
        return settled[i] != 0;
    }

    /** Positions settled so far. */
    public int settledCount() {
        return settledCount;
    }

    /** The raw result of a completed position. */
    public long result(int i) {
        return ret[i];
    }

    /** True if some position failed since the last {@link #clear()} (else every {@link #failure} is null). */
    public boolean anyFailed() {
        return failed;
    }

    /** The failure of a failed position, or null. */
    public IOException failure(int i) {
        return failure[i];
    }

    /**
     * Engine scratch kept with the batch between submits (e.g. arrays sized for it), so an
     * engine need not allocate them per submit; null at first. The engine checks that what it
     * gets back is its own. Not cleared by {@link #clear()}.
     */
    public Object engineState() {
        return engineState;
    }

    /** Engine: sets the scratch returned by {@link #engineState()}. */
    public void engineState(Object state) {
        engineState = state;
    }

    /** Empties the batch for reuse (capacity kept). */
    public void clear() {
        int n = size;
        if (failed) {
            Arrays.fill(failure, 0, n, null);
            failed = false;
        }
        Arrays.fill(settled, 0, n, (byte) 0);
        size = 0;
        settledCount = 0;
    }
}
