package dev.flexsc.threads;

import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The monitor's held mark and the carrier's sleep (FlexscScheduler.compensate): a carrier
 * whose long runner parked between the monitor's look and its mark must not sleep marked
 * held, which would keep its compensator from retiring and external work away from it.
 */
class HeldMarkTest {
    private static final long DEADLINE_SECONDS = 30;

    /** A runtime with one carrier, on CPU 0: the carrier under test. */
    private FlexscRuntime rt;
    private FlexscScheduler s;
    private CarrierThread carrier;

    @BeforeEach
    void openOneCarrier() throws java.io.IOException {
        rt = FlexscRuntime.open(TestSupport.config().toBuilder().userCpus(0).build());
        s = rt.scheduler();
        carrier = s.ownCarriers()[0];
    }

    @AfterEach
    void close() {
        rt.close();
    }

    /**
     * The monitor's look saw a continuation running; by the time it compensates, the carrier
     * went idle and sleeps (the look reads /proc and the CPU clock meanwhile). The mark is
     * taken back and no compensator starts.
     */
    @Test
    @Timeout(60)
    void aCarrierAsleepByTheMarkGetsNoCompensator() throws Exception {
        runOnce(rt);
        await(carrier::isSleeping, "the carrier sleeps");
        assertNull(s.compensate(carrier), "a compensator started for a sleeping carrier");
        assertFalse(carrier.held, "the carrier sleeps marked held");
        assertEquals(0, s.compensations());
        assertEquals(1, s.carrierArray().length, "carriers running");
        runOnce(rt); // still takes work
    }

    /**
     * The mark raced against the end of short continuations, many times: whichever side
     * wins, once the work is done the carrier is not marked held and every compensator
     * retired.
     */
    @Test
    @Timeout(120)
    void marksRacingTheEndOfAContinuationNeverOutliveIt() throws Exception {
        for (int i = 0; i < 200; i++) {
            long spinNanos = 2_000 + (i % 20) * 1_000;
            Thread t = rt.threadFactory().newThread(() -> {
                long end = System.nanoTime() + spinNanos;
                while (System.nanoTime() < end) Thread.onSpinWait();
            });
            t.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
            while (!carrier.runsTask() && t.isAlive() && System.nanoTime() < deadline) Thread.onSpinWait();
            long lag = System.nanoTime() + (i % 7) * 1_000L; // land the mark at varied points of its end
            while (System.nanoTime() < lag) Thread.onSpinWait();
            s.compensate(carrier);
            t.join();
            int round = i;
            await(() -> !carrier.held && s.carrierArray().length == 1,
                    "round " + round + ": the mark cleared and the compensator retired");
        }
        assertEquals(0, s.carrierErrors());
    }

    /** Runs one green thread to its end. */
    private static void runOnce(FlexscRuntime rt) throws InterruptedException {
        Thread t = rt.threadFactory().newThread(() -> { });
        t.start();
        t.join();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail(what + ": not within " + DEADLINE_SECONDS + " s");
            Thread.sleep(1);
        }
    }
}
