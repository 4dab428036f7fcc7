package dev.flexsc.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The measurement window counts only calls that complete inside it. Regression for the
 * "256 platform threads, write 64 B via SYSCALL_THREADS: 11.8k calls/s and 0 syscall CPU"
 * row: the old harness snapshotted each worker's count when the worker itself noticed the
 * window start, so a worker that sat in one call through the whole window had its warm-up
 * calls credited to the window: a rate with no CPU behind it.
 */
class HarnessWindowTest {
    private static Thread platform(Runnable r, int t) {
        return Thread.ofPlatform().daemon().name("window-test-" + t).unstarted(r);
    }

    private static void await(CountDownLatch l) throws java.io.InterruptedIOException {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
        }
    }

    @Test
    void workersStuckThroughTheWindowCountNothingAndShowAsAStall() throws Exception {
        int threads = 4;
        AtomicBoolean flowing = new AtomicBoolean(true);
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong warmCalls = new AtomicLong();
        AtomicInteger clockReads = new AtomicInteger();
        // The syscall-CPU clock is read once at each end of the window: at the start, stop the
        // calls (each worker's next call blocks, like callers whose completions do not come);
        // at the end, let them go (after the window's last count was taken).
        Harness.CpuClock clock = () -> {
            if (clockReads.incrementAndGet() == 1) flowing.set(false);
            else release.countDown();
            return 0;
        };
        Harness.Window w = Harness.runWindow(threads, t -> () -> {
            if (!flowing.get()) await(release);
            else warmCalls.incrementAndGet();
            return 0;
        }, HarnessWindowTest::platform, t -> -1, 0.2, 0.3, clock, () -> null);
        assertNull(w.failure());
        assertEquals(0, w.stuck());
        assertTrue(warmCalls.get() > 1000, "the warm-up made too few calls to tell: " + warmCalls);
        // A worker past its check when the window opened may finish that one call inside it.
        assertTrue(w.calls() <= threads, "warm-up calls credited to the window: " + w.calls() + " of " + warmCalls);
        assertTrue(w.maxStallNanos() >= 200_000_000L, "the stall was not reported: " + w.maxStallNanos() + " ns");
    }

    @Test
    void aWorkerThatNeverLeavesItsCallIsReportedStuck() throws Exception {
        // Only with a short bound: the real one is 30 s. Workers block forever after the warm-up.
        AtomicBoolean flowing = new AtomicBoolean(true);
        CountDownLatch never = new CountDownLatch(1);
        Harness.Window w;
        try {
            w = Harness.runWindow(2, t -> () -> {
                if (!flowing.get()) await(never);
                return 0;
            }, HarnessWindowTest::platform, t -> -1, 0.05, 0.05, () -> {
                flowing.set(false);
                return 0;
            }, () -> null, 200, null);
        } finally {
            never.countDown();
        }
        assertEquals(2, w.stuck());
    }
}
