package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.*;

/** The JFR event dev.flexsc.BatchReaped and the FlexscStats MXBean, read the way a user would. */
class ObservabilityTest {
    private static final int THREADS = 64, CALLS = 500;

    private static FlexscConfig config() {
        return FlexscConfig.builder().engine(Engine.SYSCALL_THREADS)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build(); // tests the engine, not the call policy
    }

    /** THREADS green threads, CALLS getpid each, all started together so that completions batch. */
    private static void run(FlexscRuntime rt) throws Exception {
        long pid = ProcessHandle.current().pid();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < THREADS; t++) {
            ts.add(rt.scheduler().startVirtualThread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < CALLS; i++) assertEquals(pid, rt.syscalls().getpid());
                } catch (Throwable x) {
                    errors.add(x);
                }
            }));
        }
        go.countDown();
        for (Thread t : ts) t.join();
        if (!errors.isEmpty()) fail(errors.get(0));
    }

    @Test
    @Timeout(120)
    void batchReapedEventsAccountForEveryReapedCall(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rec.jfr");
        long reaped;
        try (Recording rec = new Recording()) {
            rec.enable("dev.flexsc.BatchReaped");
            rec.start();
            try (FlexscRuntime rt = FlexscRuntime.open(config())) {
                run(rt);
                reaped = rt.scheduler().stats().reaped();
            }
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.flexsc.BatchReaped")).toList();
        assertTrue(reaped > 0, "no call was reaped by a carrier: the test did not exercise the path");
        assertFalse(events.isEmpty(), "no dev.flexsc.BatchReaped event recorded");
        long sum = 0;
        int maxSize = 0;
        for (RecordedEvent e : events) {
            int size = e.getInt("size");
            assertTrue(size >= 1 && size <= THREADS, "size " + size);
            assertEquals("SYSCALL_THREADS", e.getString("engine"));
            assertTrue(e.getInt("group") >= 0, "one syscall group per call: " + e);
            assertTrue(e.getInt("stillPending") >= 0 && e.getInt("stillPending") < THREADS, e.toString());
            long latency = e.getDuration("latency").toNanos();
            assertTrue(latency > 0 && latency < 60_000_000_000L, "latency " + latency + " ns");
            // A carrier, or a compensator standing in for a held one (CarrierMonitor): both reap.
            // The first reap with a recording on registers the event type, tens of milliseconds
            // of CPU with a green thread mounted, which can make its carrier look held.
            String reaper = e.getThread().getJavaName();
            assertTrue(reaper.contains("-carrier-") || reaper.contains("-compensator-"), "committed on a carrier: " + e.getThread());
            sum += size;
            maxSize = Math.max(maxSize, size);
        }
        // One event per batch, committed with the counter: the events add up to the reaped calls.
        assertEquals(reaped, sum, "events' sizes against the scheduler's reaped counter");
        System.out.printf("BatchReaped: %d events, %d calls, largest batch %d%n", events.size(), sum, maxSize);
    }

    @Test
    @Timeout(120)
    void flexscStatsMXBeanReportsConsistentCountersAndGoesAwayAtClose() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name;
        try (FlexscRuntime rt = FlexscRuntime.open(config())) {
            name = rt.scheduler().statsObjectName();
            assertEquals(new ObjectName("dev.flexsc:type=FlexscStats,name=" + rt.scheduler().name()), name);
            assertTrue(server.isRegistered(name), name + " not registered while the runtime is open");
            run(rt);
            // With several carriers a thread can end (and run() return) while the carrier that
            // unparked it is still recording that batch: wait for the counters to settle.
            long settle = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < settle && (Long) server.getAttribute(name, "ReapBatches")
                    != java.util.Arrays.stream((long[]) server.getAttribute(name, "ReapBatchSizeHistogram")).sum()) {
                Thread.sleep(1);
            }
            long posted = (Long) server.getAttribute(name, "CallsPosted");
            long executed = (Long) server.getAttribute(name, "CallsExecuted");
            long reaped = (Long) server.getAttribute(name, "Reaped");
            long batches = (Long) server.getAttribute(name, "ReapBatches");
            long[] histogram = (long[]) server.getAttribute(name, "ReapBatchSizeHistogram");
            double mean = (Double) server.getAttribute(name, "MeanReapBatchSize");
            long sleeps = (Long) server.getAttribute(name, "CarrierSleeps");
            long idle = (Long) server.getAttribute(name, "CarrierIdleNanos");
            assertEquals("SYSCALL_THREADS", server.getAttribute(name, "Engine"));
            assertEquals(rt.scheduler().name(), server.getAttribute(name, "Name"));
            assertEquals(config().userCpus().length, server.getAttribute(name, "Carriers"));
            // Every call made went through the engine (posted = executed once all returned);
            // some completed within the caller's spin and were never handed to a carrier.
            assertTrue(posted >= (long) THREADS * CALLS, "posted " + posted);
            assertEquals(posted, executed);
            assertTrue(reaped > 0 && reaped <= posted, "reaped " + reaped + " of " + posted);
            assertTrue(batches > 0 && batches <= reaped, "batches " + batches);
            assertEquals(batches, java.util.Arrays.stream(histogram).sum(), "histogram sums to the batches");
            assertEquals((double) reaped / batches, mean, 1e-9);
            assertTrue((Long) server.getAttribute(name, "Dispatches") >= reaped);
            assertTrue((Double) server.getAttribute(name, "MeanExecutorBatchSize") >= 1.0);
            if (sleeps > 0) assertTrue(idle > 0, "carriers slept " + sleeps + " times but no idle time");
            assertEquals(rt.engine().stats().submitted(), posted);
            // EXCEPTIONLESS (config()): the policy made no call directly.
            assertEquals(0L, server.getAttribute(name, "CallsDirect"));
            assertEquals(rt.engine().stats().direct(), server.getAttribute(name, "CallsDirect"));
            System.out.printf("FlexscStats %s: posted %d, reaped %d in %d batches (mean %.1f), histogram %s,"
                    + " %d carrier sleeps, %.1f ms idle%n", name, posted, reaped, batches, mean,
                    java.util.Arrays.toString(histogram), sleeps, idle / 1e6);
        }
        assertFalse(server.isRegistered(name), name + " still registered after close");
    }

    @Test
    @Timeout(60)
    void carrierIdleTimeGrowsWhileTheCarriersSleep() throws Exception {
        // An idle runtime: its carriers go to sleep once and stay asleep. The idle time must
        // grow with the wall clock, not wait for a sleep to end (it was summed only at the
        // end of each sleep, so a quiet server showed sleeps but no idle time).
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (FlexscRuntime rt = FlexscRuntime.open(config())) {
            ObjectName name = rt.scheduler().statsObjectName();
            run(rt);
            int carriers = (Integer) server.getAttribute(name, "Carriers");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (rt.scheduler().sleepers.get() < carriers && System.nanoTime() < deadline) Thread.sleep(1);
            assertEquals(carriers, rt.scheduler().sleepers.get(), "every carrier asleep within 10 s");
            long sleeps0 = (Long) server.getAttribute(name, "CarrierSleeps");
            long idle0 = (Long) server.getAttribute(name, "CarrierIdleNanos");
            long t0 = System.nanoTime();
            Thread.sleep(200);
            long idle1 = (Long) server.getAttribute(name, "CarrierIdleNanos");
            long slept = System.nanoTime() - t0;
            long sleeps1 = (Long) server.getAttribute(name, "CarrierSleeps");
            System.out.printf("%d carriers asleep: idle time grew %.1f ms in %.1f ms, %d new sleeps%n",
                    carriers, (idle1 - idle0) / 1e6, slept / 1e6, sleeps1 - sleeps0);
            // Each carrier that stayed asleep adds the whole interval; one that woke and went
            // back to sleep meanwhile (a timed wait ending) loses only the moment it was awake.
            assertTrue(idle1 - idle0 >= carriers * (slept / 2), "idle time grew " + (idle1 - idle0)
                    + " ns in " + slept + " ns with " + carriers + " carriers asleep");
        }
    }

    @Test
    @Timeout(120)
    void onIoUringCallsPostedCountsTheRingAndFallbackCallsAndCallsDirectTheRest(@TempDir Path dir) throws Exception {
        // getpid has no ring operation: IO_URING makes it directly, even under EXCEPTIONLESS,
        // so CallsDirect counts it. A read longer than an SQE can say goes to the
        // SYSCALL_THREADS fallback: posted, as the ring's pwrites are.
        Engine kind = Engine.IO_URING;
        dev.flexsc.nativeimpl.TestSupport.assumeAvailable(kind);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        FlexscConfig cfg = FlexscConfig.builder().engine(kind).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg); java.lang.foreign.Arena a = java.lang.foreign.Arena.ofShared()) {
            ObjectName name = rt.scheduler().statsObjectName();
            run(rt); // THREADS x CALLS getpid, all direct
            int fd = rt.syscalls().openat(dev.flexsc.Syscalls.AT_FDCWD, dir.resolve("f").toString(),
                    dev.flexsc.OpenFlags.O_RDWR | dev.flexsc.OpenFlags.O_CREAT, 0600);
            int writes = 50;
            int[] p = dev.flexsc.nativeimpl.TestSupport.pipe();
            java.lang.foreign.MemorySegment buf = a.allocate(16);
            Thread w = rt.scheduler().startVirtualThread(() -> {
                try {
                    for (int i = 0; i < writes; i++) assertEquals(8L, rt.syscalls().pwrite(fd, new byte[8], 0, 8, i * 8L));
                    assertEquals(1L, dev.flexsc.nativeimpl.DirectSyscalls.raw(dev.flexsc.abi.SyscallTable.WRITE, p[1],
                            buf.address(), 1, 0, 0, 0));
                    assertEquals(1L, ((dev.flexsc.nativeimpl.uring.UringEngine) rt.engine()).invoke(
                            dev.flexsc.abi.SyscallTable.READ, p[0], buf.address(), 3L << 30, 0, 0, 0));
                } catch (java.io.IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            });
            w.join();
            rt.syscalls().close(fd);
            dev.flexsc.nativeimpl.TestSupport.closeDirect(p);
            var u = ((dev.flexsc.nativeimpl.uring.UringEngine) rt.engine()).uringStats();
            long onRing = rt.engine().stats().submitted(), onFallback = u.fallback().submitted();
            assertEquals(1L, onFallback, "the long read on the fallback: " + u);
            assertTrue(onRing >= writes, "pwrite calls on the ring: " + rt.engine().stats());
            assertTrue(rt.engine().stats().direct() >= (long) THREADS * CALLS, "getpid made directly: " + rt.engine().stats());
            assertEquals(rt.engine().stats().direct(), server.getAttribute(name, "CallsDirect"));
            long posted = (Long) server.getAttribute(name, "CallsPosted");
            assertEquals(onRing + onFallback, posted, "CallsPosted = ring + fallback");
            assertEquals(rt.engine().stats().posted(), posted, "CallsPosted = EngineStats.posted under EXCEPTIONLESS");
            // The counts of executed calls may trail their completions by a moment (EngineStats).
            long deadline = System.nanoTime() + 10_000_000_000L;
            while ((Long) server.getAttribute(name, "CallsExecuted") < posted && System.nanoTime() < deadline) Thread.sleep(1);
            assertEquals(posted, server.getAttribute(name, "CallsExecuted"), "every posted call executed, once");
        }
    }

    @Test
    @Timeout(60)
    void theDefaultEngineUnwrapsToTheEngineBehindIt() {
        // The default engine is a shared handle (its close() does nothing): engine-specific
        // statistics (the MXBean's fallback counts, leak checks of io_uring rings) must reach
        // the engine it stands for, not test the handle's own class.
        dev.flexsc.Flexsc.syscalls(); // opens the default engine
        dev.flexsc.FlexscEngine e = dev.flexsc.Flexsc.defaultEngineIfOpen();
        assertNotNull(e, "Flexsc.syscalls() opened the default engine");
        assertSame(e, e.unwrap(dev.flexsc.FlexscEngine.class), "the handle is a FlexscEngine itself");
        assertNull(e.unwrap(String.class));
        boolean uring = e.engine() == dev.flexsc.Engine.IO_URING || e.engine() == dev.flexsc.Engine.IO_URING_SQPOLL;
        dev.flexsc.nativeimpl.uring.UringEngine u = e.unwrap(dev.flexsc.nativeimpl.uring.UringEngine.class);
        assertEquals(uring, u != null, e.engine() + ": unwrap(UringEngine.class) gave " + u);
        if (u != null) assertEquals(e.engine(), u.engine());
    }

    @Test
    @Timeout(120)
    void theDefaultSchedulersBeanReportsTheDefaultEngine(@TempDir Path dir) throws Exception {
        // FlexscExecutors' threads run on the default scheduler and call Flexsc.syscalls():
        // no runtime attaches an engine, so the bean follows the default engine once it is open.
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = FlexscScheduler.defaultScheduler().statsObjectName();
        assertTrue(server.isRegistered(name), name + " not registered");
        dev.flexsc.Syscalls sys = dev.flexsc.Flexsc.syscalls(); // opens the default engine
        dev.flexsc.FlexscEngine e = dev.flexsc.Flexsc.defaultEngineIfOpen();
        assertNotNull(e, "Flexsc.syscalls() opened the default engine");
        long before = (Long) server.getAttribute(name, "CallsPosted") + (Long) server.getAttribute(name, "CallsDirect");
        int fd = sys.openat(dev.flexsc.Syscalls.AT_FDCWD, dir.resolve("f").toString(), dev.flexsc.OpenFlags.O_RDWR | dev.flexsc.OpenFlags.O_CREAT, 0600);
        java.util.concurrent.ExecutorService pool = FlexscExecutors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Long>> fs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                long off = i * 8L;
                // pwrite64 runs on every engine's exception-less path (the ring, for io_uring)
                fs.add(pool.submit(() -> dev.flexsc.Flexsc.syscalls().pwrite(fd, new byte[8], 0, 8, off)));
            }
            for (var f : fs) assertEquals(8L, (long) f.get());
        } finally {
            pool.shutdown();
            sys.close(fd);
        }
        assertEquals(e.engine().name(), server.getAttribute(name, "Engine"));
        long after = (Long) server.getAttribute(name, "CallsPosted") + (Long) server.getAttribute(name, "CallsDirect");
        // Each pwrite was either posted (CallsPosted) or made directly by the policy (CallsDirect).
        assertTrue(after - before >= 100, "the 100 pwrite calls are counted: " + before + " -> " + after);
    }
}
