package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Callers waiting for a free entry of a full group (the page engines' entry allocator): they
 * park with no timeout and cost no CPU while they wait, each release reaches one of them, and
 * close releases them all. The engine holds the calls that fill the group
 * ({@link HeldPageEngine}), so the group stays full exactly as long as the test says.
 */
class EntryWaitTest {
    private static final int ENTRIES = 64; // one page
    private static final int WAITERS = 2_000;

    /** Fills the group with held getppid calls from platform threads; returns them. */
    private static List<Thread> fill(HeldPageEngine e, AtomicInteger failures) throws InterruptedException {
        List<Thread> fillers = new ArrayList<>();
        for (int i = 0; i < ENTRIES; i++) {
            fillers.add(Thread.ofPlatform().daemon().start(() -> {
                try {
                    e.syscalls().getppid();
                } catch (Exception x) {
                    failures.incrementAndGet();
                }
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (e.heldCount() < ENTRIES && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(ENTRIES, e.heldCount(), "the group did not fill");
        return fillers;
    }

    private static List<Thread> waiters(FlexscEngine e, AtomicInteger done, AtomicReference<Throwable> error) {
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < WAITERS; i++) {
            ts.add(Thread.ofVirtual().start(() -> {
                try {
                    e.syscalls().getpid();
                    done.incrementAndGet();
                } catch (Throwable x) {
                    error.compareAndSet(null, x);
                }
            }));
        }
        return ts;
    }

    /** Waits until every thread is parked (WAITING or TIMED_WAITING) at once, up to 20 s. */
    private static void awaitAllParked(List<Thread> ts) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (ts.stream().allMatch(t -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING)) return;
            Thread.sleep(20);
        }
        fail("the waiters did not all park");
    }

    @Test
    void waitersParkWithoutATimeoutAndCostNoCpuUntilAnEntryIsFree() throws Exception {
        HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.GETPPID, 5_000);
        AtomicInteger failures = new AtomicInteger(), done = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        try {
            List<Thread> fillers = fill(e, failures);
            List<Thread> ws = waiters(e, done, error);
            awaitAllParked(ws);
            // Parked with a timeout is polling: 2,000 waiters each waking every millisecond.
            int timed = 0;
            for (int sample = 0; sample < 20; sample++) {
                for (Thread t : ws) if (t.getState() == Thread.State.TIMED_WAITING) timed++;
                Thread.sleep(5);
            }
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime();
            Thread.sleep(1_000);
            double cpuShare = (double) (os.getProcessCpuTime() - cpu0) / (System.nanoTime() - t0);
            System.out.printf("%d waiters: %d timed-waiting samples, %.2f CPUs used while they waited%n",
                    WAITERS, timed, cpuShare);
            assertEquals(0, timed, "waiters for an entry park with a timeout (they poll)");
            assertTrue(cpuShare < 0.5, "waiting for entries used " + cpuShare + " CPUs");
            assertEquals(0, done.get(), "a call ran while the group was full");
            // Each held call that completes frees one entry: the waiters run through it in turn.
            HeldPageEngine.Held h;
            while ((h = e.awaitHeld(10)) != null) e.complete(h, 0);
            for (Thread t : ws) t.join(60_000);
            for (Thread t : fillers) t.join(10_000);
            assertNull(error.get(), () -> "a waiter failed: " + error.get());
            assertEquals(WAITERS, done.get());
            assertEquals(0, failures.get());
        } finally {
            e.close();
        }
    }

    @Test
    void everyReleaseReachesAWaiter() {
        // Many more callers than entries, on two groups: each call waits for an entry more
        // often than not. Waiters park with no timeout, so a lost wake-up hangs this test.
        FlexscConfig cfg = TestSupport.config(Engine.SYSCALL_THREADS).toBuilder().policy(CallPolicy.EXCEPTIONLESS)
                .pages(1).syscallCpus(Runtime.getRuntime().availableProcessors() > 1 ? new int[] {0, 1} : new int[] {0}).build();
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            try (FlexscEngine e = TestSupport.openEngine(cfg)) {
                int threads = 400, calls = TestSupport.scaled(200);
                AtomicReference<Throwable> error = new AtomicReference<>();
                List<Thread> ts = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    ts.add(Thread.ofVirtual().start(() -> {
                        try {
                            for (int k = 0; k < calls; k++) e.syscalls().getpid();
                        } catch (Throwable x) {
                            error.compareAndSet(null, x);
                        }
                    }));
                }
                for (Thread t : ts) t.join();
                assertNull(error.get(), () -> "a caller failed: " + error.get());
            }
        });
    }

    @Test
    void closeReleasesEveryWaiterWithEngineClosed() throws Exception {
        HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.GETPPID, 200);
        AtomicInteger failures = new AtomicInteger(), done = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        fill(e, failures);
        List<Thread> ws = waiters(e, done, error);
        awaitAllParked(ws);
        Thread closer = Thread.ofPlatform().start(e::close);
        for (Thread t : ws) {
            t.join(20_000);
            assertFalse(t.isAlive(), "a waiter for an entry outlived close");
        }
        assertInstanceOf(EngineClosedException.class, error.get());
        assertEquals(0, done.get());
        HeldPageEngine.Held h;
        while ((h = e.awaitHeld(10)) != null) e.complete(h, 0); // the held calls end; close returns
        closer.join(20_000);
        LockSupport.parkNanos(1_000_000L);
    }
}
