package dev.flexsc.threads;

import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Test helper: interrupting a thread blocked in a system call. */
final class BlockedCalls {
    private BlockedCalls() {}

    /** A call that blocks until interrupted (a read on an empty pipe, an accept with no client). */
    @FunctionalInterface
    interface BlockingCall {
        void run() throws Exception;
    }

    /**
     * Starts a thread of {@code factory} that makes {@code call}, checks that it blocks, then
     * interrupts it: the call must fail with InterruptedIOException within a second and the
     * thread keep its interrupt status. {@code what} names the call in the failures.
     */
    static void assertInterruptCancels(ThreadFactory factory, String what, BlockingCall call) throws InterruptedException {
        Throwable[] result = new Throwable[1];
        boolean[] interruptKept = new boolean[1];
        CountDownLatch started = new CountDownLatch(1);
        Thread t = factory.newThread(() -> {
            started.countDown();
            try {
                call.run();
                result[0] = new AssertionError(what + " returned without blocking");
            } catch (Throwable x) {
                result[0] = x;
            }
            interruptKept[0] = Thread.currentThread().isInterrupted();
        });
        t.start();
        started.await();
        Thread.sleep(200); // let the call reach the engine and block there
        assertTrue(t.isAlive(), what + " did not block");
        long t0 = System.nanoTime();
        t.interrupt();
        t.join(5000);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        // join() orders the thread's writes to result and interruptKept before these reads
        assertFalse(t.isAlive(), "interrupt did not cancel the blocked " + what);
        assertInstanceOf(InterruptedIOException.class, result[0]);
        assertTrue(interruptKept[0], "the interrupt status was not kept");
        assertTrue(ms < 5000, "cancel took " + ms + " ms"); // liveness: a cancel that fails never completes
    }
}
