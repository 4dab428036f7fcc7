package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;

import static dev.flexsc.PollFlags.POLLIN;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The readiness wait of a thread without a carrier ring: its {@code struct pollfd} is the
 * thread's own, made once, so a wait allocates nothing (it made and closed an Arena per wait),
 * and two threads waiting at once on different descriptors each see their own answer.
 */
class SlicedPollTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    @Test
    @Timeout(120)
    void aWaitAllocatesNothing() throws Exception {
        assertTrue(THREADS.isThreadAllocatedMemorySupported(), "the JVM counts allocation per thread");
        THREADS.setThreadAllocatedMemoryEnabled(true);
        int[] p = TestSupport.pipe();
        try (UringEngine e = UringEngineTest.open(Engine.IO_URING, UringEngineTest.config(Engine.IO_URING));
             Arena a = Arena.ofConfined()) {
            assertEquals(1, DirectSyscalls.raw(SyscallTable.WRITE, p[1], a.allocate(1).address(), 1, 0, 0, 0));
            for (int i = 0; i < 50_000; i++) assertEquals(POLLIN, SlicedPoll.await(e, p[0], POLLIN, 1000));
            int n = 20_000;
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < n; i++) {
                if (SlicedPoll.await(e, p[0], POLLIN, 1000) != POLLIN) fail("a readable pipe was not reported readable");
            }
            double perWait = (THREADS.getCurrentThreadAllocatedBytes() - before) / (double) n;
            assertTrue(perWait < 1, "bytes allocated per wait: " + perWait);
        } finally {
            TestSupport.closeDirect(p);
        }
    }

    @Test
    @Timeout(60)
    void threadsWaitingAtOnceEachSeeTheirOwnDescriptor() throws Exception {
        int[] ready = TestSupport.pipe(), idle = TestSupport.pipe();
        try (UringEngine e = UringEngineTest.open(Engine.IO_URING, UringEngineTest.config(Engine.IO_URING));
             Arena a = Arena.ofConfined()) {
            assertEquals(1, DirectSyscalls.raw(SyscallTable.WRITE, ready[1], a.allocate(1).address(), 1, 0, 0, 0));
            long[] idleResult = {-1};
            // Waits on the idle pipe across many slices while this thread polls the ready one.
            Thread t = new Thread(() -> {
                try {
                    idleResult[0] = SlicedPoll.await(e, idle[0], POLLIN, 3 * SlicedPoll.SLICE_MS);
                } catch (dev.flexsc.EngineClosedException x) {
                    throw new AssertionError(x);
                }
            });
            t.start();
            for (int i = 0; i < 1000; i++) assertEquals(POLLIN, SlicedPoll.await(e, ready[0], POLLIN, 1000));
            t.join();
            assertEquals(0, idleResult[0], "the idle pipe's wait timed out");
        } finally {
            TestSupport.closeDirect(ready);
            TestSupport.closeDirect(idle);
        }
    }
}
