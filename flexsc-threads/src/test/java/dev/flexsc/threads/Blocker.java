package dev.flexsc.threads;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tasks that wait until they are interrupted, and latches to see them start and see the interrupt. */
final class Blocker {
    private final CountDownLatch started, interrupted;

    /** For {@code tasks} tasks. */
    Blocker(int tasks) {
        started = new CountDownLatch(tasks);
        interrupted = new CountDownLatch(tasks);
    }

    /** Waits until interrupted; returns "interrupted". */
    Callable<String> callable() {
        return () -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
                return "not interrupted";
            } catch (InterruptedException e) {
                interrupted.countDown();
                return "interrupted";
            }
        };
    }

    Runnable runnable() {
        Callable<String> c = callable();
        return () -> {
            try {
                c.call();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
    }

    void awaitStarted() throws InterruptedException {
        assertTrue(started.await(10, TimeUnit.SECONDS), "the blocking tasks did not start");
    }

    void awaitInterrupted() throws InterruptedException {
        assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the blocking tasks were not interrupted");
    }

    boolean allInterrupted() {
        return interrupted.getCount() == 0;
    }
}
