package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.uring.UringAvailability;
import dev.flexsc.nativeimpl.uring.UringEngine;
import dev.flexsc.nativeimpl.uring.UringStats;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

import static dev.flexsc.AtFlags.AT_FDCWD;
import static dev.flexsc.OpenFlags.*;
import dev.flexsc.nativeimpl.TestSupport;

/**
 * The io_uring engines under the M:N scheduler: calls from green threads park and are
 * watched by their carrier, which submits what it collected in one io_uring_enter (IO_URING),
 * reaps, and sleeps in the engine (GETEVENTS, or the completion word with SQPOLL).
 * Skipped, with the reason printed, where io_uring is unavailable.
 */
class UringSchedulerTest {
    private static final long PID = ProcessHandle.current().pid();
    private static final int SEEK_END = 2;
    /** Carriers block for up to 10 s: a lost wake-up shows as a stall of seconds, not a slow test. */
    private static final IdlePolicy LONG_SLEEPS = new IdlePolicy(200, 2, TimeUnit.SECONDS.toNanos(10), 200_000L);

    @TempDir
    Path dir;

    /** The engine and a scheduler with one carrier (CPU 0), or a skip with the reason. */
    private static final class Runtime implements AutoCloseable {
        final UringEngine engine;
        final FlexscScheduler scheduler;

        Runtime(Engine kind, IdlePolicy idle) throws IOException {
            TestSupport.assumeAvailable(kind);
            FlexscConfig cfg = FlexscConfig.builder().engine(kind).userCpus(0)
                    .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build(); // tests the ring, not the call policy
            FlexscEngine e = Flexsc.open(cfg);
            engine = (UringEngine) e;
            scheduler = FlexscScheduler.open(cfg, idle);
        }

        Syscalls syscalls() {
            return engine.syscalls();
        }

        @Override
        public void close() {
            try {
                scheduler.close();
            } finally {
                engine.close();
            }
        }
    }

    interface Body {
        void run(int i) throws Exception;
    }

    /** Runs body(0..n-1) on green threads of rt; fails with the first error. */
    private static void onGreenThreads(Runtime rt, int n, Body body) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.scheduler.threadFactory())) {
            for (int i = 0; i < n; i++) {
                int k = i;
                ex.execute(() -> {
                    try {
                        assertTrue(rt.scheduler.isCarrierOfCurrentThread(), "not on a FlexSC carrier");
                        body.run(k);
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
            }
        }
        if (!errors.isEmpty()) throw new AssertionError(errors.size() + " thread(s) failed", errors.peek());
    }

    @org.junit.jupiter.api.Test
    @Timeout(60)
    void aPlatformWaiterAndASleepingCarrierEachWaitInOneKernelEntry() throws Exception {
        // A platform thread waits for a ring call (a read of an empty pipe) on a ring of its
        // own. Meanwhile a green thread reads a pipe byte by byte and its carrier, with nothing
        // else to run, sleeps in its ring's io_uring_enter. Neither wait may enter the kernel
        // over and over: a completion thread of the shared-ring design once made about 500
        // io_uring_enter calls per HTTP request.
        int cycles = 200;
        try (Runtime rt = new Runtime(Engine.IO_URING, LONG_SLEEPS)) {
            Syscalls s = rt.syscalls();
            int[] hold = TestSupport.pipe();
            int[] p = TestSupport.pipe();
            try {
                Thread platform = Thread.ofPlatform().start(() -> {
                    try {
                        s.read(hold[0], new byte[1]);
                    } catch (IOException ignored) {
                        // the pipe is closed at the end
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (rt.engine.uringStats().ringCalls().getOrDefault("read", 0L) < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                Thread.sleep(20); // the platform read is waiting on the ring
                AtomicInteger got = new AtomicInteger();
                Thread reader = rt.scheduler.threadFactory().newThread(() -> {
                    try {
                        for (int i = 0; i < cycles; i++) {
                            if (s.read(p[0], new byte[1]) == 1) got.incrementAndGet();
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                reader.start();
                long enters0 = rt.engine.uringStats().waitEnters();
                for (int c = 0; c < cycles; c++) {
                    Thread.sleep(1); // the carrier runs out of work and sleeps holding the CQ
                    DirectSyscalls.syscalls().write(p[1], new byte[] {1});
                    while (got.get() <= c && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(30)) Thread.onSpinWait();
                    assertEquals(c + 1, got.get(), "cycle " + c + ": the read did not complete");
                }
                long enters = rt.engine.uringStats().waitEnters() - enters0;
                reader.join(5000);
                System.out.printf("IO_URING: %d cycles with a platform waiter, %d waiting io_uring_enter calls (%.1f per cycle)%n",
                        cycles, enters, (double) enters / cycles);
                // Per cycle the carrier sleeps once (a spurious return at most adds one), and the
                // platform waiter enters once per 50 ms slice; a waiter that spins through the
                // kernel makes hundreds (one per microsecond of each 1 ms).
                assertTrue(enters < 3L * cycles, enters + " waiting enters for " + cycles + " cycles");
                DirectSyscalls.syscalls().write(hold[1], new byte[] {1});
                platform.join(5000);
                assertFalse(platform.isAlive());
            } finally {
                TestSupport.closeDirect(hold);
                TestSupport.closeDirect(p);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING_SQPOLL", "IO_URING"})
    @Timeout(120)
    void thousandsOfGreenThreadCallsGetTheirOwnResults(Engine kind) throws Exception {
        int n = 3000;
        try (Runtime rt = new Runtime(kind, IdlePolicy.DEFAULT); Arena a = Arena.ofShared()) {
            Syscalls s = rt.syscalls();
            int fd = s.openat(AT_FDCWD, dir.resolve("f").toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            long batchesBefore = rt.engine.stats().batches();
            long reapedBefore = rt.scheduler.stats().reaped();
            onGreenThreads(rt, n, i -> {
                try (Arena t = Arena.ofConfined()) {
                    MemorySegment b = t.allocate(8);
                    b.set(ValueLayout.JAVA_LONG, 0, i * 7919L + 3);
                    assertEquals(8, s.pwrite(fd, b, i * 8L));
                    MemorySegment r = t.allocate(8);
                    assertEquals(8, s.pread(fd, r, i * 8L));
                    assertEquals(i * 7919L + 3, r.get(ValueLayout.JAVA_LONG, 0), "thread " + i + " read another's data");
                }
            });
            MemorySegment g = MemorySegment.ofArray(Files.readAllBytes(dir.resolve("f")));
            for (int i = 0; i < n; i++) assertEquals(i * 7919L + 3, g.get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L));
            s.close(fd);
            long ringCalls = rt.engine.uringStats().ringCalls().getOrDefault("pwrite64", 0L)
                    + rt.engine.uringStats().ringCalls().getOrDefault("pread64", 0L);
            long batches = rt.engine.stats().batches() - batchesBefore;
            long reaped = rt.scheduler.stats().reaped() - reapedBefore;
            System.out.printf("%s: %d calls from %d green threads, %d submitting io_uring_enter, %d reaped by the carrier%n",
                    kind, ringCalls, n, batches, reaped);
            assertEquals(2L * n, ringCalls, "every pread/pwrite on the ring");
            assertTrue(reaped > 0, "no call was handed to the carrier");
            if (kind == Engine.IO_URING) {
                assertTrue(batches < ringCalls / 2, "IO_URING did not batch: " + batches + " enters for " + ringCalls + " calls");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING_SQPOLL", "IO_URING"})
    @Timeout(120)
    void ringAndDirectCallsMixOnOneCarrier(Engine kind) throws Exception {
        try (Runtime rt = new Runtime(kind, IdlePolicy.DEFAULT)) {
            Syscalls s = rt.syscalls();
            onGreenThreads(rt, 400, i -> {
                int fd = s.openat(AT_FDCWD, dir.resolve("m" + i).toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                try {
                    byte[] data = ("green thread " + i).getBytes();
                    assertEquals(PID, s.getpid());                     // direct (no ring op)
                    assertEquals(data.length, s.write(fd, data));       // ring
                    assertEquals(data.length, s.lseek(fd, 0, SEEK_END)); // direct (no ring op)
                    assertEquals(data.length, s.pwrite(fd, data, 0, data.length, data.length)); // ring
                    assertEquals(2L * data.length, s.lseek(fd, 0, SEEK_END));
                    byte[] back = new byte[data.length];
                    assertEquals(data.length, s.pread(fd, back, 0, back.length, data.length));
                    assertArrayEquals(data, back);
                } finally {
                    s.close(fd);                                        // ring
                }
            });
            UringStats st = rt.engine.uringStats();
            assertEquals(400L, st.directCalls().get("getpid"), st.toString());  // no ring op: on the carrier
            assertEquals(800L, st.directCalls().get("lseek"), st.toString());
            assertTrue(st.fallbackCalls().isEmpty(), st.toString());
            for (String c : List.of("openat", "write", "pwrite64", "pread64", "close")) {
                assertEquals(400L, st.ringCalls().get(c), c + ": " + st);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING_SQPOLL", "IO_URING"})
    @Timeout(60)
    void interruptCancelsAGreenThreadBlockedOnAnEmptyPipe(Engine kind) throws Exception {
        try (Runtime rt = new Runtime(kind, IdlePolicy.DEFAULT)) {
            int[] p = TestSupport.pipe();
            try {
                BlockedCalls.assertInterruptCancels(rt.scheduler.threadFactory(), "read",
                        () -> rt.syscalls().read(p[0], new byte[16]));
                assertTrue(rt.engine.uringStats().cancels() > 0, "no IORING_OP_ASYNC_CANCEL");
                // the cancelled read took nothing: the next byte goes to the next reader
                assertEquals(1, DirectSyscalls.syscalls().write(p[1], new byte[] {42}));
                byte[] one = new byte[1];
                Thread next = rt.scheduler.threadFactory().newThread(() -> {
                    try {
                        rt.syscalls().read(p[0], one);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                next.start();
                next.join(5000);
                assertEquals(42, one[0]);
            } finally {
                TestSupport.closeDirect(p);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING_SQPOLL", "IO_URING"})
    @Timeout(60)
    void interruptCancelsAGreenThreadBlockedInAccept(Engine kind) throws Exception {
        try (Runtime rt = new Runtime(kind, IdlePolicy.DEFAULT); Arena a = Arena.ofShared()) {
            Syscalls direct = DirectSyscalls.syscalls();
            int l = direct.socket(2 /* AF_INET */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0);
            try {
                MemorySegment sa = a.allocate(16);
                sa.set(ValueLayout.JAVA_SHORT, 0, (short) 2);
                sa.set(ValueLayout.JAVA_INT, 4, Integer.reverseBytes(0x7f000001)); // 127.0.0.1, port 0
                direct.bind(l, sa);
                direct.listen(l, 4);
                BlockedCalls.assertInterruptCancels(rt.scheduler.threadFactory(), "accept",
                        () -> rt.syscalls().accept4(l, null, O_CLOEXEC));
                assertEquals(1L, rt.engine.uringStats().ringCalls().get("accept4"), "accept4 did not run on the ring");
            } finally {
                TestSupport.closeDirect(l);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING_SQPOLL", "IO_URING"})
    @Timeout(180)
    void idleCarrierWakesForEveryCompletionAndNewThread(Engine kind) throws Exception {
        // One carrier, blocking up to 10 s in the engine while a green thread keeps a read on an
        // empty pipe pending. Each cycle wakes it once by a completion (a pipe written from this
        // platform thread) and once by new work (a green thread started from outside, which
        // wakes the sleeper: an eventfd write completes the read its ring keeps posted, whose
        // CQE ends its io_uring_enter). A wake-up lost in any race window stalls the cycle for
        // seconds.
        int cycles = 300;
        try (Runtime rt = new Runtime(kind, LONG_SLEEPS); Arena a = Arena.ofShared()) {
            Syscalls s = rt.syscalls();
            int[] hold = TestSupport.pipe();
            int[] p = TestSupport.pipe();
            int fd = s.openat(AT_FDCWD, dir.resolve("w").toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            try {
                Thread holder = rt.scheduler.threadFactory().newThread(() -> {
                    try {
                        s.read(hold[0], new byte[1]);
                    } catch (IOException ignored) {
                        // the pipe is closed at the end
                    }
                });
                holder.start();
                long sleepsBefore = rt.scheduler.stats().sleeps();
                long worst = 0;
                AtomicInteger done = new AtomicInteger();
                for (int c = 0; c < cycles; c++) {
                    // (1) a completion wakes the carrier
                    long asleep = rt.scheduler.stats().sleeps();
                    CountDownLatch read = new CountDownLatch(1);
                    rt.scheduler.threadFactory().newThread(() -> {
                        try {
                            if (s.read(p[0], new byte[1]) == 1) read.countDown();
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    }).start();
                    awaitSleep(rt, asleep); // the carrier runs out of work and sleeps in the engine
                    long t0 = System.nanoTime();
                    DirectSyscalls.syscalls().write(p[1], new byte[] {1});
                    assertTrue(read.await(5, TimeUnit.SECONDS), "cycle " + c + ": completion lost");
                    worst = Math.max(worst, System.nanoTime() - t0);
                    // (2) new work wakes the carrier
                    awaitSleep(rt, -1);
                    int k = c;
                    CountDownLatch wrote = new CountDownLatch(1);
                    t0 = System.nanoTime();
                    rt.scheduler.threadFactory().newThread(() -> {
                        try (Arena t = Arena.ofConfined()) {
                            MemorySegment b = t.allocate(8);
                            b.set(ValueLayout.JAVA_LONG, 0, k);
                            if (s.pwrite(fd, b, k * 8L) == 8) {
                                done.incrementAndGet();
                                wrote.countDown();
                            }
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    }).start();
                    assertTrue(wrote.await(5, TimeUnit.SECONDS), "cycle " + c + ": wake-up for a new thread lost");
                    worst = Math.max(worst, System.nanoTime() - t0);
                }
                long sleeps = rt.scheduler.stats().sleeps() - sleepsBefore;
                UringStats st = rt.engine.uringStats();
                System.out.printf("%s: %d wake cycles, %d carrier sleeps, %d eventfd wake-ups, %d waiting enters, worst %d us%n",
                        kind, cycles, sleeps, st.carrierWakes(), st.waitEnters(), worst / 1000);
                assertEquals(cycles, done.get());
                assertTrue(sleeps >= cycles, "the carrier rarely slept; the window was not exercised: " + sleeps);
                assertTrue(worst < TimeUnit.SECONDS.toNanos(10), "a wake-up took " + worst / 1_000_000 + " ms");
                assertTrue(st.carrierWakes() > 0, "no carrier slept in its ring when woken");
                assertTrue(holder.isAlive());
                DirectSyscalls.syscalls().write(hold[1], new byte[] {1});
                holder.join(5000);
                assertFalse(holder.isAlive());
            } finally {
                s.close(fd);
                TestSupport.closeDirect(hold);
                TestSupport.closeDirect(p);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING_SQPOLL", "IO_URING"})
    @Timeout(120)
    void closeWithGreenThreadCallsInFlight(Engine kind) throws Exception {
        Runtime rt = new Runtime(kind, IdlePolicy.DEFAULT);
        int readers = 50, writers = 50;
        List<int[]> pipes = new ArrayList<>();
        ConcurrentLinkedQueue<Throwable> outcomes = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        Syscalls s = rt.syscalls();
        int fd = s.openat(AT_FDCWD, dir.resolve("c").toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        try {
            CountDownLatch started = new CountDownLatch(readers + writers);
            for (int i = 0; i < readers; i++) {
                int[] p = TestSupport.pipe();
                pipes.add(p);
                threads.add(rt.scheduler.threadFactory().newThread(() -> {
                    started.countDown();
                    try {
                        s.read(p[0], new byte[4]);
                        outcomes.add(new AssertionError("a read of an empty pipe returned"));
                    } catch (Throwable t) {
                        outcomes.add(t);
                    }
                }));
            }
            for (int i = 0; i < writers; i++) {
                int k = i;
                threads.add(rt.scheduler.threadFactory().newThread(() -> {
                    started.countDown();
                    byte[] b = new byte[64];
                    try {
                        for (long j = 0; ; j++) s.pwrite(fd, b, 0, b.length, (k * 1000L + j % 1000) * 64);
                    } catch (Throwable t) {
                        outcomes.add(t);
                    }
                }));
            }
            threads.forEach(Thread::start);
            started.await();
            Thread.sleep(200);
            long t0 = System.nanoTime();
            rt.engine.close(); // with 50 reads blocked and 50 writers in full flow
            for (Thread t : threads) t.join(10_000);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            for (Thread t : threads) assertFalse(t.isAlive(), "a green thread hangs after close: " + t);
            assertEquals(readers + writers, outcomes.size());
            for (Throwable t : outcomes) {
                assertInstanceOf(EngineClosedException.class, t, "every call in flight fails with EngineClosedException");
            }
            System.out.printf("%s: close with %d calls in flight took %d ms%n", kind, readers + writers, ms);
            assertFalse(rt.engine.isOpen());
        } finally {
            rt.close();
            for (int[] p : pipes) TestSupport.closeDirect(p);
            DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
        }
    }

    /**
     * Waits (at most 1 s) until the carrier is going to sleep or asleep ({@code sleepers},
     * raised before its last look for work) and, unless {@code before} is negative, has
     * gone to sleep since its sleep count was {@code before}: what this thread does next
     * lands in the sleep or in the window just before it, the window under test. A fixed
     * 2 ms pause missed it on a loaded host (217 sleeps in 300 cycles).
     */
    private static void awaitSleep(Runtime rt, long before) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while ((rt.scheduler.sleepers.get() == 0 || (before >= 0 && rt.scheduler.stats().sleeps() <= before))
                && System.nanoTime() < deadline) {
            Thread.sleep(0, 200_000);
        }
    }
}
