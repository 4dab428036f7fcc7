package dev.flexsc.threads;

import dev.flexsc.Flexsc;
import dev.flexsc.nativeimpl.DirectSyscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import dev.flexsc.nativeimpl.TestSupport;

/** The ExecutorService contract of every FlexscExecutors factory, on the default scheduler. */
class FlexscExecutorsTest {
    private static final long PID = ProcessHandle.current().pid();

    static {
        // These tests make their calls through the shared default engine (Flexsc.syscalls(),
        // created from system properties on first use, no other test class uses it) and claim
        // exception-less calls: pin the policy that posts every call.
        if (System.getProperty("flexsc.policy") == null) System.setProperty("flexsc.policy", "EXCEPTIONLESS");
    }

    /** @param oneAtATime the executor runs one task at a time (a second starts only once the first ended) */
    record Factory(String name, Supplier<ExecutorService> make, boolean oneAtATime) {
        Factory(String name, Supplier<ExecutorService> make) {
            this(name, make, false);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Factory> factories() {
        return Stream.of(
                new Factory("newFixedThreadPool(3)", () -> FlexscExecutors.newFixedThreadPool(3)),
                new Factory("newFixedThreadPool(3, threadFactory())",
                        () -> FlexscExecutors.newFixedThreadPool(3, FlexscExecutors.threadFactory())),
                new Factory("newCachedThreadPool()", FlexscExecutors::newCachedThreadPool),
                new Factory("newCachedThreadPool(threadFactory())",
                        () -> FlexscExecutors.newCachedThreadPool(FlexscExecutors.threadFactory())),
                new Factory("newSingleThreadExecutor()", FlexscExecutors::newSingleThreadExecutor, true),
                new Factory("newSingleThreadExecutor(defaultThreadFactory())",
                        () -> FlexscExecutors.newSingleThreadExecutor(FlexscExecutors.defaultThreadFactory()), true),
                new Factory("newScheduledThreadPool(2)", () -> FlexscExecutors.newScheduledThreadPool(2)),
                new Factory("newScheduledThreadPool(2, threadFactory())",
                        () -> FlexscExecutors.newScheduledThreadPool(2, FlexscExecutors.threadFactory())),
                new Factory("newSingleThreadScheduledExecutor()", FlexscExecutors::newSingleThreadScheduledExecutor, true),
                new Factory("newSingleThreadScheduledExecutor(threadFactory())",
                        () -> FlexscExecutors.newSingleThreadScheduledExecutor(FlexscExecutors.threadFactory()), true),
                new Factory("newWorkStealingPool(3)", () -> FlexscExecutors.newWorkStealingPool(3)),
                new Factory("newWorkStealingPool()", FlexscExecutors::newWorkStealingPool),
                new Factory("newVirtualThreadPerTaskExecutor()", FlexscExecutors::newVirtualThreadPerTaskExecutor),
                new Factory("newThreadPerTaskExecutor(threadFactory())",
                        () -> FlexscExecutors.newThreadPerTaskExecutor(FlexscExecutors.threadFactory())),
                new Factory("unconfigurableExecutorService(newFixedThreadPool(2))",
                        () -> FlexscExecutors.unconfigurableExecutorService(FlexscExecutors.newFixedThreadPool(2))),
                new Factory("unconfigurableScheduledExecutorService(newScheduledThreadPool(2))",
                        () -> FlexscExecutors.unconfigurableScheduledExecutorService(
                                FlexscExecutors.newScheduledThreadPool(2))));
    }

    private static boolean onFlexscThread() {
        return Thread.currentThread().isVirtual() && FlexscScheduler.defaultScheduler().isCarrierOfCurrentThread();
    }

    @ParameterizedTest
    @MethodSource("factories")
    @Timeout(30)
    void tasksRunOnFlexscThreadsAndMakeExceptionLessCalls(Factory f) throws Exception {
        try (ExecutorService ex = f.make().get()) {
            long posted = Flexsc.defaultEngine().stats().posted();
            // A write (getpid has no io_uring operation: every engine posts a write, under the
            // tests' EXCEPTIONLESS policy).
            int devNull = DirectSyscalls.syscalls().openat(dev.flexsc.Syscalls.AT_FDCWD, "/dev/null",
                    dev.flexsc.OpenFlags.O_WRONLY | dev.flexsc.OpenFlags.O_CLOEXEC, 0);
            Future<Long> r = ex.submit(() -> {
                assertTrue(onFlexscThread(), "not a FlexSC virtual thread: " + Thread.currentThread());
                return Flexsc.syscalls().write(devNull, new byte[7]);
            });
            assertEquals(7L, r.get(10, TimeUnit.SECONDS));
            DirectSyscalls.syscalls().close(devNull);
            assertTrue(Flexsc.defaultEngine().stats().posted() > posted, "the call was not posted");
            Future<?> failing = ex.submit(() -> {
                throw new IllegalStateException("boom");
            });
            ExecutionException ee = assertThrows(ExecutionException.class, () -> failing.get(10, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, ee.getCause());
        }
    }

    @ParameterizedTest
    @MethodSource("factories")
    @Timeout(30)
    void invokeAllAndInvokeAny(Factory f) throws Exception {
        try (ExecutorService ex = f.make().get()) {
            List<Callable<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int v = i;
                tasks.add(() -> {
                    Flexsc.syscalls().getpid();
                    return v * v;
                });
            }
            List<Future<Integer>> fs = ex.invokeAll(tasks);
            for (int i = 0; i < 20; i++) {
                assertTrue(fs.get(i).isDone());
                assertEquals(i * i, fs.get(i).get());
            }
            List<Callable<Integer>> some = List.of(
                    () -> { throw new IllegalStateException("fails"); },
                    () -> 7,
                    () -> { Thread.sleep(10_000); return 8; });
            assertEquals(7, ex.invokeAny(some));
            assertThrows(ExecutionException.class, () -> ex.invokeAny(List.<Callable<Integer>>of(() -> {
                throw new IllegalStateException("all fail");
            })));
        }
    }

    @ParameterizedTest
    @MethodSource("factories")
    @Timeout(30)
    void shutdownLetsSubmittedTasksFinishAndRejectsNewOnes(Factory f) throws Exception {
        ExecutorService ex = f.make().get();
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            ex.execute(() -> {
                try {
                    Thread.sleep(20);
                    Flexsc.syscalls().getpid();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                ran.incrementAndGet();
            });
        }
        ex.shutdown();
        assertTrue(ex.isShutdown());
        assertThrows(RejectedExecutionException.class, () -> ex.execute(() -> {}));
        assertTrue(ex.awaitTermination(20, TimeUnit.SECONDS));
        assertTrue(ex.isTerminated());
        assertEquals(10, ran.get());
    }

    @ParameterizedTest
    @MethodSource("factories")
    @Timeout(30)
    void shutdownNowInterruptsATaskBlockedInAFlexscRead(Factory f) throws Exception {
        int[] p = TestSupport.pipe();
        try {
            ExecutorService ex = f.make().get();
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            ex.execute(() -> {
                started.countDown();
                try {
                    Flexsc.syscalls().read(p[0], new byte[8]);
                    outcome.set(new AssertionError("read returned"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            assertTrue(started.await(10, TimeUnit.SECONDS));
            Thread.sleep(100); // the read is now blocked in a syscall thread
            ex.shutdownNow();
            assertTrue(ex.awaitTermination(10, TimeUnit.SECONDS), "shutdownNow did not end the blocked task");
            assertInstanceOf(InterruptedIOException.class, outcome.get());
        } finally {
            TestSupport.closeDirect(p);
        }
    }

    @ParameterizedTest
    @MethodSource("factories")
    @Timeout(60)
    void cancelTrueInterruptsAndCancelFalseDoesNot(Factory f) throws Exception {
        int[] p = TestSupport.pipe();
        try (ExecutorService ex = f.make().get()) {
            // Both tasks start, except on an executor that runs one at a time: the second then
            // starts only after the first ended.
            CountDownLatch started = new CountDownLatch(f.oneAtATime() ? 1 : 2);
            AtomicReference<Throwable> interrupted = new AtomicReference<>();
            Future<?> blocked = ex.submit(() -> {
                started.countDown();
                try {
                    Flexsc.syscalls().read(p[0], new byte[8]);
                } catch (Throwable t) {
                    interrupted.set(t);
                }
                return null;
            });
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger finished = new AtomicInteger();
            Future<?> notInterrupted = ex.submit(() -> {
                started.countDown();
                release.await(); // cancel(false) must not interrupt this wait
                finished.incrementAndGet();
                return null;
            });
            assertTrue(started.await(30, TimeUnit.SECONDS), "the tasks did not start");
            Thread.sleep(50);
            assertTrue(blocked.cancel(true));
            assertTrue(blocked.isCancelled());
            assertThrows(CancellationException.class, blocked::get);
            // Condition waits, generous for a loaded machine: they end as soon as the task did.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (interrupted.get() == null && System.nanoTime() < deadline) Thread.sleep(5);
            assertInstanceOf(InterruptedIOException.class, interrupted.get(), "cancel(true) did not interrupt the read");
            if (!f.oneAtATime()) {
                assertTrue(notInterrupted.cancel(false));
                release.countDown();
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (finished.get() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
                assertEquals(1, finished.get(), "cancel(false) interrupted the task");
            } else {
                release.countDown();
            }
        } finally {
            TestSupport.closeDirect(p);
        }
    }

    @ParameterizedTest
    @MethodSource("factories")
    @Timeout(30)
    void closeWaitsForTasks(Factory f) {
        AtomicInteger done = new AtomicInteger();
        ExecutorService ex = f.make().get();
        for (int i = 0; i < 5; i++) {
            ex.execute(() -> {
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    return;
                }
                done.incrementAndGet();
            });
        }
        ex.close();
        assertTrue(ex.isTerminated());
        assertEquals(5, done.get());
    }

    private static int maxConcurrency(ExecutorService ex, int tasks) throws Exception {
        AtomicInteger now = new AtomicInteger(), max = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            fs.add(ex.submit(() -> {
                int n = now.incrementAndGet();
                max.accumulateAndGet(n, Math::max);
                Thread.sleep(20);
                Flexsc.syscalls().getpid();
                now.decrementAndGet();
                return null;
            }));
        }
        for (Future<?> f : fs) f.get(20, TimeUnit.SECONDS);
        return max.get();
    }

    @Test
    @Timeout(30)
    void poolSizesKeepTheirMeaning() throws Exception {
        try (ExecutorService ex = FlexscExecutors.newFixedThreadPool(3)) {
            assertEquals(3, maxConcurrency(ex, 30));
            assertEquals(3, ((ThreadPoolExecutor) ex).getMaximumPoolSize());
        }
        try (ExecutorService ex = FlexscExecutors.newSingleThreadExecutor()) {
            assertEquals(1, maxConcurrency(ex, 5));
            assertFalse(ex instanceof ThreadPoolExecutor, "a single-thread executor must not be reconfigurable");
        }
        try (ExecutorService ex = FlexscExecutors.newWorkStealingPool(3)) {
            assertEquals(3, maxConcurrency(ex, 30));
        }
        try (ExecutorService ex = FlexscExecutors.newCachedThreadPool()) {
            assertEquals(30, maxConcurrency(ex, 30));
        }
        try (ExecutorService ex = FlexscExecutors.newVirtualThreadPerTaskExecutor()) {
            assertEquals(30, maxConcurrency(ex, 30));
        }
        try (ScheduledExecutorService ex = FlexscExecutors.newScheduledThreadPool(2)) {
            assertEquals(2, maxConcurrency(ex, 10));
        }
        ExecutorService unconf = FlexscExecutors.unconfigurableExecutorService(FlexscExecutors.newFixedThreadPool(2));
        assertFalse(unconf instanceof ThreadPoolExecutor);
        unconf.close();
    }

    @Test
    @Timeout(30)
    void singleThreadExecutorRunsInSubmissionOrder() throws Exception {
        List<Integer> order = new ArrayList<>();
        try (ExecutorService ex = FlexscExecutors.newSingleThreadExecutor()) {
            for (int i = 0; i < 100; i++) {
                int v = i;
                ex.execute(() -> {
                    if (v % 10 == 0) Thread.yield();
                    order.add(v); // one thread: no lock needed, and close() publishes the list
                });
            }
        }
        for (int i = 0; i < 100; i++) assertEquals(i, order.get(i));
    }

    @Test
    @Timeout(30)
    void scheduledExecutorsHonourDelaysAndPeriods() throws Exception {
        for (ScheduledExecutorService ex : List.of(FlexscExecutors.newScheduledThreadPool(2),
                FlexscExecutors.newSingleThreadScheduledExecutor(),
                FlexscExecutors.unconfigurableScheduledExecutorService(FlexscExecutors.newScheduledThreadPool(1)))) {
            try (ex) {
                long t0 = System.nanoTime();
                ScheduledFuture<Long> delayed = ex.schedule(() -> System.nanoTime() - t0, 100, TimeUnit.MILLISECONDS);
                assertTrue(delayed.get(10, TimeUnit.SECONDS) >= TimeUnit.MILLISECONDS.toNanos(100), "ran early");
                CountDownLatch ticks = new CountDownLatch(5);
                ScheduledFuture<?> periodic = ex.scheduleAtFixedRate(() -> {
                    assertTrue(onFlexscThread());
                    ticks.countDown();
                }, 0, 10, TimeUnit.MILLISECONDS);
                assertTrue(ticks.await(10, TimeUnit.SECONDS), "the periodic task did not repeat");
                assertTrue(periodic.cancel(false));
                assertTrue(periodic.isCancelled());
            }
        }
    }

    @Test
    @Timeout(30)
    void threadFactoriesMakeFlexscVirtualThreads() throws Exception {
        ThreadFactory def = FlexscExecutors.defaultThreadFactory();
        Thread t = def.newThread(() -> {});
        assertTrue(t.isVirtual());
        assertTrue(t.isDaemon());
        assertTrue(t.getName().matches("pool-\\d+-thread-1"), t.getName());
        assertTrue(def.newThread(() -> {}).getName().endsWith("-thread-2"));
        boolean[] on = new boolean[1];
        Thread u = FlexscExecutors.threadFactory().newThread(() -> on[0] = onFlexscThread());
        u.start();
        u.join();
        assertTrue(on[0]);
        assertThrows(IllegalArgumentException.class, () -> FlexscExecutors.newWorkStealingPool(0));
        assertThrows(IllegalArgumentException.class, () -> FlexscExecutors.newFixedThreadPool(0));
    }

    @Test
    @Timeout(30)
    void workStealingPoolRunsPlainTasksOnFlexscThreadsAndForkJoinTasksOnItsWorkers() throws Exception {
        ForkJoinPool pool = (ForkJoinPool) FlexscExecutors.newWorkStealingPool(2);
        try (pool) {
            assertTrue(pool.submit(FlexscExecutorsTest::onFlexscThread).get(10, TimeUnit.SECONDS));
            RecursiveTask<Long> fj = new RecursiveTask<>() {
                @Override
                protected Long compute() {
                    assertTrue(Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool,
                            "a ForkJoinTask ran off the pool's workers: " + Thread.currentThread());
                    try {
                        return Flexsc.syscalls().getpid(); // the platform-thread path of the engine
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            };
            assertEquals(PID, pool.invoke(fj));

            Blocker blocker = new Blocker(2);
            for (int i = 0; i < 2; i++) pool.execute(blocker.runnable());
            blocker.awaitStarted();
            Future<String> queued = pool.submit(() -> "never runs"); // parallelism 2: waits
            assertTrue(pool.shutdownNow().isEmpty(), "ForkJoinPool.shutdownNow returns an empty list");
            assertTrue(queued.isCancelled(), "a queued plain task was not cancelled by shutdownNow");
            assertTrue(pool.isShutdown());
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            assertTrue(pool.isTerminated());
            assertTrue(blocker.allInterrupted());
        }
    }
}
