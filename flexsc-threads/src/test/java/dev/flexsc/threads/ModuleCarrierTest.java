package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.KernelModuleEngine;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * KERNEL_MODULE's carrier-local mode (issue 14, the FlexSC paper's single-core mode): green
 * threads post into their carrier's own group, the carrier runs the group in its own WAIT
 * with EXECUTE and sleeps there, and other threads wake it with WAKE_WAITERS. Runs in the
 * QEMU guest (kernel-module/test-kernel.sh); skipped, with the reason printed, where
 * /dev/flexsc is missing.
 */
class ModuleCarrierTest {
    /** Carriers sleep up to 10 s: a lost wake-up shows as a stall of seconds, not as a slow test. */
    private static final IdlePolicy SLEEP_AT_ONCE = new IdlePolicy(0, 0, TimeUnit.SECONDS.toNanos(10), 200_000L);
    private static final long PID = ProcessHandle.current().pid();

    /** Every call posted, one carrier (on CPU 0, as the guest's JVM runs under taskset 1). */
    private static FlexscConfig config() {
        return TestSupport.config(Engine.KERNEL_MODULE).toBuilder().userCpus(0).build();
    }

    private static KernelModuleEngine open() throws IOException {
        TestSupport.assumeAvailable(Engine.KERNEL_MODULE);
        KernelModuleEngine e = (KernelModuleEngine) Flexsc.open(config());
        assertTrue(e.carrierGroups() > 0, "the carrier-local mode is the default");
        return e;
    }

    @Test
    @Timeout(120)
    void greenThreadsCallsRunOnTheirCarrierOnceEachWithTheirOwnResults() throws Exception {
        // 64 green threads on one carrier, each making lseeks whose result is its own (the
        // offset it asked for) and getpids: every result is the caller's, none lost (each
        // thread finishes), none duplicated (a call whose completion was fired twice, or
        // another's, would return another offset). The carrier runs them itself: the kernel
        // entries it made and the calls it ran there are counted (the guest log prints them).
        int threads = 64, calls = TestSupport.scaled(400);
        try (KernelModuleEngine e = open(); FlexscScheduler s = FlexscScheduler.open(config())) {
            Syscalls sys = e.syscalls();
            java.nio.file.Path f = java.nio.file.Files.createTempFile("flexsc-carrier", ".bin");
            int fd = sys.openat(-100 /* AT_FDCWD */, f.toString(), 2 /* O_RDWR */, 0); // a regular file: lseek works
            long submitted0 = e.stats().submitted(), entries0 = e.carrierKernelEntries(), ran0 = e.carrierExecuted();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long base = (long) t << 32;
                ts.add(s.startVirtualThread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < calls; i++) {
                            long want = base + i;
                            assertEquals(want, sys.lseek(fd, want, TestSupport.SEEK_SET), "lseek " + want);
                            assertEquals(PID, sys.getpid());
                        }
                    } catch (Throwable x) {
                        errors.add(x);
                    }
                }));
            }
            go.countDown();
            for (Thread t : ts) assertTrue(t.join(java.time.Duration.ofSeconds(100)), "a thread never finished");
            assertTrue(errors.isEmpty(), () -> "" + errors.peek());
            long total = 2L * threads * calls;
            long entries = e.carrierKernelEntries() - entries0, ran = e.carrierExecuted() - ran0;
            System.out.printf("# carrier-local: %d calls posted by %d green threads, %d run by their carrier in %d"
                    + " kernel entries (%.3f entries per call), %d by the group's syscall threads%n",
                    total, threads, ran, entries, (double) entries / total, total - ran);
            assertEquals(total, e.stats().submitted() - submitted0, "every call was posted");
            assertTrue(ran > 0, "the carrier ran none of its threads' calls itself");
            assertTrue(ran <= total, "more calls ran than were posted: " + ran);
            TestSupport.closeDirect(fd);
            java.nio.file.Files.deleteIfExists(f);
        }
    }

    @Test
    @Timeout(120)
    void aCarrierAsleepInItsGroupIsWokenByOtherThreadsEveryTime() throws Exception {
        // A green thread makes a call (the carrier gets its group), then parks; its carrier,
        // with nothing to run, sleeps in its WAIT with EXECUTE (10 s). A platform thread and
        // the JDK's timer unpark it in turn: each unpark must end the carrier's sleep
        // (WAKE_WAITERS); a lost one stalls its round for the 10 s of the sleep, and every
        // round is bounded by 8 s. Without WAKE_WAITERS (the module's WAKE only wakes
        // syscall threads) every round of the platform thread waited for the timeout.
        int rounds = TestSupport.scaled(2_000);
        try (KernelModuleEngine e = open(); FlexscScheduler s = FlexscScheduler.open(config(), SLEEP_AT_ONCE)) {
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
            assertEquals(1, carrier.contexts().size(), "the carrier sleeps in its group");
            System.out.printf("# carrier-local: %d wake-ups of a carrier asleep in its group, %d kernel entries, worst %d ms%n",
                    rounds, e.carrierKernelEntries() - entries0, worst / 1_000_000);
        }
    }

    /** Waits until {@code c} sleeps (announced its sleep, found no work on the recheck), at most 5 s. */
    private static void awaitAsleep(CarrierThread c) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!c.isSleeping() && System.nanoTime() < deadline) Thread.onSpinWait();
    }

    @Test
    @Timeout(60)
    void anInterruptCancelsABlockedReadAndTheCarrierRunsOthersMeanwhile() throws Exception {
        // A read on an empty pipe may block: the carrier leaves it to its group's syscall
        // threads, so the carrier keeps running its other green threads, and an interrupt
        // cancels the read (CANCEL on the carrier's group).
        try (KernelModuleEngine e = open(); FlexscScheduler s = FlexscScheduler.open(config())) {
            Syscalls sys = e.syscalls();
            int[] p = TestSupport.pipe();
            try {
                Thread warm = s.startVirtualThread(() -> {
                    try {
                        sys.getpid(); // the carrier has its group before the read is posted
                    } catch (IOException x) {
                        throw new RuntimeException(x);
                    }
                });
                assertTrue(warm.join(java.time.Duration.ofSeconds(10)));
                BlockedCalls.assertInterruptCancels(s.threadFactory(), "read", () -> {
                    // Meanwhile another green thread of the same carrier makes its calls.
                    Thread other = s.startVirtualThread(() -> {
                        try {
                            for (int i = 0; i < 20; i++) assertEquals(PID, sys.getpid());
                        } catch (IOException x) {
                            throw new RuntimeException(x);
                        }
                    });
                    try {
                        sys.read(p[0], new byte[16]);
                    } finally {
                        other.join();
                    }
                });
            } finally {
                TestSupport.closeDirect(p);
            }
        }
    }

    @Test
    @Timeout(60)
    void closingTheEngineWithCallsInFlightOnCarrierGroupsSettlesEveryCall() throws Exception {
        // Green threads blocked in reads (with the group's syscall threads) and others looping
        // on getpid (run by the carrier) when the engine closes: every call returns or fails
        // with EngineClosedException, none hangs, the carrier gives its group back and goes on
        // running green threads.
        KernelModuleEngine e = open();
        try (FlexscScheduler s = FlexscScheduler.open(config())) {
            Syscalls sys = e.syscalls();
            int[] p = TestSupport.pipe();
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            List<Thread> ts = new ArrayList<>();
            CountDownLatch looping = new CountDownLatch(4);
            for (int i = 0; i < 8; i++) {
                boolean reader = i % 2 == 0;
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
            for (Thread t : ts) assertTrue(t.join(java.time.Duration.ofSeconds(20)), "a call never settled after close");
            assertTrue(unexpected.isEmpty(), () -> "" + unexpected.peek());
            TestSupport.closeDirect(p);
            Thread after = s.startVirtualThread(() -> { });
            assertTrue(after.join(java.time.Duration.ofSeconds(10)), "the carrier stopped running threads");
        } finally {
            e.close();
        }
    }
}
