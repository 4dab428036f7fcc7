package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.nativeimpl.uring.UringEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A busy carrier reaps a completion of its own ring before its next dispatch, not at its
 * poll budget (issue 14, the p99 tail): a green thread parked on a pipe read in the ring is
 * run again within a couple of dispatches of the write that completes it, while another
 * thread keeps the carrier busy. Counted in dispatches (the busy thread's yields), not in
 * time. Skipped, with the reason printed, where io_uring is unavailable.
 */
class BusyCarrierReapTest {
    /** Rounds, each a fresh pipe: a completion reaped late in any of them fails the test. */
    private static final int ROUNDS = 20;
    /**
     * Yields of the busy thread after the write, at most, before the reader runs: its first
     * yield's next() sees the completion work (SQ_TASKRUN, set inside the write) and reaps it,
     * the reader is queued behind the busy thread, which yields once more. Without the look
     * before each dispatch the reader waits for the poll budget: up to
     * {@link CarrierThread#POLL_EVERY_DISPATCHES} yields.
     */
    private static final int MAX_YIELDS = 3;
    /** Yields of the busy thread before its write: a few poll budgets. */
    private static final int WARM_UP_YIELDS = 3 * CarrierThread.POLL_EVERY_DISPATCHES + 17;

    @Test
    @Timeout(120)
    void aCompletionIsReapedWithinADispatchOnABusyCarrier() throws Exception {
        TestSupport.assumeAvailable(Engine.IO_URING);
        FlexscConfig cfg = FlexscConfig.builder().engine(Engine.IO_URING).userCpus(0).policy(CallPolicy.EXCEPTIONLESS).build();
        try (UringEngine e = (UringEngine) Flexsc.open(cfg); FlexscScheduler s = FlexscScheduler.open(cfg)) {
            CarrierThread carrier = s.carrierArray()[0];
            int worst = 0;
            for (int r = 0; r < ROUNDS; r++) {
                int[] p = TestSupport.pipe();
                try {
                    CountDownLatch read = new CountDownLatch(1);
                    AtomicInteger yieldsWhenRead = new AtomicInteger(-1);
                    AtomicInteger yields = new AtomicInteger();
                    s.startVirtualThread(() -> {
                        try {
                            if (e.syscalls().read(p[0], new byte[1]) == 1) yieldsWhenRead.set(yields.get());
                        } catch (IOException ex) {
                            throw new RuntimeException(ex);
                        } finally {
                            read.countDown();
                        }
                    });
                    // The read is in the ring (submitted: the carrier ran out of work and slept).
                    awaitCondition(() -> e.uringStats().inFlight() >= 1 && carrier.isSleeping(), "the read is posted and the carrier asleep");
                    CountDownLatch busyDone = new CountDownLatch(1);
                    s.startVirtualThread(() -> {
                        try {
                            // Busy for a while first, so that the write falls anywhere between
                            // two budgeted polls (right after the wake-up, the budget's clock
                            // rule would poll within a few dispatches anyway).
                            for (int k = 0; k < WARM_UP_YIELDS; k++) Thread.yield();
                            // The write completes the read's poll inside this call: its
                            // completion work waits in the ring for the carrier's next entry.
                            assertEquals(1, DirectSyscalls.syscalls().write(p[1], new byte[] {1}));
                            // Busy: always runnable (a yield requeues this thread on its carrier).
                            for (int k = 0; k < 100_000 && read.getCount() > 0; k++) {
                                yields.incrementAndGet();
                                Thread.yield();
                            }
                        } catch (IOException ex) {
                            throw new RuntimeException(ex);
                        } finally {
                            busyDone.countDown();
                        }
                    });
                    assertTrue(read.await(30, TimeUnit.SECONDS), "round " + r + ": the read did not complete");
                    assertTrue(busyDone.await(30, TimeUnit.SECONDS), "round " + r + ": the busy thread did not end");
                    int y = yieldsWhenRead.get();
                    assertTrue(y >= 0, "round " + r + ": the read failed");
                    worst = Math.max(worst, y);
                } finally {
                    TestSupport.closeDirect(p);
                }
            }
            System.out.println("busy carrier: worst dispatches of the busy thread before the reader ran: " + worst);
            assertTrue(worst <= MAX_YIELDS, "the reader waited " + worst + " dispatches of the busy thread for its completion");
        }
    }

    private static void awaitCondition(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail(what + ": not within 30 s");
            Thread.sleep(1);
        }
    }
}
