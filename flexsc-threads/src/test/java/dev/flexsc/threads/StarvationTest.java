package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static dev.flexsc.OpenFlags.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A green thread that never parks must not starve the others (issue 14): one CPU-bound task
 * and 1,000 I/O tasks (each a FlexSC pwrite, then a 1 ms sleep, over and over). While the
 * CPU-bound task holds its carrier, every I/O task must complete a call: the ones queued on
 * that carrier, and the ones whose calls were in flight on its ring or about to be submitted
 * there, which only the monitor's compensating carrier can serve (it moves the calls not yet
 * submitted to its own ring and reaps the held ring: docs/threads.md, "A carrier held by one
 * thread"). The tests wait for that condition with a generous deadline, not for a duration.
 */
class StarvationTest {
    private static final int TASKS = 1000;
    /** How long a condition may take on a loaded machine before the test fails. */
    private static final long DEADLINE_SECONDS = 60;

    @TempDir
    Path dir;

    /**
     * Runs the I/O tasks on {@code pool}, then the CPU-bound task, and waits until every I/O
     * task completed a call while the CPU-bound task still ran; returns the milliseconds that
     * took.
     */
    private long everyTaskCompletesBesideAHog(ExecutorService pool, Syscalls s) throws Exception {
        int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, dir.resolve("io").toString(),
                O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        AtomicLongArray done = new AtomicLongArray(TASKS);
        AtomicBoolean stop = new AtomicBoolean(), hogStop = new AtomicBoolean(), hogRunning = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try {
            startIoTasks(pool, s, fd, done, stop, errors);
            waitFor("every I/O task completed a call", () -> countAbove(done, new long[TASKS]) == TASKS || !errors.isEmpty());
            pool.execute(() -> { // the hog: computes until told to stop, never parks
                hogRunning.set(true);
                long x = 0;
                while (!hogStop.get()) x += x * 31 + 7;
                if (x == 42) System.out.print("");
                hogRunning.set(false);
            });
            waitFor("the CPU-bound task started", hogRunning::get);
            long t0 = System.nanoTime();
            long[] atHog = snapshot(done);
            waitFor("every I/O task completed a call while the CPU-bound task held its carrier",
                    () -> countAbove(done, atHog) == TASKS || !errors.isEmpty());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(hogRunning.get(), "the CPU-bound task ended early");
            assertTrue(errors.isEmpty(), () -> errors.peek().toString());
            return millis;
        } finally {
            hogStop.set(true);
            stop.set(true);
            pool.shutdown();
            assertTrue(pool.awaitTermination(DEADLINE_SECONDS, TimeUnit.SECONDS), "the I/O tasks did not end");
            DirectSyscalls.syscalls().close(fd);
        }
    }

    /** The I/O tasks: a pwrite of 8 bytes, then a 1 ms sleep, until {@code stop}. */
    private static void startIoTasks(ExecutorService pool, Syscalls s, int fd, AtomicLongArray done, AtomicBoolean stop,
                                     ConcurrentLinkedQueue<Throwable> errors) {
        for (int i = 0; i < done.length(); i++) {
            int k = i;
            pool.execute(() -> {
                byte[] b = new byte[8];
                try {
                    while (!stop.get()) {
                        assertEquals(8, s.pwrite(fd, b, 0, 8, k * 8L));
                        done.incrementAndGet(k);
                        Thread.sleep(1);
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
        }
    }

    private static long[] snapshot(AtomicLongArray a) {
        long[] s = new long[a.length()];
        for (int i = 0; i < s.length; i++) s[i] = a.get(i);
        return s;
    }

    /** How many of {@code a}'s counters moved past {@code base}'s. */
    private static int countAbove(AtomicLongArray a, long[] base) {
        int n = 0;
        for (int i = 0; i < base.length; i++) if (a.get(i) > base[i]) n++;
        return n;
    }

    /** Waits until {@code condition} holds, up to {@link #DEADLINE_SECONDS}; fails naming {@code what}. */
    private static void waitFor(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    @Test
    @Timeout(240)
    void onOneCarrierACompensatingCarrierKeepsTheOthersRunning() throws Exception {
        // One carrier: while the CPU-bound task holds it, only its compensator runs the others.
        // (Before the hand-over of the held ring: no compensator started when nothing was queued,
        // and the tasks whose calls were on the held ring waited for the CPU-bound task to end.)
        TestSupport.assumeAvailable(Engine.IO_URING);
        FlexscConfig cfg = FlexscConfig.builder().engine(Engine.IO_URING).userCpus(0).policy(CallPolicy.EXCEPTIONLESS).build();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            long comp0 = rt.scheduler().compensations();
            long ms = everyTaskCompletesBesideAHog(java.util.concurrent.Executors.newThreadPerTaskExecutor(rt.threadFactory()),
                    rt.syscalls());
            System.out.printf("one carrier: every one of %d I/O tasks completed a call %d ms after the CPU-bound task"
                    + " took the carrier%n", TASKS, ms);
            assertTrue(rt.scheduler().compensations() > comp0, "no compensating carrier was started");
        }
    }

    @Test
    @Timeout(240)
    void theDefaultPoolKeepsItsIoTasksCompletingBesideACpuBoundOne() throws Exception {
        // The default FlexscExecutors pool: the default engine and scheduler (every CPU carries
        // green threads; this test's JVM posts every call: flexsc.policy=EXCEPTIONLESS).
        long ms = everyTaskCompletesBesideAHog(FlexscExecutors.newVirtualThreadPerTaskExecutor(), Flexsc.syscalls());
        System.out.printf("the default pool (%d carriers, %s): every one of %d I/O tasks completed a call %d ms after"
                        + " the CPU-bound task started%n", FlexscScheduler.defaultScheduler().carrierThreads().size(),
                Flexsc.defaultEngine().engine(), TASKS, ms);
    }

    @Test
    @Timeout(240)
    void aHeldCarrierThatComesBackWhileItsCompensatorReapsLosesNoCompletion() throws Exception {
        // The race window of the hand-over: a task takes the only carrier until a compensator
        // serves it, then parks, ten times, while 200 I/O tasks post writes of different lengths
        // (a completion given to the wrong call, or twice, shows as a wrong length or a call
        // that never ends). The carrier comes back to its ring while its compensator may be moving
        // calls off it or reaping it.
        TestSupport.assumeAvailable(Engine.IO_URING);
        int tasks = 200, rounds = 10;
        FlexscConfig cfg = FlexscConfig.builder().engine(Engine.IO_URING).userCpus(0).policy(CallPolicy.EXCEPTIONLESS).build();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            long comp0 = rt.scheduler().compensations();
            ExecutorService pool = java.util.concurrent.Executors.newThreadPerTaskExecutor(rt.threadFactory());
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, dir.resolve("io").toString(),
                    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            AtomicLongArray done = new AtomicLongArray(tasks);
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try {
                for (int i = 0; i < tasks; i++) {
                    int k = i, len = 1 + i % 8;
                    pool.execute(() -> {
                        byte[] b = new byte[len];
                        try {
                            while (!stop.get()) {
                                assertEquals(len, rt.syscalls().pwrite(fd, b, 0, len, k * 8L), "pwrite of " + len);
                                done.incrementAndGet(k);
                                if ((done.get(k) & 3) == 0) Thread.sleep(1);
                            }
                        } catch (Throwable t) {
                            errors.add(t);
                        }
                    });
                }
                java.util.concurrent.CountDownLatch hogDone = new java.util.concurrent.CountDownLatch(1);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2 * DEADLINE_SECONDS);
                pool.execute(() -> {
                    try {
                        // Each round holds the carrier until a compensator started for it, then one
                        // bound more (the compensator serves the ring meanwhile), then gives it back.
                        // Resumed on a compensator (which nobody compensates for), it parks again.
                        for (int r = 0; r < rounds && System.nanoTime() < deadline; r++) {
                            if (VirtualThreads.currentCarrier() instanceof CarrierThread k && k.compensates != null) {
                                r--;
                                Thread.sleep(2);
                                continue;
                            }
                            long c = rt.scheduler().compensations(), x = 0, end = Long.MAX_VALUE;
                            while (System.nanoTime() < end) {
                                x += x * 31 + 7;
                                boolean served = rt.scheduler().compensations() != c || System.nanoTime() > deadline;
                                if (end == Long.MAX_VALUE && served) end = System.nanoTime() + CarrierMonitor.HELD_BOUND_NANOS;
                            }
                            if (x == 42) System.out.print("");
                            Thread.sleep(2); // gives it back: the compensator retires
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    } finally {
                        hogDone.countDown();
                    }
                });
                assertTrue(hogDone.await(3 * DEADLINE_SECONDS, TimeUnit.SECONDS), "the holding task did not finish its rounds");
                long[] after = snapshot(done);
                waitFor("every I/O task completed a call after the last round",
                        () -> countAbove(done, after) == tasks || !errors.isEmpty());
                assertTrue(errors.isEmpty(), () -> errors.peek().toString());
                long comps = rt.scheduler().compensations() - comp0;
                assertTrue(comps >= rounds, "compensating carriers started: " + comps + " for " + rounds + " rounds");
            } finally {
                stop.set(true);
                pool.shutdown();
                assertTrue(pool.awaitTermination(DEADLINE_SECONDS, TimeUnit.SECONDS),
                        "the I/O tasks did not end: a completion was lost");
                DirectSyscalls.syscalls().close(fd);
            }
        }
    }
}
