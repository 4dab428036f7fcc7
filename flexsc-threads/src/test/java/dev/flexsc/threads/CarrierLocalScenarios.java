package dev.flexsc.threads;

import dev.flexsc.EngineClosedException;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.spi.page.PageEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The carrier-local mode of a page engine with carrier groups (PageEngine's CarrierGroups),
 * as scenarios shared by the kernel module's test in the guest ({@link ModuleCarrierTest})
 * and the Java model's on any host ({@link LocalGroupsTest}). Each asserts what the code
 * guarantees (results, counts) and prints the counts as {@code # carrier-local:} lines.
 */
final class CarrierLocalScenarios {
    /** Carriers sleep up to 10 s: a lost wake-up shows as a stall of seconds, not as a slow test. */
    static final IdlePolicy SLEEP_AT_ONCE = new IdlePolicy(0, 0, TimeUnit.SECONDS.toNanos(10), 200_000L);
    static final long PID = ProcessHandle.current().pid();

    private CarrierLocalScenarios() {}

    /**
     * {@code threads} green threads on one carrier, each making {@code calls} lseeks whose
     * result is its own (the offset it asked for) and as many getpids: every result is the
     * caller's and every thread finishes (none lost, none duplicated: a completion fired twice,
     * or another's, would return another offset). Every call posted into the carrier's own
     * group was run by the carrier in its own kernel entry (the group has no syscall threads).
     * A compensating carrier, which the monitor may start while a thread holds the carrier
     * long (under TCG), has no group: its threads' calls go to the syscall threads.
     */
    static void callsRunOnTheirCarrier(PageEngine e, FlexscScheduler s, int threads, int calls) throws Exception {
        Syscalls sys = e.syscalls();
        Path f = Files.createTempFile("flexsc-carrier", ".bin");
        int fd = sys.openat(-100 /* AT_FDCWD */, f.toString(), 2 /* O_RDWR */, 0); // a regular file: lseek works
        try {
            long submitted0 = e.stats().submitted(), entries0 = e.carrierKernelEntries(), ran0 = e.carrierExecuted();
            long local0 = e.carrierPosted();
            together(s, threads, base -> {
                for (int i = 0; i < calls; i++) {
                    long want = base + i;
                    assertEquals(want, sys.lseek(fd, want, TestSupport.SEEK_SET), "lseek " + want);
                    assertEquals(PID, sys.getpid());
                }
            });
            long total = 2L * threads * calls;
            long entries = e.carrierKernelEntries() - entries0, ran = e.carrierExecuted() - ran0;
            long local = e.carrierPosted() - local0;
            System.out.printf("# carrier-local: %d calls posted by %d green threads, %d into their carrier's group,"
                    + " %d run by the carrier in %d kernel entries (%.3f entries per call run there)%n",
                    total, threads, local, ran, entries, ran == 0 ? 0.0 : (double) entries / ran);
            assertCarrierRanItsGroup(total, e.stats().submitted() - submitted0, local, ran);
        } finally {
            TestSupport.closeDirect(fd);
            Files.deleteIfExists(f);
        }
    }

    /**
     * {@code threads} green threads on one carrier each submit {@code rounds} batches of
     * {@code per} calls that do not block (lseeks whose result is the caller's own offset, and
     * getpids): every result is the caller's; a batch goes into the carrier's own group whole
     * when it fits there (it does unless a compensating carrier, which has no group, ran its
     * thread: {@code threads * per} must not exceed a group's entries), and the carrier runs
     * every call posted there in its own kernel entries.
     */
    static void batchesRunOnTheirCarrier(PageEngine e, FlexscScheduler s, int threads, int rounds, int per)
            throws Exception {
        Syscalls sys = e.syscalls();
        Path f = Files.createTempFile("flexsc-carrier-batch", ".bin");
        int fd = sys.openat(-100 /* AT_FDCWD */, f.toString(), 2 /* O_RDWR */, 0);
        try {
            long submitted0 = e.stats().submitted(), ran0 = e.carrierExecuted(), local0 = e.carrierPosted();
            together(s, threads, base -> {
                for (int r = 0; r < rounds; r++) {
                    try (dev.flexsc.SyscallBatch b = sys.batch()) {
                        List<dev.flexsc.SyscallBatch.Result> seeks = new ArrayList<>(), pids = new ArrayList<>();
                        for (int i = 0; i < per / 2; i++) {
                            seeks.add(b.lseek(fd, base + (long) r * per + i, TestSupport.SEEK_SET));
                            pids.add(b.getpid());
                        }
                        b.submitAndWait();
                        for (int i = 0; i < per / 2; i++) {
                            assertEquals(base + (long) r * per + i, seeks.get(i).get(), "lseek");
                            assertEquals(PID, pids.get(i).get());
                        }
                    }
                }
            });
            long total = (long) threads * rounds * (per / 2 * 2);
            long ran = e.carrierExecuted() - ran0, local = e.carrierPosted() - local0;
            System.out.printf("# carrier-local: %d batched calls from %d green threads, %d into their carrier's group,"
                    + " %d run by the carrier%n", total, threads, local, ran);
            assertCarrierRanItsGroup(total, e.stats().submitted() - submitted0, local, ran);
        } finally {
            TestSupport.closeDirect(fd);
            Files.deleteIfExists(f);
        }
    }

    /** Every call was posted, some into the carrier's group, and the carrier ran each of those in its own kernel entry. */
    private static void assertCarrierRanItsGroup(long total, long posted, long local, long ran) {
        assertEquals(total, posted, "every call was posted");
        assertTrue(local > 0, "no call went into the carrier's own group");
        assertEquals(local, ran, "calls of the carrier's group run by the carrier in its own kernel entry");
    }

    /** One green thread's part of a scenario; {@code base} is its own (thread index << 32). */
    @FunctionalInterface
    interface Part {
        void run(long base) throws Exception;
    }

    /** Starts {@code threads} green threads of {@code s} running {@code part} at once, and checks each finished without error. */
    private static void together(FlexscScheduler s, int threads, Part part) throws Exception {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long base = (long) t << 32;
            ts.add(s.startVirtualThread(() -> {
                try {
                    go.await();
                    part.run(base);
                } catch (Throwable x) {
                    errors.add(x);
                }
            }));
        }
        go.countDown();
        for (Thread t : ts) assertTrue(t.join(Duration.ofSeconds(100)), "a thread never finished");
        assertTrue(errors.isEmpty(), () -> "" + errors.peek());
    }

    /**
     * A green thread makes a call (its carrier gets its group), then parks; the carrier, with
     * nothing to run, sleeps in its group (a 10 s sleep). A platform thread and the JDK's timer
     * unpark it in turn, {@code rounds} times: each unpark must end the carrier's sleep; a lost
     * one stalls its round for the 10 s of the sleep, and every round is bounded by 8 s.
     */
    static void wakeUpsOfASleepingCarrier(PageEngine e, FlexscScheduler s, int rounds) throws Exception {
        Syscalls sys = e.syscalls();
        CarrierThread carrier = s.carrierArray()[0];
        AtomicLong woken = new AtomicLong(), sent = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(1);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread sleeper = s.startVirtualThread(() -> {
            try {
                assertEquals(PID, sys.getpid()); // the carrier's group is its context from now on
            } catch (Throwable x) {
                errors.add(x);
            }
            for (long r = 0; r < rounds; r++) {
                if (r % 2 == 1) {
                    LockSupport.parkNanos(20_000L); // the JDK's timer unparks it
                } else {
                    while (sent.get() <= r) LockSupport.park(); // spurious returns: park again
                }
                woken.set(r + 1);
            }
            finished.countDown();
        });
        long worst = 0, entries0 = e.carrierKernelEntries();
        for (long r = 0; r < rounds; r++) {
            awaitAsleep(carrier);
            long t0 = System.nanoTime();
            sent.set(r + 1);
            if (r % 2 == 0) LockSupport.unpark(sleeper);
            long deadline = t0 + TimeUnit.SECONDS.toNanos(8);
            while (woken.get() <= r) {
                if (System.nanoTime() > deadline) fail("round " + r + ": the wake-up was lost");
                Thread.onSpinWait();
            }
            worst = Math.max(worst, System.nanoTime() - t0);
        }
        assertTrue(finished.await(10, TimeUnit.SECONDS));
        assertTrue(errors.isEmpty(), () -> "" + errors.peek());
        System.out.printf("# carrier-local: %d wake-ups of a carrier asleep in its group, %d kernel entries, worst %d ms%n",
                rounds, e.carrierKernelEntries() - entries0, worst / 1_000_000);
    }

    /** Waits until {@code c} sleeps (announced its sleep, found no work on the recheck), at most 5 s. */
    private static void awaitAsleep(CarrierThread c) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!c.isSleeping() && System.nanoTime() < deadline) Thread.onSpinWait();
    }

    /**
     * Green threads looping on getpid (run by their carrier) and, with {@code blockedReads},
     * others blocked in reads of an empty pipe (with the syscall threads) when the engine
     * closes: every call returns or fails with EngineClosedException, none hangs, and the
     * carrier goes on running green threads. The caller closes {@code e}.
     */
    static void closeWithCallsInFlight(PageEngine e, FlexscScheduler s, boolean blockedReads) throws Exception {
        Syscalls sys = e.syscalls();
        int[] p = TestSupport.pipe();
        try {
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            List<Thread> ts = new ArrayList<>();
            CountDownLatch looping = new CountDownLatch(4);
            for (int i = 0; i < 8; i++) {
                boolean reader = blockedReads && i % 2 == 0;
                ts.add(s.startVirtualThread(() -> {
                    try {
                        if (reader) {
                            sys.read(p[0], new byte[1]);
                            unexpected.add(new AssertionError("a read of an empty pipe returned"));
                        } else {
                            looping.countDown();
                            while (true) assertEquals(PID, sys.getpid());
                        }
                    } catch (EngineClosedException expected) {
                        // the engine closed under the call
                    } catch (Throwable x) {
                        unexpected.add(x);
                    }
                }));
            }
            assertTrue(looping.await(20, TimeUnit.SECONDS));
            Thread.sleep(100); // let the reads reach the syscall threads
            e.close();
            for (Thread t : ts) assertTrue(t.join(Duration.ofSeconds(20)), "a call never settled after close");
            assertTrue(unexpected.isEmpty(), () -> "" + unexpected.peek());
            Thread after = s.startVirtualThread(() -> { });
            assertTrue(after.join(Duration.ofSeconds(10)), "the carrier stopped running threads");
        } finally {
            TestSupport.closeDirect(p);
        }
    }
}
