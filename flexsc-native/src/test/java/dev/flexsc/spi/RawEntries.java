package dev.flexsc.spi;

import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * Raw syscall-page entries of a {@link PageEngine}, written and read past the allow-list and
 * the call path: for tests that the executors validate the page (an entry in any status,
 * with any number). Test code only, in PageEngine's package for its package-private
 * allocator, wake-up and reap; nothing here is API.
 *
 * <p>Ordering as in PageEngine: the entry's fields are published by the release store of
 * its status, then the volatile OR of its submit bit; DONE is read with acquire before ret.
 */
public final class RawEntries {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private RawEntries() {}

    /**
     * Writes an entry of group g exactly as given (any status, any number) and sets its submit
     * bit, waking the group's executors if they sleep. Returns the entry index.
     */
    public static int post(PageEngine engine, int g, int status, int nr, long... args) throws IOException {
        int index = engine.allocate(g, SyscallTable.lookup(SyscallTable.GETPID));
        long e = engine.entryOffset(g, index);
        MemorySegment m = engine.mapping;
        // Plain stores: published by the release store of the status below.
        m.set(ValueLayout.JAVA_INT, e + ENTRY_SYSNR, nr);
        for (int i = 0; i < ARGS; i++) {
            m.set(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 8L * i, i < args.length ? args[i] : 0);
        }
        INT.setRelease(m, e + ENTRY_STATUS, status);
        // Volatile RMW: the bit after the status (pairs with the executor's fetch of submit_bits).
        LONG.getAndBitwiseOr(m, engine.groupControlOffset(g) + GROUP_SUBMIT_BITS + (long) (index >>> 6) * 8, 1L << index);
        engine.wake(g);
        return index;
    }

    /** The status of entry {@code index} of group g (acquire). */
    public static int status(PageEngine engine, int g, int index) {
        return (int) INT.getAcquire(engine.mapping, engine.entryOffset(g, index) + ENTRY_STATUS);
    }

    /**
     * Waits for a raw entry to be DONE (up to {@code timeoutMillis}), reaps it and returns its
     * ret; {@link Long#MIN_VALUE} on timeout (the entry is then still held).
     */
    public static long reap(PageEngine engine, int g, int index, long timeoutMillis) {
        long e = engine.entryOffset(g, index);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while ((int) INT.getAcquire(engine.mapping, e + ENTRY_STATUS) != STATUS_DONE) {
            if (System.nanoTime() > deadline) return Long.MIN_VALUE;
            LockSupport.parkNanos(100_000L);
        }
        return engine.reap(g, index, e);
    }

    /** Frees a raw entry that will never complete. */
    public static void release(PageEngine engine, int g, int index) {
        INT.setRelease(engine.mapping, engine.entryOffset(g, index) + ENTRY_STATUS, STATUS_FREE);
        engine.release(g, index);
    }
}
