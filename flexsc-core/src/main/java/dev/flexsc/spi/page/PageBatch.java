package dev.flexsc.spi.page;

import dev.flexsc.EngineClosedException;
import dev.flexsc.spi.CallBatch;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CallerWait;
import dev.flexsc.spi.GreenThreads;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.Errno.EINTR;
import static dev.flexsc.abi.SyscallPageDescriptor.ENTRY_SIZE;
import static dev.flexsc.abi.SyscallPageDescriptor.STATUS_BUSY;
import static dev.flexsc.abi.SyscallPageDescriptor.STATUS_DONE;

/**
 * One batch on one group of a page engine: the entries it holds and which batch position
 * each runs, posted in parts, waited for, reaped. Kept with its {@link CallBatch} between
 * submits ({@link CallBatch#engineState()}), so a steady batch loop allocates none of it.
 *
 * <p>Per part: the entries are taken with one CAS per free-bitmap word, each is written and
 * released SUBMITTED, then the {@link Submitter} exposes them all with one volatile OR per
 * submit-bitmap word and checks NEED_WAKEUP once. A batch larger than the group's free
 * entries is posted in parts: after each wait the completed entries are reaped and freed,
 * and as many more are posted as are free. The batch never holds an entry it has not
 * posted, so any number of batches (and single calls) share a group without deadlock.
 *
 * <p>A green thread's batch whose calls do not block goes into its carrier's own group
 * ({@link #runLocal}, the carrier-local mode) when it fits there at once: posted in one part,
 * waking nobody, run by the carrier in its next kernel entry.
 */
final class PageBatch implements CallerWait.Waitable {
    private final PageEngine engine;
    private final SyscallPage pages;
    /** Per held entry, in posting order: its batch position and its entry index. */
    final int[] pos;
    final int[] index;
    /** Entries held now. */
    int count;
    /** Scratch: the entries one part took, or the held entries seen DONE. */
    private final int[] taken;
    /** Scratch: one bit per entry, one word per 64 (posted, then reaped); all zero between uses. */
    private final long[] mask;
    private CallBatch batch;
    private int group;
    /** The carrier's group context the batch runs in ({@link #runLocal}), or null. */
    private GroupContext local;
    /** Offset of the group's entries. */
    private long entriesBase;
    /** Wait for every held entry (true) or for any (false). */
    private boolean all;
    /** First held entry not yet seen DONE in the current wait (the waiter's, or its carrier's until it fires). */
    private int cursor;
    /** The submitting thread was interrupted (its EINTR results are its own, not close()'s). */
    private boolean interrupted;

    PageBatch(PageEngine engine, SyscallPage pages, int capacity, int words) {
        this.engine = engine;
        this.pages = pages;
        this.pos = new int[capacity];
        this.index = new int[capacity];
        this.taken = new int[capacity];
        this.mask = new long[words];
    }

    /**
     * True if this state can run another batch of {@code capacity} entries on {@code e}. A
     * state a carrier watched is reused too: {@link #await} returns only once the carrier
     * fired its {@link Watched}, after which the carrier reads nothing of this state (unpark
     * and its statistics read the Watched's own fields), and a reference kept after that
     * (ADAPTIVE's sample pair) reads {@link Watched#isFired()} first and stops there. Each
     * wait makes a new Watched, so none is ever fired twice. The engine keeps a state only
     * after a normal return ({@link PageEngine#postBatch}), never after a wait that threw.
     */
    boolean fits(PageEngine e, int capacity) {
        return engine == e && pos.length >= capacity && count == 0;
    }

    /** Runs every call of {@code b} on the calling thread's group {@code g}; returns once each is settled. */
    void run(CallBatch b, int g) throws IOException {
        runIn(b, g, null, 0);
    }

    /**
     * Runs every call of {@code b} in the calling green thread's carrier group
     * ({@code local}), if none of them may block (run by the carrier, such a call would stall
     * it) and the group has an entry free for each now: posted in one part (a second part
     * would be posted after a park, from whichever carrier the thread resumes on), waking
     * nobody; the carrier runs them in its next kernel entry and fires the batch. Returns
     * once each is settled; false, with nothing posted, if the batch does not qualify.
     */
    boolean runLocal(CallBatch b, GroupContext local) throws IOException {
        int n = b.size();
        if (n > pos.length) return false;
        for (int i = 0; i < n; i++) {
            if (b.call(i).mayBlock()) return false;
        }
        int g = local.group();
        int k = engine.entries().tryAllocateMany(g, n, taken, 0);
        if (k < n) {
            for (int j = 0; j < k; j++) engine.entries().release(g, taken[j]);
            return false;
        }
        runIn(b, g, local, n);
        return true;
    }

    /** Runs {@code b} on group {@code g}; the first {@code preTaken} entries in {@link #taken} are held already. */
    private void runIn(CallBatch b, int g, GroupContext local, int preTaken) throws IOException {
        this.batch = b;
        this.group = g;
        this.local = local;
        this.entriesBase = pages.entries(g);
        int n = b.size();
        int next = 0;
        interrupted = false;
        try {
            if (preTaken > 0) next = postTaken(0, preTaken) < 0 ? failFrom(0) : preTaken;
            while (true) {
                if (next < n) next = post(next);
                if (count == 0) {
                    if (next >= n) return;
                    continue;
                }
                // Wait for all of ours when nothing is left to post, else for any: freed
                // entries let the rest go out (a blocked call never holds the batch back).
                all = next >= n;
                interrupted |= await();
                reap();
                if (count == 0 && next >= n) return;
                if (pages.isStopped() && count > 0) {
                    // Calls still running after close (stuck in the kernel): wait for one of them.
                    interrupted |= CallerWait.awaitStuck(new StuckWait());
                }
            }
        } finally {
            batch = null;
            this.local = null;
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** Posts from position {@code next} as many calls as entries are free (waits for one if none is); returns the next position. */
    private int post(int next) {
        int posted = postPart(next, -1);
        if (posted < 0) return failFrom(next); // the engine closed: the rest never runs
        if (posted > 0 || count > 0) return next + posted;
        // Every entry of the group is held by other callers: wait for one (allocate parks
        // until an entry is released), then post with it.
        int e = engine.entries().allocate(group);
        if (e < 0) return failFrom(next);
        int got = postPart(next, e);
        return got < 0 ? failFrom(next) : next + got;
    }

    /** Fails every position from {@code from} on that is not settled yet; returns the batch size. */
    private int failFrom(int from) {
        CallBatch b = batch;
        for (int i = from; i < b.size(); i++) {
            if (!b.isSettled(i)) b.fail(i, engine.closed(b.call(i), "the engine is closed"));
        }
        return b.size();
    }

    /**
     * Posts up to the free entries (and the room left here) of the group, starting at batch
     * position {@code from}; {@code preTaken} is an entry already allocated, or -1. Returns
     * the number posted (0 if no entry was free), or -1 if the engine is closed.
     */
    private int postPart(int from, int preTaken) {
        CallBatch b = batch;
        int g = group;
        int want = Math.min(b.size() - from, pos.length - count);
        int[] t = taken;
        int k = 0;
        if (preTaken >= 0) t[k++] = preTaken;
        if (want > k) k += engine.entries().tryAllocateMany(g, want - k, t, k);
        if (k == 0) return 0;
        return postTaken(from, k);
    }

    /**
     * Posts calls from batch position {@code from} on the {@code k} entries in {@link #taken};
     * returns {@code k}, or -1 (the entries released) if the engine is closed.
     */
    private int postTaken(int from, int k) {
        CallBatch b = batch;
        int g = group;
        int[] t = taken;
        // Volatile read after the volatile CAS that took the entries: close() marks the engine
        // closed, then scans the free bitmaps, so either it sees our entries or we see it closed.
        if (engine.closing()) {
            for (int j = 0; j < k; j++) engine.entries().release(g, t[j]);
            return -1;
        }
        long[] m = mask;
        int[] ps = pos, held = index;
        int c = count;
        for (int j = 0; j < k; j++) {
            int i = t[j];
            m[i >>> 6] |= 1L << i;
            ps[c] = from + j;
            held[c] = i;
            c++;
        }
        count = c;
        pages.post(entriesBase, t, k, b, from);
        if (local == null) {
            engine.submitter().expose(g, m, k);
        } else {
            engine.submitter().exposeLocal(g, m, k); // the carrier runs them: nobody to wake
            engine.carrierPosted(k);
        }
        return k;
    }

    // ---- waiting ----

    /** Waits once for the batch's condition; returns true if the thread was interrupted. */
    private boolean await() {
        cursor = 0;
        if (local != null) {
            // No spin: nobody runs the calls before the carrier's next poll.
            Watched w = new Watched(this);
            local.add(w);
            engine.callerParked();
            return CallerWait.await(w, CallerWait.UNTIL_WOKEN);
        }
        CallCarrier carrier = GreenThreads.currentCarrier();
        if (CallerWait.spin(this, engine.callerSpin(), carrier)) return false;
        if (carrier == null) return CallerWait.await(this, CallerWait.SLEEP_SLICE_NANOS);
        Watched w = new Watched(this);
        carrier.watch(w);
        engine.callerParked();
        return CallerWait.await(w, CallerWait.UNTIL_WOKEN);
    }

    /** The wait's condition (every held entry DONE, or any), or the executors stopped. */
    @Override
    public boolean isDone() {
        if (pages.isStopped()) return true; // volatile: the pages may be released next
        try {
            return all ? allDone() : anyDone();
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
            return true; // the owner settles what is left after the stop
        }
    }

    private boolean allDone() {
        // Entries before the cursor were seen DONE already; they stay DONE until their owner
        // (us) frees them.
        int n = count;
        int c = pages.firstNotDone(entriesBase, index, cursor, n);
        cursor = c;
        return c == n;
    }

    private boolean anyDone() {
        return pages.anyDone(entriesBase, index, count);
    }

    @Override
    public boolean mayBlock() {
        for (int j = 0; j < count; j++) {
            if (batch.call(pos[j]).mayBlock()) return true;
        }
        return false;
    }

    /** Cancels the batch's running calls that may block without bound (they return -EINTR). */
    @Override
    public void cancel() {
        try {
            SyscallPage p = pages.isStopped() ? pages.afterStop() : pages; // volatile read
            for (int j = 0; j < count; j++) {
                // Acquire: cancel only a call an executor is running.
                if (batch.call(pos[j]).mayBlock() && p.status(entriesBase + (long) index[j] * ENTRY_SIZE) == STATUS_BUSY) {
                    engine.control().cancel(group, index[j]);
                }
            }
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
        }
    }

    @Override
    public void sleep(long timeoutNanos) {
        engine.submitter().rewake(group); // a wake-up that failed while posting
        engine.waiters().sleep(group, timeoutNanos, this);
    }

    /** The batch's calls still running after the stop: done once one of them is. */
    private final class StuckWait implements CallerWait.Waitable {
        @Override
        public boolean isDone() {
            SyscallPage s = pages.afterStop();
            for (int j = 0; j < count; j++) {
                if (s.status(entriesBase + (long) index[j] * ENTRY_SIZE) == STATUS_DONE) return true; // acquire
            }
            return false;
        }

        @Override
        public boolean mayBlock() {
            return PageBatch.this.mayBlock();
        }

        @Override
        public void cancel() {
            PageBatch.this.cancel();
        }

        @Override
        public void sleep(long timeoutNanos) {
            LockSupport.parkNanos(this, timeoutNanos);
        }
    }

    // ---- reaping ----

    /**
     * Reaps the held entries that are DONE (results into the batch, entries freed with one
     * OR per bitmap word) and keeps the others in flight; once the executors are stopped,
     * settles them as {@link #reapAfterStop} says.
     */
    private void reap() {
        if (pages.isStopped()) { // volatile
            reapAfterStop();
            return;
        }
        CallBatch b = batch;
        SyscallPage p = pages;
        long base = entriesBase;
        long[] free = mask;
        int[] ps = pos, held = index, done = taken;
        int n = count, d = 0;
        // The wait for all of them saw every entry DONE (allDone: acquire loads, on this thread
        // or on the carrier that watched it, whose fire() release pairs with our acquire of
        // isFired), so every ret stored before DONE is visible here: no need to look again.
        boolean allSeen = all && cursor == n;
        try {
            // Three passes, so no barrier sits among the plain accesses of the second: which
            // entries are DONE (opaque loads and one acquire fence), their results (plain
            // loads, ordered by it), then FREE (release stores).
            if (allSeen) {
                d = n;
            } else {
                d = p.collectDone(base, held, n, done);
                if (d == 0) return;
            }
            for (int k = 0; k < d; k++) {
                int j = allSeen ? k : done[k], i = held[j];
                settle(b, ps[j], p.ret(base + (long) i * ENTRY_SIZE));
                free[i >>> 6] |= 1L << i;
            }
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
            reapAfterStop(); // close released the pages: the view after stop has the entries
            return;
        }
        p.freeAll(base, held, allSeen ? null : done, d);
        keepUnsettled(done, d);
        engine.entries().release(group, free);
    }

    /** Drops the {@code d} reaped entries ({@code done}, ascending) from the held ones, keeping the order of the rest. */
    private void keepUnsettled(int[] done, int d) {
        int n = count, keep = 0;
        if (d < n) {
            for (int j = 0, k = 0; j < n; j++) {
                if (k < d && done[k] == j) {
                    k++;
                } else {
                    pos[keep] = pos[j];
                    index[keep] = index[j];
                    keep++;
                }
            }
        }
        count = keep;
    }

    /** A batch position's result, as {@link PageEngine#result} has it for single calls. */
    private void settle(CallBatch b, int p, long ret) {
        if (ret == -EINTR && engine.closedByClose(b.call(p), ret, interrupted)) {
            b.fail(p, new EngineClosedException(b.call(p).name() + PageEngine.BLOCKED_AT_CLOSE));
        } else {
            b.complete(p, ret);
        }
    }

    /**
     * {@link #reap} once the executors are stopped: DONE entries are reaped, an entry still
     * SUBMITTED is taken back (CAS) and fails with EngineClosedException, one an executor
     * claimed stays in flight (a call stuck in the kernel: the batch waits for it, see
     * {@link #run}). Reads the entries through the view kept after stop.
     */
    private void reapAfterStop() {
        CallBatch b = batch;
        SyscallPage s = pages.afterStop();
        long base = entriesBase;
        long[] free = mask;
        int keep = 0;
        for (int j = 0, n = count; j < n; j++) {
            int i = index[j], p = pos[j];
            long e = base + (long) i * ENTRY_SIZE;
            if (s.status(e) != STATUS_DONE) { // acquire: ret is visible if DONE
                if (s.takeBack(e)) {
                    free[i >>> 6] |= 1L << i;
                    b.fail(p, engine.closed(b.call(p), "the engine was closed before the call ran"));
                    continue;
                }
                if (s.status(e) != STATUS_DONE) {
                    pos[keep] = p; // claimed and still running: kept in flight, in order
                    index[keep] = i;
                    keep++;
                    continue;
                }
            }
            settle(b, p, s.ret(e)); // plain: ordered after the acquire load of DONE
            s.free(e);
            free[i >>> 6] |= 1L << i;
        }
        count = keep;
        engine.entries().release(group, free);
    }

    /** A green thread's batch, watched by its carrier: settled when the wait's condition holds. */
    private static final class Watched extends GroupPendingCall {
        private final PageBatch batch;

        Watched(PageBatch batch) {
            super(batch.engine, batch.group, Thread.currentThread());
            this.batch = batch;
        }

        @Override
        public boolean isSettled() {
            // Carrier only, while the owner is parked: the cursor is the carrier's until fire().
            return batch.isDone();
        }

        @Override
        public boolean mayBlock() {
            return batch.mayBlock();
        }

        @Override
        public void cancel() {
            batch.cancel(); // a snapshot suffices: a call still SUBMITTED is cancelled on a later look
        }
    }
}
