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
    /** Longs per position in {@link #calls}: the call's number, its six arguments, one unused. */
    private static final int STRIDE = 8;

    /**
     * Per position {@code i}, at {@code i * STRIDE}: the call's number, then its six arguments.
     * One primitive array: one bounds check per add, and no reference store (an array of the
     * {@code Call} references would cost a GC write barrier per call, with G1 a fence once
     * the array is in the old generation); {@link #call(int)} maps the number back to the
     * table's entry.
     */
    private long[] calls;
    private long[] ret;
    private IOException[] failure;
    /** 1 once position i is settled (a result or a failure), so no call is settled twice. */
    private byte[] settled;
    private int size;
    /** Whether some position failed since the last clear (else failure[] holds only nulls). */
    private boolean failed;
    private Object engineState;

    public CallBatch(int initialCapacity) {
        int c = Math.max(1, initialCapacity);
        calls = new long[c * STRIDE];
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
        if (i == ret.length) grow();
        int k = i * STRIDE;
        long[] a = calls;
        a[k] = nr;
        a[k + 1] = a0;
        a[k + 2] = a1;
        a[k + 3] = a2;
        a[k + 4] = a3;
        a[k + 5] = a4;
        a[k + 6] = a5;
        size = i + 1;
        return i;
    }

    private void grow() {
        int c = ret.length * 2;
        calls = Arrays.copyOf(calls, c * STRIDE);
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
        return SyscallTable.lookup(nr(i));
    }

    /** The system call number at position i. */
    public int nr(int i) {
        return (int) calls[i * STRIDE];
    }

    /** Argument {@code k} (0..5) of the call at position i. */
    public long arg(int i, int k) {
        if (k < 0 || k > 5) throw new IndexOutOfBoundsException("argument " + k + " of a system call (0..5)");
        return calls[i * STRIDE + 1 + k];
    }

    /**
     * Copies the six arguments of position i into {@code dst} at {@code offset} as native
     * longs (plain stores; the engine publishes them).
     */
    public void copyArgs(int i, MemorySegment dst, long offset) {
        long[] a = calls;
        int k = i * STRIDE;
        dst.set(ValueLayout.JAVA_LONG, offset, a[k + 1]);
        dst.set(ValueLayout.JAVA_LONG, offset + 8, a[k + 2]);
        dst.set(ValueLayout.JAVA_LONG, offset + 16, a[k + 3]);
        dst.set(ValueLayout.JAVA_LONG, offset + 24, a[k + 4]);
        dst.set(ValueLayout.JAVA_LONG, offset + 32, a[k + 5]);
        dst.set(ValueLayout.JAVA_LONG, offset + 40, a[k + 6]);
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
    }

    /** True once position i has a result or a failure. */
    public boolean isSettled(int i) {
        return settled[i] != 0;
    }

    /** Positions settled so far (counted on demand: settling keeps no count). */
    public int settledCount() {
        int c = 0;
        for (int i = 0; i < size; i++) c += settled[i];
        return c;
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
    }
}
