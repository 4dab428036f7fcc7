package dev.flexsc.threads;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The {@link ExecutorService} contract (as the JSR-166 TCK's AbstractExecutorService and
 * Executors tests exercise it), for every kind of executor the factories make, run against
 * both {@code Executors} and {@code FlexscExecutors}: a difference fails the FlexSC row only.
 * Tasks here never need two threads at once unless the test says so, so single-thread
 * executors take part.
 */
class ExecutorServiceConformanceTest {
    /** A wait that ends only if something is wrong. */
    private static final long LONG_MS = 10_000;
    /** A wait meant to time out. */
    private static final long SHORT_MS = 50;

    /** A test run once per (API, executor kind). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dev.flexsc.threads.ExecutorServiceConformanceTest#executors")
    @Timeout(30)
    @interface EachExecutor {}

    static Stream<Arguments> executors() {
        return ExecutorsApi.both().stream().flatMap(api -> ExecutorsApi.kinds().stream().map(k -> Arguments.of(api, k)));
    }

    private static ExecutorService make(ExecutorsApi api, ExecutorsApi.Kind kind) {
        return kind.make().apply(api);
    }

    private static void await(CountDownLatch l) throws InterruptedException {
        assertTrue(l.await(LONG_MS, TimeUnit.MILLISECONDS), "timed out");
    }

    @EachExecutor
    void executeAndSubmitRunTheirTasks(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            CountDownLatch ran = new CountDownLatch(1);
            ex.execute(ran::countDown);
            await(ran);
            assertNull(ex.submit(() -> {}).get(LONG_MS, TimeUnit.MILLISECONDS));
            assertSame(Boolean.TRUE, ex.submit(() -> {}, Boolean.TRUE).get(LONG_MS, TimeUnit.MILLISECONDS));
            assertEquals("v", ex.submit(() -> "v").get(LONG_MS, TimeUnit.MILLISECONDS));
        }
    }

    @EachExecutor
    void nullTasksThrowNullPointerException(ExecutorsApi api, ExecutorsApi.Kind kind) {
        try (ExecutorService ex = make(api, kind)) {
            assertThrows(NullPointerException.class, () -> ex.execute(null));
            assertThrows(NullPointerException.class, () -> ex.submit((Runnable) null));
            assertThrows(NullPointerException.class, () -> ex.submit((Runnable) null, 1));
            assertThrows(NullPointerException.class, () -> ex.submit((Callable<?>) null));
            assertThrows(NullPointerException.class, () -> ex.invokeAll(null));
            assertThrows(NullPointerException.class, () -> ex.invokeAny(null));
            List<Callable<String>> withNull = new ArrayList<>();
            withNull.add(() -> "a");
            withNull.add(null);
            assertThrows(NullPointerException.class, () -> ex.invokeAll(withNull));
            // invokeAny may return before it reaches a null element: the first task waits.
            CountDownLatch never = new CountDownLatch(1);
            withNull.set(0, () -> {
                never.await();
                return "a";
            });
            assertThrows(NullPointerException.class, () -> ex.invokeAny(withNull));
            never.countDown();
        }
    }

    @EachExecutor
    void invokeAnyReturnsASuccessOrReportsTheFailure(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            assertThrows(IllegalArgumentException.class, () -> ex.invokeAny(List.of()));
            assertEquals("ok", ex.invokeAny(List.<Callable<String>>of(() -> {
                throw new IllegalStateException("first fails");
            }, () -> "ok")));
            ExecutionException e = assertThrows(ExecutionException.class, () -> ex.invokeAny(List.<Callable<String>>of(() -> {
                throw new ArithmeticException("all fail");
            })));
            assertInstanceOf(ArithmeticException.class, e.getCause());
            CountDownLatch never = new CountDownLatch(1);
            assertThrows(TimeoutException.class, () -> ex.invokeAny(List.<Callable<String>>of(() -> {
                never.await();
                return "late";
            }), SHORT_MS, TimeUnit.MILLISECONDS));
            never.countDown();
        }
    }

    @EachExecutor
    void invokeAllReturnsEveryOutcomeInOrder(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            assertEquals(List.of(), ex.invokeAll(List.of()));
            List<Callable<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                int v = i;
                tasks.add(() -> {
                    if (v == 3) throw new IllegalStateException("task 3");
                    return v * 10;
                });
            }
            List<Future<Integer>> fs = ex.invokeAll(tasks);
            assertEquals(10, fs.size());
            for (int i = 0; i < 10; i++) {
                Future<Integer> f = fs.get(i);
                assertTrue(f.isDone());
                if (i == 3) {
                    assertEquals(Future.State.FAILED, f.state());
                    assertInstanceOf(IllegalStateException.class, f.exceptionNow());
                    assertThrows(ExecutionException.class, f::get);
                } else {
                    assertEquals(Future.State.SUCCESS, f.state());
                    assertEquals(i * 10, f.resultNow());
                }
            }
        }
    }

    @EachExecutor
    void timedInvokeAllCancelsWhatDidNotFinish(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            CountDownLatch never = new CountDownLatch(1);
            List<Callable<String>> tasks = List.of(() -> "quick", () -> {
                never.await();
                return "never";
            });
            List<Future<String>> fs = ex.invokeAll(tasks, 200, TimeUnit.MILLISECONDS);
            assertEquals(2, fs.size());
            assertEquals("quick", fs.get(0).get());
            assertTrue(fs.get(1).isCancelled());
            assertThrows(CancellationException.class, () -> fs.get(1).get());
            never.countDown();
        }
    }

    @EachExecutor
    void invokeAllOfAnInterruptedCallerThrowsInterruptedException(ExecutorsApi api, ExecutorsApi.Kind kind)
            throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            CountDownLatch never = new CountDownLatch(1);
            Collection<Callable<String>> tasks = List.of(() -> {
                never.await();
                return "x";
            });
            Thread.currentThread().interrupt();
            try {
                assertThrows(InterruptedException.class, () -> ex.invokeAll(tasks));
            } finally {
                Thread.interrupted(); // whatever the outcome, the test thread goes on uninterrupted
                never.countDown();
            }
        }
    }

    @EachExecutor
    void shutdownRunsQueuedTasksAndRejectsNewOnes(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        ExecutorService ex = make(api, kind);
        assertFalse(ex.isShutdown());
        assertFalse(ex.isTerminated());
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 4; i++) {
            ex.execute(() -> {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    return;
                }
                ran.incrementAndGet();
            });
        }
        ex.shutdown();
        assertTrue(ex.isShutdown());
        assertFalse(ex.isTerminated());
        assertThrows(RejectedExecutionException.class, () -> ex.execute(() -> {}));
        assertThrows(RejectedExecutionException.class, () -> ex.submit(() -> "x"));
        assertFalse(ex.awaitTermination(SHORT_MS, TimeUnit.MILLISECONDS), "terminated with tasks blocked");
        gate.countDown();
        assertTrue(ex.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
        assertTrue(ex.isTerminated());
        assertEquals(4, ran.get());
    }

    @EachExecutor
    void shutdownNowInterruptsRunningTasks(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        ExecutorService ex = make(api, kind);
        Blocker blocker = new Blocker(1);
        ex.execute(blocker.runnable());
        blocker.awaitStarted();
        ex.shutdownNow();
        assertTrue(ex.isShutdown());
        assertTrue(ex.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
        assertTrue(blocker.allInterrupted());
    }

    @EachExecutor
    void closeWaitsAndAnInterruptedCloseStopsTheTasks(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        ExecutorService ex = make(api, kind);
        AtomicInteger done = new AtomicInteger();
        ex.execute(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            done.incrementAndGet();
        });
        ex.close();
        assertTrue(ex.isTerminated());
        assertEquals(1, done.get());

        ExecutorService blocked = make(api, kind);
        Blocker blocker = new Blocker(1);
        blocked.execute(blocker.runnable());
        blocker.awaitStarted();
        Thread.currentThread().interrupt();
        blocked.close(); // interrupted while waiting: shutdownNow, wait, re-assert the interrupt
        assertTrue(Thread.interrupted(), "close() cleared the caller's interrupt status");
        assertTrue(blocked.isTerminated());
        assertTrue(blocker.allInterrupted());
    }

    @EachExecutor
    void cancelTrueInterruptsAndTheFutureReportsIt(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            Blocker blocker = new Blocker(1);
            Future<String> f = ex.submit(blocker.callable());
            blocker.awaitStarted();
            assertEquals(Future.State.RUNNING, f.state());
            assertThrows(TimeoutException.class, () -> f.get(SHORT_MS, TimeUnit.MILLISECONDS));
            assertTrue(f.cancel(true));
            assertTrue(f.isCancelled());
            assertTrue(f.isDone());
            assertEquals(Future.State.CANCELLED, f.state());
            assertThrows(CancellationException.class, f::get);
            assertThrows(IllegalStateException.class, f::resultNow);
            blocker.awaitInterrupted();
        }
    }

    @EachExecutor
    void cancelFalseDoesNotInterruptARunningTask(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
            AtomicReference<String> outcome = new AtomicReference<>();
            CountDownLatch finished = new CountDownLatch(1);
            Future<?> f = ex.submit(() -> {
                started.countDown();
                try {
                    release.await();
                    outcome.set("ran to the end");
                } catch (InterruptedException e) {
                    outcome.set("interrupted");
                }
                finished.countDown();
            });
            await(started);
            assertTrue(f.cancel(false));
            assertTrue(f.isCancelled());
            release.countDown();
            await(finished);
            assertEquals("ran to the end", outcome.get());
        }
    }

    @EachExecutor
    void aFailedTaskReportsItsExceptionAndTheExecutorGoesOn(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            Future<?> f = ex.submit(() -> {
                throw new UnsupportedOperationException("boom");
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(LONG_MS, TimeUnit.MILLISECONDS));
            assertInstanceOf(UnsupportedOperationException.class, e.getCause());
            assertEquals(Future.State.FAILED, f.state());
            assertEquals(42, ex.submit(() -> 42).get(LONG_MS, TimeUnit.MILLISECONDS));
        }
    }

    @EachExecutor
    void submitHappensBeforeTheTaskAndTheTaskBeforeGet(ExecutorsApi api, ExecutorsApi.Kind kind) throws Exception {
        try (ExecutorService ex = make(api, kind)) {
            int[] box = new int[1]; // plain: ordered only by the executor's happens-before edges
            for (int i = 1; i <= 200; i++) {
                box[0] = i;
                int expect = i;
                int seen = ex.submit(() -> {
                    int v = box[0];
                    box[0] = -expect;
                    return v;
                }).get(LONG_MS, TimeUnit.MILLISECONDS);
                assertEquals(expect, seen);
                assertEquals(-expect, box[0]);
            }
        }
    }
}
