package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.KernelModuleEngine;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;

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
}
