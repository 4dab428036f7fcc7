package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;
import dev.flexsc.nativeimpl.TestSupport;

/** The scheduler and the call path: many green threads, results, lifecycle, the add-opens check. */
class SchedulerTest {
    private static final long PID = ProcessHandle.current().pid();

    @Test
    @Timeout(60)
    void hundredThousandGreenThreadsEachGetTheirOwnResults() throws Exception {
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config())) {
            Syscalls s = rt.syscalls();
            int n = 100_000;
            AtomicLong wrong = new AtomicLong();
            AtomicInteger offCarrier = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
                for (int i = 0; i < n; i++) {
                    long tag = i;
                    ex.execute(() -> {
                        try {
                            if (!rt.scheduler().isCarrierOfCurrentThread()) offCarrier.incrementAndGet();
                            // getpid checks the result path; lseek on a bad fd returns a value
                            // that is per call (the fd is the tag): a crossed completion shows.
                            if (s.getpid() != PID) wrong.incrementAndGet();
                            int badFd = 100_000 + (int) (tag % 50_000);
                            try {
                                s.lseek(badFd, 0, 0);
                                wrong.incrementAndGet();
                            } catch (dev.flexsc.ErrnoException e) {
                                if (!e.getMessage().contains(String.valueOf(badFd)) || e.errno() != 9) {
                                    wrong.incrementAndGet();
                                }
                            }
                            if (s.getpid() != PID) wrong.incrementAndGet();
                            done.incrementAndGet();
                        } catch (Throwable t) {
                            errors.add(t);
                        }
                    });
                }
            }
            assertTrue(errors.isEmpty(), () -> "first error: " + errors.peek());
            assertEquals(n, done.get());
            assertEquals(0, wrong.get(), "wrong results");
            assertEquals(0, offCarrier.get(), "tasks ran off the FlexSC carriers");
            // A thread ends just after its task's future completes: give the last ones a moment.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (rt.scheduler().stats().liveThreads() > 0 && System.nanoTime() < deadline) Thread.sleep(1);
            SchedulerStats st = rt.scheduler().stats();
            assertEquals(0, st.liveThreads(), st::toString);
            assertTrue(st.dispatches() >= n, st::toString);
            // The syscall side may add executed after the completions (EngineStats): wait for it.
            dev.flexsc.EngineStats es = TestSupport.statsOnceExecuted(rt.engine(), 3L * n);
            assertEquals(3L * n, es.executed(), es::toString);
            System.out.println("100k green threads x 3 calls: " + st + " " + rt.engine().stats());
        }
    }

    @Test
    @Timeout(60)
    void pipeRoundTripsBetweenGreenThreadsKeepTheirData() throws Exception {
        // Each reader may hold one syscall thread blocked in read(2): keep them fewer than the
        // pool so the writers' calls always find a free one.
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config().toBuilder().poolThreads(64).build())) {
            Syscalls s = rt.syscalls();
            int pairs = 48, messages = 200;
            List<int[]> pipes = new ArrayList<>();
            for (int i = 0; i < pairs; i++) pipes.add(TestSupport.pipe());
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
                for (int i = 0; i < pairs; i++) {
                    int[] p = pipes.get(i);
                    int id = i;
                    ex.execute(() -> { // reader first: it blocks in a FlexSC read until the writer runs
                        try {
                            for (int m = 0; m < messages; m++) {
                                byte[] want = String.format("%05d:%05d", id, m).getBytes(StandardCharsets.US_ASCII);
                                byte[] got = new byte[want.length];
                                int off = 0;
                                while (off < got.length) off += (int) s.read(p[0], got, off, got.length - off);
                                if (!java.util.Arrays.equals(want, got)) failures.add(new String(got) + " != " + new String(want));
                            }
                        } catch (IOException e) {
                            failures.add(e.toString());
                        }
                    });
                    ex.execute(() -> {
                        try {
                            for (int m = 0; m < messages; m++) {
                                s.write(p[1], String.format("%05d:%05d", id, m).getBytes(StandardCharsets.US_ASCII));
                            }
                        } catch (IOException e) {
                            failures.add(e.toString());
                        }
                    });
                }
            } finally {
                for (int[] p : pipes) TestSupport.closeDirect(p);
            }
            assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
        }
    }

    @Test
    @Timeout(60)
    void twoCarriersShareTheWorkAndCallsComplete() throws Exception {
        FlexscConfig cfg = TestSupport.config().toBuilder().userCpus(0, 1).build();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            Syscalls s = rt.syscalls();
            AtomicLong wrong = new AtomicLong();
            java.util.Set<Thread> carriersSeen = java.util.concurrent.ConcurrentHashMap.newKeySet();
            try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
                for (int i = 0; i < 20_000; i++) {
                    ex.execute(() -> {
                        try {
                            for (int k = 0; k < 5; k++) {
                                if (s.getpid() != PID) wrong.incrementAndGet();
                                carriersSeen.add(VirtualThreads.currentCarrier());
                            }
                        } catch (IOException e) {
                            wrong.incrementAndGet();
                        }
                    });
                }
            }
            assertEquals(0, wrong.get());
            // Both carriers ran threads (and any compensating carrier the monitor brought in while
            // one was held: on a loaded machine the kernel may keep a carrier off its CPU).
            assertTrue(carriersSeen.containsAll(rt.scheduler().carrierThreads()), "both carriers ran threads: " + carriersSeen);
            for (Thread c : carriersSeen) {
                assertTrue(rt.scheduler().carrierThreads().contains(c) || c.getName().contains("-compensator-"), c.toString());
            }
            SchedulerStats st = rt.scheduler().stats();
            assertEquals(2, st.carriers());
            System.out.println("two carriers: " + st);
        }
    }

    @Test
    @Timeout(30)
    void carriersArePinnedToTheUserCpus() throws Exception {
        try (FlexscScheduler sched = FlexscScheduler.open(TestSupport.config().toBuilder().userCpus(0).build())) {
            // The carrier applies its affinity as it starts: run one thread so it has.
            sched.startVirtualThread(() -> {}).join();
            assertEquals(1, sched.stats().pinned(), sched.stats()::toString);
            Thread carrier = sched.carrierThreads().getFirst();
            assertTrue(carrier.getName().endsWith("-cpu0"), carrier.getName());
        }
    }

    @Test
    @Timeout(30)
    void noCarrierIsLeftRunningAfterTheRuntimeCloses() throws Exception {
        FlexscRuntime rt = FlexscRuntime.open(TestSupport.config().toBuilder().userCpus(0, 1).build());
        List<Thread> carriers = rt.scheduler().carrierThreads();
        CountDownLatch ran = new CountDownLatch(100);
        ThreadFactory f = rt.threadFactory();
        for (int i = 0; i < 100; i++) {
            f.newThread(() -> {
                try {
                    rt.syscalls().getpid();
                    Thread.sleep(5); // a timer wake-up from outside the carriers
                    rt.syscalls().getpid();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                ran.countDown();
            }).start();
        }
        assertTrue(ran.await(20, TimeUnit.SECONDS));
        rt.close();
        for (Thread c : carriers) assertFalse(c.isAlive(), c + " still alive");
        assertTrue(rt.scheduler().isTerminated());
        assertFalse(rt.engine().isOpen());
        assertNull(f.newThread(() -> {}), "a closed scheduler's factory must refuse threads");
        rt.close(); // idempotent
    }

    @Test
    @Timeout(30)
    void closeWaitsForRunningThreadsAndRefusesClosingFromInside() throws Exception {
        FlexscScheduler sched = FlexscScheduler.open(TestSupport.config());
        AtomicInteger finished = new AtomicInteger();
        Throwable[] fromInside = new Throwable[1];
        sched.startVirtualThread(() -> {
            try {
                sched.close();
            } catch (Throwable t) {
                fromInside[0] = t;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            finished.incrementAndGet();
        });
        Thread.sleep(50);
        sched.close();
        assertEquals(1, finished.get(), "close() returned before its thread ended");
        assertInstanceOf(IllegalStateException.class, fromInside[0]);
        assertTrue(sched.isTerminated());
    }

    @Test
    @Timeout(60)
    void withoutAddOpensTheErrorNamesTheFlag() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), NoAddOpensMain.class.getName());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("UNAVAILABLE: FlexSC threads need the JVM flag --add-opens java.base/java.lang=ALL-UNNAMED"), out);
        assertTrue(out.contains("REFUSED: java.lang.UnsupportedOperationException: FlexSC threads need the JVM flag"
                + " --add-opens java.base/java.lang=ALL-UNNAMED"), out);
        assertTrue(out.contains("FLEXSC_CALL_OK"), "platform-thread FlexSC calls must still work: " + out);
    }

    /** Run in a JVM without --add-opens. */
    public static final class NoAddOpensMain {
        public static void main(String[] args) throws Exception {
            System.out.println("UNAVAILABLE: " + FlexscScheduler.unavailabilityCause());
            try {
                FlexscExecutors.newFixedThreadPool(2);
                System.out.println("NOT REFUSED");
            } catch (UnsupportedOperationException e) {
                System.out.println("REFUSED: " + e);
            }
            try (var e = dev.flexsc.Flexsc.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build())) {
                if (e.syscalls().getpid() == ProcessHandle.current().pid()) System.out.println("FLEXSC_CALL_OK");
            }
        }
    }
}
