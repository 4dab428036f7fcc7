package dev.flexsc.threads;

import dev.flexsc.EngineClosedException;
import dev.flexsc.ErrnoException;
import dev.flexsc.SyscallBatch;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import static dev.flexsc.nativeimpl.TestSupport.assertInterruptCancelsBlockingBatchRead;
import static dev.flexsc.nativeimpl.TestSupport.batchRounds;
import static dev.flexsc.nativeimpl.TestSupport.patterned;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;
import dev.flexsc.nativeimpl.TestSupport;

/** SyscallBatch from green threads of the FlexSC scheduler: one park per batch, results never crossed. */
class BatchGreenTest {

    /** Runs {@code body(id)} on {@code threads} green threads of {@code rt}; waits for all, rethrows the first failure. */
    private static void onGreenThreads(FlexscRuntime rt, int threads, GreenBody body) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int id = t;
            rt.threadFactory().newThread(() -> {
                try {
                    body.run(id);
                } catch (Throwable x) {
                    errors.add(x);
                } finally {
                    done.countDown();
                }
            }).start();
        }
        done.await();
        if (!errors.isEmpty()) throw new AssertionError(errors.peek());
    }

    @FunctionalInterface
    private interface GreenBody {
        void run(int id) throws Exception;
    }

    /** 64 green threads, each submitting 64-call batches: unique (length, offset) per call, checked byte by byte. */
    @Test
    @Timeout(120)
    void batchesFromManyGreenThreadsGetTheirOwnResults(@TempDir Path dir) throws Exception {
        int threads = 64, rounds = 40, per = 64;
        // One carrier: its threads post one at a time, so a batch finds the free entries it
        // needs (two carriers posting at once split batches into parts, one wait each).
        FlexscConfig one = TestSupport.config().toBuilder().userCpus(FlexscConfig.defaults().userCpus()[0]).build();
        try (FlexscRuntime rt = FlexscRuntime.open(one)) {
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            long parks0 = rt.engine().stats().callerParks();
            try {
                onGreenThreads(rt, threads, id -> {
                    assertTrue(rt.scheduler().isCarrierOfCurrentThread());
                    batchRounds(rt.syscalls(), fd, id, rounds, per);
                });
            } finally {
                DirectSyscalls.syscalls().close(fd);
            }
            long parks = rt.engine().stats().callerParks() - parks0;
            long batches = (long) threads * rounds;
            System.out.println(batches + " green batches of " + per + ": " + parks + " parks");
            // One park per batch at most (none when the completion arrives within the spin);
            // one per call would be 64 times more.
            assertTrue(parks <= batches, "parks " + parks + " for " + batches + " batches");
        }
    }

    /**
     * A steady loop of 64-call batches with reused handles from green threads that park on
     * them (four threads on one carrier: each batch finds the others runnable, so it parks
     * and the carrier watches it) allocates nothing per call on a page engine: the batch's
     * engine state is reused after the carrier watched it. What remains is one 40-byte
     * watch per parked batch (0.63 bytes a call at 64, so the bound is 2); a new state per parked batch, as
     * before, is about 14 bytes a call. Counted over the whole JVM (allocation on a carrier
     * is its mounted threads'), after 100,000 calls of warm-up, over at least 200,000 calls.
     */
    @Test
    @Timeout(120)
    void aSteadyBatchLoopFromParkedGreenThreadsAllocatesNothingPerCall() throws Exception {
        com.sun.management.ThreadMXBean tm =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        FlexscConfig one = TestSupport.config(dev.flexsc.Engine.SYSCALL_THREADS).toBuilder()
                .userCpus(FlexscConfig.defaults().userCpus()[0]).build();
        int threads = 4, per = 64;
        java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        try (FlexscRuntime rt = FlexscRuntime.open(one)) {
            long parks0 = rt.engine().stats().callerParks();
            Thread main = Thread.currentThread();
            java.util.concurrent.atomic.AtomicReference<double[]> measured = new java.util.concurrent.atomic.AtomicReference<>();
            Thread measurer = Thread.ofPlatform().start(() -> {
                try {
                    while (calls.get() < 100_000) Thread.sleep(5);
                    // The count is the whole JVM's, so other threads' allocation (the test
                    // runner, the engine's own threads) lands in a window now and then; the
                    // least of three windows is the batch loop's. An allocation per call
                    // shows in every window.
                    for (int w = 0; w < 3; w++) {
                        long c0 = calls.get(), a0 = tm.getTotalThreadAllocatedBytes();
                        while (calls.get() < c0 + 200_000) Thread.sleep(5);
                        long c1 = calls.get(), a1 = tm.getTotalThreadAllocatedBytes();
                        double perCall = (double) (a1 - a0) / (c1 - c0);
                        double[] best = measured.get();
                        if (best == null || perCall < best[0]) measured.set(new double[] {perCall, c1 - c0});
                    }
                } catch (InterruptedException e) {
                    main.interrupt();
                } finally {
                    stop.set(true);
                }
            });
            onGreenThreads(rt, threads, id -> {
                try (SyscallBatch b = rt.syscalls().batch().reuseHandles()) {
                    SyscallBatch.Result[] rs = new SyscallBatch.Result[per];
                    while (!stop.get()) {
                        for (int i = 0; i < per; i++) rs[i] = b.getpid();
                        b.submitAndWait();
                        for (int i = 0; i < per; i++) rs[i].get();
                        calls.addAndGet(per);
                    }
                }
            });
            measurer.join();
            long parks = rt.engine().stats().callerParks() - parks0;
            double[] m = measured.get();
            assertNotNull(m, "the measurement did not finish");
            System.out.printf("green batches of %d, %d threads: %.2f bytes allocated per call over %.0f calls; %d parks%n",
                    per, threads, m[0], m[1], parks);
            assertTrue(parks > 0, "no batch parked: the test did not exercise the carrier's watch");
            assertTrue(m[0] < 2.0, m[0] + " bytes allocated per call");
        }
    }

    /** A batch larger than the group (pages 1: 64 entries) from green threads: parts, no deadlock. */
    @Test
    @Timeout(120)
    void batchesLargerThanTheGroupFromGreenThreads(@TempDir Path dir) throws Exception {
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config().toBuilder().pages(1).build())) {
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            try {
                // 300 > 64 entries, 8 threads compete
                onGreenThreads(rt, 8, id -> batchRounds(rt.syscalls(), fd, id, 5, 300));
            } finally {
                DirectSyscalls.syscalls().close(fd);
            }
        }
    }

    /** Interrupting a green thread parked on its batch cancels the blocking read; the getpid completes. */
    @Test
    @Timeout(30)
    void anInterruptCancelsTheBlockingCallOfAGreenBatch() throws Exception {
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config())) {
            assertInterruptCancelsBlockingBatchRead(rt.syscalls(), r -> {
                Thread t = rt.threadFactory().newThread(r);
                t.start();
                return t;
            });
        }
    }

    /** Closing the engine under green threads parked on batches: each submit returns, every handle settles. */
    @Test
    @Timeout(60)
    void closingTheEngineUnderParkedGreenBatches() throws Exception {
        FlexscRuntime rt = FlexscRuntime.open(TestSupport.config().toBuilder().closeTimeoutMillis(2000).build());
        int[] p = TestSupport.pipe();
        List<SyscallBatch.Result> all = new java.util.concurrent.CopyOnWriteArrayList<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch posted = new CountDownLatch(4), done = new CountDownLatch(4);
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(64);
            for (int t = 0; t < 4; t++) {
                int id = t;
                rt.threadFactory().newThread(() -> {
                    try (SyscallBatch b = rt.syscalls().batch()) {
                        List<SyscallBatch.Result> mine = new ArrayList<>();
                        mine.add(b.read(p[0], buf.asSlice(id * 16L, 16))); // never completes
                        for (int i = 0; i < 32; i++) mine.add(b.getpid());
                        all.addAll(mine);
                        posted.countDown();
                        b.submitAndWait();
                    } catch (Throwable x) {
                        errors.add(x);
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            posted.await();
            Thread.sleep(200);
            rt.engine().close();
            assertTrue(done.await(20, java.util.concurrent.TimeUnit.SECONDS), "a green submit did not return after close");
            if (!errors.isEmpty()) throw new AssertionError(errors.peek());
            int failedReads = 0;
            for (SyscallBatch.Result r : all) {
                assertTrue(r.isDone(), r::toString);
                try {
                    long v = r.get();
                    assertEquals(ProcessHandle.current().pid(), v, r::toString);
                } catch (EngineClosedException e) {
                    failedReads++;
                } catch (ErrnoException e) {
                    assertEquals(4, e.errno(), e::getMessage); // EINTR: close signalled the executor
                    failedReads++;
                }
            }
            assertEquals(4, failedReads);
        } finally {
            rt.close();
            TestSupport.closeDirect(p);
        }
    }
}
