package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The carrier-local mode's data plane and the scheduler's side of it (a carrier's group as its
 * context, its sleep there, the wake-ups), against {@link LocalGroupsEngine}, a Java model of
 * the kernel module's WAIT with EXECUTE and WAKE_WAITERS, so that they run on every host; the
 * module itself runs the same scenarios in the guest ({@link ModuleCarrierTest}).
 */
class LocalGroupsTest {
    private static FlexscConfig schedulerConfig() {
        return FlexscConfig.builder().userCpus(0).policy(CallPolicy.EXCEPTIONLESS).build();
    }

    @Test
    @Timeout(120)
    void greenThreadsCallsRunOnTheirCarrierOnceEachWithTheirOwnResults() throws Exception {
        try (LocalGroupsEngine e = LocalGroupsEngine.open(); FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            long served0 = e.servedCalls();
            CarrierLocalScenarios.callsRunOnTheirCarrier(e, s, 64, TestSupport.scaled(500));
            assertTrue(e.servedCalls() > served0, "openat, which may block, went to the syscall thread");
        }
    }

    @Test
    @Timeout(300)
    void aCarrierAsleepInItsGroupIsWokenByOtherThreadsEveryTime() throws Exception {
        try (LocalGroupsEngine e = LocalGroupsEngine.open();
             FlexscScheduler s = FlexscScheduler.open(schedulerConfig(), CarrierLocalScenarios.SLEEP_AT_ONCE)) {
            CarrierLocalScenarios.wakeUpsOfASleepingCarrier(e, s, TestSupport.scaled(20_000));
        }
    }

    @Test
    @Timeout(60)
    void closingTheEngineWithCallsInFlightOnCarrierGroupsSettlesEveryCall() throws Exception {
        LocalGroupsEngine e = LocalGroupsEngine.open();
        try (FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            CarrierLocalScenarios.closeWithCallsInFlight(e, s, false);
        } finally {
            e.close();
        }
    }
}
