package dev.flexsc.threads;

import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The carrier monitor costs an idle process no wake-ups (issue 14): while every carrier
 * sleeps it parks without a timeout, and the first carrier to run a continuation after its
 * sleep unparks it, so a long runner started after an idle spell is still found.
 */
class MonitorIdleTest {
    /** How long the idle pool is watched: a monitor that still looked every CHECK_NANOS looks 30 times. */
    private static final long IDLE_WINDOW_MILLIS = 30 * TimeUnit.NANOSECONDS.toMillis(CarrierMonitor.CHECK_NANOS);

    @Test
    @Timeout(60)
    void idlePoolWakesTheMonitorNoMore() throws Exception {
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config())) {
            runOnce(rt); // the carriers ran something (and opened their contexts) before they idle
            CarrierMonitor m = rt.scheduler().monitor();
            await(m::isParkedIdle, "the monitor parks once every carrier sleeps");
            long before = m.looks();
            Thread.sleep(IDLE_WINDOW_MILLIS); // a window in which nothing runs: no condition to wait for
            long looked = m.looks() - before;
            // Zero with the idle park (a carrier's own sleep timeout, without a continuation to
            // run, does not unpark it); about 30 without it, and at least several on any machine.
            assertEquals(0, looked, "monitor looks while the pool was idle for " + IDLE_WINDOW_MILLIS + " ms");
            assertTrue(m.isParkedIdle());
            runOnce(rt);
            await(() -> m.looks() > before, "work after an idle spell wakes the monitor");
        }
    }

    @Test
    @Timeout(60)
    void longRunnerAfterIdleSpellStillGetsACompensator() throws Exception {
        // One carrier: a CPU-bound thread holds it with another thread queued behind it.
        FlexscConfig cfg = TestSupport.config().toBuilder().userCpus(0).build();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            runOnce(rt);
            CarrierMonitor m = rt.scheduler().monitor();
            await(m::isParkedIdle, "the monitor parks once the carrier sleeps");
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch queuedRan = new CountDownLatch(1);
            Thread hog = rt.threadFactory().newThread(() -> {
                long x = 0;
                while (!stop.get()) x += x * 31 + 7;
                if (x == 42) System.out.print("");
            });
            hog.start();
            try {
                // Queued behind the hog on the only carrier: only a compensator can run it.
                rt.threadFactory().newThread(queuedRan::countDown).start();
                assertTrue(queuedRan.await(30, TimeUnit.SECONDS), "the thread queued behind the long runner ran");
                assertTrue(rt.scheduler().compensations() > 0, "a compensating carrier took the queued thread");
            } finally {
                stop.set(true);
                hog.join();
            }
        }
    }

    /** Runs one green thread that makes one FlexSC call, to its end. */
    private static void runOnce(FlexscRuntime rt) throws Exception {
        Syscalls s = rt.syscalls();
        long[] pid = new long[1];
        Thread t = rt.threadFactory().newThread(() -> {
            try {
                pid[0] = s.getpid();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        t.start();
        t.join();
        assertEquals(ProcessHandle.current().pid(), pid[0]);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail(what + ": not within 30 s");
            Thread.sleep(5);
        }
    }
}
