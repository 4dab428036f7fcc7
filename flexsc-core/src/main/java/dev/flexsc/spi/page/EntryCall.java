package dev.flexsc.spi.page;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CallerWait;
import dev.flexsc.spi.GreenThreads;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.abi.SyscallPageDescriptor.STATUS_BUSY;
import static dev.flexsc.abi.SyscallPageDescriptor.STATUS_DONE;
import static dev.flexsc.abi.SyscallPageDescriptor.STATUS_SUBMITTED;

/**
 * One single call on one entry of a page engine: post, wait, reap. There is one per entry,
 * made with the engine: the thread that took the entry is its only user until it gives the
 * entry back, so a single call allocates nothing on a platform thread.
 *
 * <p>The wait ({@link CallerWait}): a platform thread spins, then sleeps on its group's
 * done_seq ({@link GroupWaiters}); a green thread spins while its carrier has nothing else to
 * run, then hands the call to the carrier and parks until the carrier fires it
 * ({@link Watched}). Either way the call is waited for until it is DONE or the executors
 * stopped; then {@link #finish} reaps it, or settles it as {@link PageEngine} says for calls
 * in flight at close.
 */
final class EntryCall implements CallerWait.Waitable {
    private final PageEngine engine;
    private final SyscallPage pages;
    final int group;
    final int index;
    final long e;
    /** The call of the entry's current owner (plain: only the owner reads it, while it holds the entry). */
    private SyscallTable.Call call;

    EntryCall(PageEngine engine, SyscallPage pages, int group, int index) {
        this.engine = engine;
        this.pages = pages;
        this.group = group;
        this.index = index;
        this.e = pages.entry(group, index);
    }

    /** Posts {@code call} on this entry, which the calling thread holds, and waits for its result. */
    long run(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        this.call = call;
        boolean woke = engine.submitter().post(group, index, e, call.nr(), a0, a1, a2, a3, a4, a5);
        CallCarrier carrier = GreenThreads.currentCarrier(); // null at once on platform threads
        boolean interrupted = false;
        try {
            if (!CallerWait.spin(this, engine.callerSpin(), carrier)) {
                if (carrier != null) {
                    Watched w = new Watched(this, woke);
                    carrier.watch(w);
                    engine.callerParked();
                    interrupted = CallerWait.await(w, CallerWait.UNTIL_WOKEN);
                } else {
                    interrupted = CallerWait.await(this, CallerWait.SLEEP_SLICE_NANOS);
                }
            }
            return finish(call, interrupted);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * Posts {@code call} on this entry of the caller's carrier group ({@code local}), which
     * the calling green thread holds, and parks until its carrier, which runs the group's
     * calls itself, fires it. No spin: nobody runs the call before the carrier's next poll.
     */
    long runLocal(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5, GroupContext local)
            throws IOException {
        this.call = call;
        engine.submitter().postLocal(group, index, e, call.nr(), a0, a1, a2, a3, a4, a5);
        Watched w = new Watched(this, false);
        local.add(w);
        engine.callerParked();
        boolean interrupted = false;
        try {
            interrupted = CallerWait.await(w, CallerWait.UNTIL_WOKEN);
            return finish(call, interrupted);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * The call's result once its wait ended: reaped if DONE; else the executors stopped (see
     * {@link #afterStop}). {@code call} is the caller's own: after the entry is given back,
     * another thread may own this object.
     */
    private long finish(SyscallTable.Call call, boolean interrupted) throws IOException {
        if (!pages.isStopped()) { // volatile: read before the access that could race with the release
            try {
                if (pages.status(e) == STATUS_DONE) { // acquire: ret is visible
                    long ret = pages.ret(e);
                    pages.free(e);
                    engine.entries().release(group, index);
                    return engine.result(call, ret, interrupted);
                }
            } catch (IllegalStateException x) {
                pages.checkReleased(x); // close released the pages: the view after stop has the entry
            }
        }
        return afterStop(call, interrupted);
    }

    /**
     * The executors stopped with this entry not seen DONE. An entry still SUBMITTED is taken
     * back (it never ran) and fails with EngineClosedException; one an executor claimed may
     * still be running in the kernel (a call that nothing cancels, on FUSE or NFS): the caller
     * keeps waiting for it on the view that close leaves mapped, and gets its result when it
     * ends. The memory the call was given is never handed back while the kernel may use it.
     */
    private long afterStop(SyscallTable.Call call, boolean interruptedBefore) throws IOException {
        SyscallPage stuck = pages.afterStop();
        if (stuck.takeBack(e)) {
            engine.entries().release(group, index);
            throw engine.closed(call, "the engine was closed before the call ran");
        }
        boolean interrupted = interruptedBefore;
        try {
            interrupted |= CallerWait.awaitStuck(new CallerWait.Waitable() {
                @Override
                public boolean isDone() {
                    return stuck.status(e) == STATUS_DONE; // acquire: ret is visible
                }

                @Override
                public boolean mayBlock() {
                    return call.mayBlock();
                }

                @Override
                public void cancel() {
                    engine.control().cancel(group, index); // best effort
                }

                @Override
                public void sleep(long timeoutNanos) {
                    LockSupport.parkNanos(this, timeoutNanos);
                }
            });
            long ret = stuck.ret(e);
            stuck.free(e);
            engine.entries().release(group, index);
            return engine.result(call, ret, interrupted);
        } finally {
            // The caller restores what it cleared itself; this restores what it cleared here.
            if (interrupted && !interruptedBefore) Thread.currentThread().interrupt();
        }
    }

    // ---- the platform wait (CallerWait.Waitable) ----

    /** DONE, or the executors stopped (then {@link #finish} settles the call). */
    @Override
    public boolean isDone() {
        if (pages.isStopped()) return true; // volatile: the pages may be released next
        try {
            return pages.status(e) == STATUS_DONE; // acquire: pairs with the executor's release of DONE
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
            return true;
        }
    }

    @Override
    public boolean mayBlock() {
        return call.mayBlock();
    }

    /** Cancels the call if an executor is running it (a call still SUBMITTED is cancelled on a later look). */
    @Override
    public void cancel() {
        if (pages.isStopped()) return;
        try {
            if (pages.status(e) == STATUS_BUSY) engine.control().cancel(group, index); // acquire: a snapshot suffices
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
        }
    }

    @Override
    public void sleep(long timeoutNanos) {
        if (pages.isStopped()) return;
        try {
            if (pages.status(e) == STATUS_SUBMITTED) engine.submitter().rewake(group); // a lost or failed wake-up
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
            return;
        }
        engine.waiters().sleep(group, timeoutNanos, this);
    }

    // ---- the green thread's: its carrier watches the entry ----

    /** True once an executor claimed the entry (it is no longer SUBMITTED), or the executors stopped. */
    private boolean isStarted() {
        if (pages.isStopped()) return true;
        try {
            return pages.status(e) != STATUS_SUBMITTED; // acquire: pairs with the executor's claiming CAS (a hint)
        } catch (IllegalStateException x) {
            pages.checkReleased(x);
            return true;
        }
    }

    /** A green thread's single call, watched by its carrier. */
    private static final class Watched extends GroupPendingCall {
        private final EntryCall entry;
        private final boolean woke;

        Watched(EntryCall entry, boolean woke) {
            super(entry.engine, entry.group, Thread.currentThread());
            this.entry = entry;
            this.woke = woke;
        }

        @Override
        public boolean isSettled() {
            return entry.isDone();
        }

        @Override
        public boolean isStarted() {
            return entry.isStarted();
        }

        @Override
        public boolean wokeExecutor() {
            return woke;
        }

        @Override
        public boolean mayBlock() {
            return entry.mayBlock();
        }

        @Override
        public void cancel() {
            entry.cancel();
        }
    }
}
