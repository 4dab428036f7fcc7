package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.KernelModuleEngine;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static dev.flexsc.threads.CarrierLocalScenarios.PID;
import static org.junit.jupiter.api.Assertions.*;

/**
 * KERNEL_MODULE's carrier-local mode (issue 14, the FlexSC paper's single-core mode): green
 * threads post into their carrier's own group, the carrier runs the group in its own WAIT
 * with EXECUTE and sleeps there, and other threads wake it with WAKE_WAITERS. Runs in the
 * QEMU guest (kernel-module/test-kernel.sh); skipped, with the reason printed, where
 * /dev/flexsc is missing. The Java model of the same protocol runs everywhere
 * ({@link LocalGroupsTest}).
 */
class ModuleCarrierTest {
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
        try (KernelModuleEngine e = open(); FlexscScheduler s = FlexscScheduler.open(config())) {
            CarrierLocalScenarios.callsRunOnTheirCarrier(e, s, 64, TestSupport.scaled(400));
        }
    }

    @Test
    @Timeout(120)
    void aCarrierAsleepInItsGroupIsWokenByOtherThreadsEveryTime() throws Exception {
        // Without WAKE_WAITERS (the module's WAKE wakes only SERVE threads) every round of the
        // platform thread waited for the carrier's 10 s timeout.
        try (KernelModuleEngine e = open();
             FlexscScheduler s = FlexscScheduler.open(config(), CarrierLocalScenarios.SLEEP_AT_ONCE)) {
            CarrierLocalScenarios.wakeUpsOfASleepingCarrier(e, s, TestSupport.scaled(2_000));
        }
    }

    @Test
    @Timeout(120)
    void batchesOfCallsThatDoNotBlockRunOnTheirCarrier() throws Exception {
        try (KernelModuleEngine e = open(); FlexscScheduler s = FlexscScheduler.open(config())) {
            CarrierLocalScenarios.batchesRunOnTheirCarrier(e, s, 8, TestSupport.scaled(200), 8);
        }
    }

    @Test
    @Timeout(60)
    void anInterruptCancelsABlockedReadAndTheCarrierRunsOthersMeanwhile() throws Exception {
        // A read on an empty pipe may block: it goes to the syscall threads (run by the
        // carrier, it would stall the carrier), which keeps running its other green threads and
        // their calls in its own group; an interrupt cancels the read (CANCEL).
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
                assertTrue(warm.join(Duration.ofSeconds(10)));
                long local0 = e.carrierPosted();
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
                        assertTrue(other.join(Duration.ofSeconds(30)), "the carrier did not run the other thread");
                    }
                });
                assertTrue(e.carrierPosted() > local0, "the other thread's calls did not go to the carrier's group");
            } finally {
                TestSupport.closeDirect(p);
            }
        }
    }

    @Test
    @Timeout(60)
    void theMultiCoreModeSendsGreenThreadsCallsToTheServeThreads() throws Exception {
        TestSupport.assumeAvailable(Engine.KERNEL_MODULE);
        FlexscConfig multiCore = config().toBuilder().moduleCarrierLocal(false).build();
        try (KernelModuleEngine e = (KernelModuleEngine) Flexsc.open(multiCore);
             FlexscScheduler s = FlexscScheduler.open(multiCore)) {
            assertEquals(0, e.carrierGroups());
            assertEquals(multiCore.syscallCpus().length, e.groups());
            Syscalls sys = e.syscalls();
            long executed0 = e.stats().executed();
            Thread t = s.startVirtualThread(() -> {
                try {
                    for (int i = 0; i < 20; i++) assertEquals(PID, sys.getpid());
                } catch (IOException x) {
                    throw new RuntimeException(x);
                }
            });
            assertTrue(t.join(Duration.ofSeconds(30)));
            assertEquals(0, e.carrierPosted());
            assertEquals(0, e.carrierExecuted());
            assertTrue(TestSupport.statsOnceExecuted(e, executed0 + 20).executed() >= executed0 + 20,
                    "the SERVE threads ran the calls");
        }
    }

    @Test
    @Timeout(60)
    void closingTheEngineWithCallsInFlightOnCarrierGroupsSettlesEveryCall() throws Exception {
        KernelModuleEngine e = open();
        try (FlexscScheduler s = FlexscScheduler.open(config())) {
            CarrierLocalScenarios.closeWithCallsInFlight(e, s, true);
        } finally {
            e.close();
        }
    }

    /**
     * Issue 12's leftover (docs/security.md, PAGE_ENGINE_CLOSE_EINTR: once seen in the 6.1
     * guest, a blocked call knocked out by close() failed with ErrnoException EINTR): reads of
     * an empty pipe from platform threads, green threads and a batch of each, all running in
     * the SERVE threads (BUSY) when the engine closes, under both policies that post them.
     * Every one must fail with EngineClosedException.
     */
    @Test
    @Timeout(300)
    void everyBlockedCallKnockedOutByCloseFailsWithEngineClosedException() throws Exception {
        TestSupport.assumeAvailable(Engine.KERNEL_MODULE);
        int rounds = 4, singles = 4, batchReads = 2;
        int blocked = 2 * singles + 2 * batchReads;
        long knocked = 0;
        try (FlexscScheduler s = FlexscScheduler.open(config())) {
            for (int r = 0; r < rounds; r++) {
                CallPolicy policy = r % 2 == 0 ? CallPolicy.EXCEPTIONLESS : CallPolicy.ADAPTIVE;
                KernelModuleEngine e = (KernelModuleEngine) Flexsc.open(config().toBuilder().policy(policy).build());
                int[] p = TestSupport.pipe();
                ConcurrentLinkedQueue<Throwable> outcomes = new ConcurrentLinkedQueue<>();
                List<Thread> ts = new ArrayList<>();
                try (Arena a = Arena.ofShared()) {
                    Syscalls sys = e.syscalls();
                    Runnable single = () -> {
                        try {
                            sys.read(p[0], new byte[1]);
                            outcomes.add(new AssertionError("a read of an empty pipe returned"));
                        } catch (Throwable x) {
                            outcomes.add(x);
                        }
                    };
                    Runnable batch = () -> {
                        try (SyscallBatch b = sys.batch()) {
                            List<SyscallBatch.Result> reads = new ArrayList<>();
                            for (int i = 0; i < batchReads; i++) reads.add(b.read(p[0], a.allocate(1)));
                            b.submitAndWait();
                            for (SyscallBatch.Result rd : reads) {
                                try {
                                    rd.get();
                                    outcomes.add(new AssertionError("a batch read of an empty pipe returned"));
                                } catch (Throwable x) {
                                    outcomes.add(x);
                                }
                            }
                        } catch (Throwable x) {
                            outcomes.add(x);
                        }
                    };
                    for (int i = 0; i < singles; i++) {
                        ts.add(Thread.ofPlatform().start(single));
                        ts.add(s.startVirtualThread(single));
                    }
                    ts.add(Thread.ofPlatform().start(batch));
                    ts.add(s.startVirtualThread(batch));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (e.callsRunning() < blocked) {
                        if (System.nanoTime() > deadline) {
                            fail("round " + r + ": " + e.callsRunning() + " of " + blocked + " reads reached the SERVE threads");
                        }
                        Thread.sleep(5); // polls a condition
                    }
                    e.close();
                    for (Thread t : ts) assertTrue(t.join(Duration.ofSeconds(30)), "a blocked call never settled after close");
                } finally {
                    e.close();
                    TestSupport.closeDirect(p);
                }
                assertEquals(blocked, outcomes.size(), () -> "outcomes: " + outcomes);
                for (Throwable x : outcomes) {
                    assertInstanceOf(EngineClosedException.class, x, () -> policy + ": " + x);
                }
                knocked += outcomes.size();
            }
        }
        System.out.printf("# close: %d reads blocked in the SERVE threads (platform, green, batches) over %d closes:"
                + " every one failed with EngineClosedException%n", knocked, rounds);
    }
}
