package dev.flexsc.spi.page;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * Raw syscall-page entries of a {@link PageEngine}, written and read past the allow-list and
 * the call path: for tests that the executors validate the page (an entry in any status,
 * with any number). Test code only, in the page data plane's package for its package-private
 * parts (the pages, the allocator, the submitter); nothing here is API.
 *
 * <p>Ordering as in the data plane ({@link SyscallPage}): the entry's fields are published by
 * the release store of its status, then the volatile OR of its submit bit; DONE is read with
 * acquire before ret.
 */
public final class RawEntries {
    private RawEntries() {}

    /**
     * Writes an entry of group g exactly as given (any status, any number) and sets its submit
     * bit, waking the group's executors if they sleep. Returns the entry index.
     */
    public static int post(PageEngine engine, int g, int status, int nr, long... args) throws IOException {
        int index = engine.entries().allocate(g);
        if (index < 0) throw new IOException("the engine is closed");
        SyscallPage p = engine.pages();
        long e = p.entry(g, index);
        long[] a = java.util.Arrays.copyOf(args, ARGS);
        p.write(e, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        p.setStatus(e, status);
        engine.submitter().expose(g, index);
        return index;
    }

    /** The status of entry {@code index} of group g (acquire). */
    public static int status(PageEngine engine, int g, int index) {
        return engine.pages().status(engine.pages().entry(g, index));
    }

    /**
     * Waits for a raw entry to be DONE (up to {@code timeoutMillis}), reaps it and returns its
     * ret; {@link Long#MIN_VALUE} on timeout (the entry is then still held).
     */
    public static long reap(PageEngine engine, int g, int index, long timeoutMillis) {
        SyscallPage p = engine.pages();
        long e = p.entry(g, index);
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (p.status(e) != STATUS_DONE) {
            if (System.nanoTime() > deadline) return Long.MIN_VALUE;
            LockSupport.parkNanos(100_000L);
        }
        long ret = p.ret(e);
        p.free(e);
        engine.entries().release(g, index);
        return ret;
    }

    /** Frees a raw entry that will never complete. */
    public static void release(PageEngine engine, int g, int index) {
        engine.pages().free(engine.pages().entry(g, index));
        engine.entries().release(g, index);
    }
}
