package dev.flexsc.spi.page;

import dev.flexsc.spi.CallerWait;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

/**
 * The completion side of each group: callers and carriers that sleep until its executors
 * publish completions, on the group's {@code done_seq} word, and the wake-ups that end those
 * sleeps. The protocol (docs/abi.md): a sleeper reads done_seq (acquire), registers in
 * done_waiters (a full fence), rechecks its work, then sleeps only while done_seq still
 * holds the value it read; an executor stores DONE, adds to done_seq (a full fence), then
 * wakes the group if done_waiters is not zero. One of the two sees the other.
 */
final class GroupWaiters {
    private final PageEngine engine;
    private final SyscallPage pages;
    private final ExecutorControl control;
    /** One identity per group: carriers sleeping on equal keys share one done_seq. */
    private final Object[] sleepKeys;

    GroupWaiters(PageEngine engine, SyscallPage pages, ExecutorControl control, int groups) {
        this.engine = engine;
        this.pages = pages;
        this.control = control;
        this.sleepKeys = new Object[groups];
        for (int g = 0; g < groups; g++) sleepKeys[g] = new Object();
    }

    /** What a sleeper of group g waits on ({@link dev.flexsc.spi.PendingCall#sleepKey()}). */
    Object sleepKey(int g) {
        return sleepKeys[g];
    }

    /** Group g's done_seq, read (acquire) before a sleeper rechecks its work; 0 once released. */
    int doneSeq(int g) {
        try {
            return pages.doneSeq(g);
        } catch (IllegalStateException e) {
            pages.checkReleased(e);
            return 0;
        }
    }

    /**
     * A caller with a call posted sleeps as a done-waiter of group g until a completion, the
     * timeout, or the executors stop; {@code work} is rechecked after the registration.
     */
    void sleep(int g, long timeoutNanos, CallerWait.Waitable work) {
        if (pages.isStopped()) return; // volatile: never sleep on pages being released
        try {
            int seq = pages.doneSeq(g);
            pages.addDoneWaiter(g, 1);
            try {
                if (!work.isDone()) {
                    engine.callerParked();
                    await(g, seq, timeoutNanos);
                }
            } finally {
                pages.addDoneWaiter(g, -1);
            }
        } catch (IllegalStateException e) {
            pages.checkReleased(e); // released meanwhile: the caller's next look sees the stop
        }
    }

    /**
     * A carrier with nothing to run sleeps on group g until done_seq moves from
     * {@code seenSeq} (read before it rechecked its calls), the timeout, or the stop.
     */
    void sleepOn(int g, int seenSeq, long timeoutNanos) {
        if (pages.isStopped()) return; // volatile: never sleep on pages being released
        try {
            pages.addDoneWaiter(g, 1);
            try {
                await(g, seenSeq, timeoutNanos);
            } finally {
                pages.addDoneWaiter(g, -1);
            }
        } catch (IllegalStateException e) {
            pages.checkReleased(e); // the carrier rescans and finds its calls settled
        }
    }

    /**
     * The executors' wait for a sleeper that has a call in flight: a failure is counted and
     * slept off (the sleeper looks again), never thrown.
     */
    private void await(int g, int seenSeq, long timeoutNanos) {
        try {
            control.awaitCompletions(g, seenSeq, timeoutNanos);
        } catch (IllegalStateException e) {
            pages.checkReleased(e);
        } catch (IOException | RuntimeException failed) {
            engine.machineryFailedAfterPost();
            LockSupport.parkNanos(this, Math.min(timeoutNanos, CallerWait.RECANCEL_NANOS));
        }
    }

    /** Wakes the sleepers of group g (a carrier got new work): bumps done_seq, then wakes if any sleeps. */
    void wake(int g) {
        try {
            pages.bumpDoneSeq(g); // full fence: the load of done_waiters below cannot move before it
            if (!control.countsDoneWaiters() || pages.doneWaiters(g) != 0) control.wakeCallers(g);
        } catch (IllegalStateException e) {
            pages.checkReleased(e); // released: nobody sleeps on this group any more
        } catch (IOException failed) {
            // the sleepers' timeouts end their sleep
        }
    }

    /**
     * Ends the executors' wait of every sleeper of group g at once, whatever done_waiters
     * says (a carrier asleep in its own group: {@link GroupContext#wake()}); a failure is
     * left to the sleeper's timeout.
     */
    void wakeGroup(int g) {
        try {
            control.wakeCallers(g);
        } catch (IllegalStateException e) {
            pages.checkReleased(e);
        } catch (IOException failed) {
            engine.machineryFailedAfterPost(); // counted; the sleep's timeout ends it
        }
    }

    /** Close, once the executors stopped: wakes every sleeper of every group so it sees the stop. */
    void wakeAllAfterStop(int groups) {
        for (int g = 0; g < groups; g++) {
            pages.bumpDoneSeq(g);
            try {
                control.wakeCallers(g);
            } catch (IOException ignored) {
                // sleepers also wake on their own timeout
            }
        }
    }
}
