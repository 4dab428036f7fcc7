package dev.flexsc.threads;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.security.PrivilegedAction;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What each factory of {@code Executors} promises beyond {@link ExecutorService} (as the
 * JSR-166 TCK's Executors, ThreadPoolExecutor, ScheduledExecutor and ForkJoinPool tests
 * exercise it): argument checks, the concrete types code casts to and their configuration,
 * scheduling, fork/join, the thread factories and the {@code callable} adapters; each test runs
 * against {@code Executors} and {@code FlexscExecutors}. Where virtual threads cannot match the
 * JDK (daemon status, thread group) the test states the documented FlexSC behaviour.
 */
class ExecutorsConformanceTest {
    private static final long LONG_MS = 10_000;

    static List<ExecutorsApi> apis() {
        return ExecutorsApi.both();
    }

    // ---- argument checks and the types the factories return ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    void badArgumentsAreRejected(ExecutorsApi api) {
        assertThrows(IllegalArgumentException.class, () -> api.newFixedThreadPool(0));
        assertThrows(IllegalArgumentException.class, () -> api.newFixedThreadPool(-1));
        assertThrows(IllegalArgumentException.class, () -> api.newScheduledThreadPool(-1));
        assertThrows(IllegalArgumentException.class, () -> api.newWorkStealingPool(0));
        assertThrows(NullPointerException.class, () -> api.newFixedThreadPool(2, null));
        assertThrows(NullPointerException.class, () -> api.newCachedThreadPool(null));
        assertThrows(NullPointerException.class, () -> api.newSingleThreadExecutor(null));
        assertThrows(NullPointerException.class, () -> api.newScheduledThreadPool(2, null));
        assertThrows(NullPointerException.class, () -> api.newSingleThreadScheduledExecutor(null));
        assertThrows(NullPointerException.class, () -> api.newThreadPerTaskExecutor(null));
        assertThrows(NullPointerException.class, () -> api.unconfigurableExecutorService(null));
        assertThrows(NullPointerException.class, () -> api.unconfigurableScheduledExecutorService(null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    void theConcreteTypesCodeCastsTo(ExecutorsApi api) {
        try (ExecutorService fixed = api.newFixedThreadPool(3);
             ExecutorService cached = api.newCachedThreadPool();
             ExecutorService single = api.newSingleThreadExecutor();
             ScheduledExecutorService scheduled = api.newScheduledThreadPool(2);
             ScheduledExecutorService singleScheduled = api.newSingleThreadScheduledExecutor();
             ExecutorService stealing = api.newWorkStealingPool(3);
             ExecutorService stealingDefault = api.newWorkStealingPool();
             ExecutorService unconfigurable = api.unconfigurableExecutorService(api.newFixedThreadPool(1));
             ScheduledExecutorService unconfigurableScheduled =
                     api.unconfigurableScheduledExecutorService(api.newScheduledThreadPool(1))) {
            ThreadPoolExecutor f = assertInstanceOf(ThreadPoolExecutor.class, fixed);
            assertEquals(3, f.getCorePoolSize());
            assertEquals(3, f.getMaximumPoolSize());
            assertEquals(0, f.getKeepAliveTime(TimeUnit.NANOSECONDS));
            assertInstanceOf(LinkedBlockingQueue.class, f.getQueue());
            assertInstanceOf(ThreadPoolExecutor.AbortPolicy.class, f.getRejectedExecutionHandler());
            ThreadPoolExecutor c = assertInstanceOf(ThreadPoolExecutor.class, cached);
            assertEquals(0, c.getCorePoolSize());
            assertEquals(Integer.MAX_VALUE, c.getMaximumPoolSize());
            assertEquals(60, c.getKeepAliveTime(TimeUnit.SECONDS));
            assertInstanceOf(SynchronousQueue.class, c.getQueue());
            ScheduledThreadPoolExecutor s = assertInstanceOf(ScheduledThreadPoolExecutor.class, scheduled);
            assertEquals(2, s.getCorePoolSize());
            assertTrue(s.getExecuteExistingDelayedTasksAfterShutdownPolicy());
            assertFalse(s.getContinueExistingPeriodicTasksAfterShutdownPolicy());
            assertFalse(s.getRemoveOnCancelPolicy());
            ForkJoinPool w = assertInstanceOf(ForkJoinPool.class, stealing);
            assertEquals(3, w.getParallelism());
            assertTrue(w.getAsyncMode());
            assertEquals(Runtime.getRuntime().availableProcessors(),
                    assertInstanceOf(ForkJoinPool.class, stealingDefault).getParallelism());
            // Not reconfigurable: the single-thread ones and the wrappers hide their pool.
            for (ExecutorService hidden : List.of(single, singleScheduled, unconfigurable, unconfigurableScheduled)) {
                assertFalse(hidden instanceof ThreadPoolExecutor, hidden.getClass().getName());
            }
        }
    }

    // ---- ThreadPoolExecutor: what newFixedThreadPool / newCachedThreadPool configure ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void aFixedPoolGrowsToItsSizeAndQueuesTheRest(ExecutorsApi api) throws Exception {
        ThreadPoolExecutor p = (ThreadPoolExecutor) api.newFixedThreadPool(2);
        try (p) {
            assertEquals(0, p.getPoolSize(), "threads are started on demand");
            CountDownLatch gate = new CountDownLatch(1), running = new CountDownLatch(2);
            List<Runnable> tasks = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Runnable r = () -> {
                    running.countDown();
                    try {
                        gate.await();
                    } catch (InterruptedException ignored) {
                        // shut down
                    }
                };
                tasks.add(r);
                p.execute(r);
            }
            assertTrue(running.await(LONG_MS, TimeUnit.MILLISECONDS));
            assertEquals(2, p.getPoolSize());
            assertEquals(2, p.getActiveCount());
            assertEquals(3, p.getQueue().size());
            assertEquals(5, p.getTaskCount());
            assertTrue(p.remove(tasks.get(4)), "a queued task can be removed");
            assertEquals(2, p.getQueue().size());
            gate.countDown();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LONG_MS);
            while (p.getCompletedTaskCount() < 4 && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(4, p.getCompletedTaskCount());
            assertEquals(2, p.getLargestPoolSize());
            assertEquals(2, p.getPoolSize(), "core threads stay while the pool is not shut down");
            assertThrows(IllegalArgumentException.class, () -> p.allowCoreThreadTimeOut(true),
                    "a fixed pool's keep-alive is 0");
            p.setCorePoolSize(1);
            p.setMaximumPoolSize(1);
            assertEquals(1, p.getMaximumPoolSize());
        }
        assertTrue(p.isTerminated());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void aCachedPoolReusesIdleThreadsAndEndsThemAfterItsKeepAlive(ExecutorsApi api) throws Exception {
        ThreadPoolExecutor p = (ThreadPoolExecutor) api.newCachedThreadPool();
        try (p) {
            Thread first = p.submit(Thread::currentThread).get(LONG_MS, TimeUnit.MILLISECONDS);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LONG_MS);
            // Idle means waiting for work: the worker counts itself inactive before it polls the
            // queue, and a task offered in between would start a second thread.
            while ((p.getActiveCount() > 0 || first.getState() != Thread.State.TIMED_WAITING)
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(Thread.State.TIMED_WAITING, first.getState(), "the worker never went back to its queue");
            Thread second = p.submit(Thread::currentThread).get(LONG_MS, TimeUnit.MILLISECONDS);
            assertSame(first, second, "an idle thread is reused");
            assertEquals(1, p.getLargestPoolSize());
            p.setKeepAliveTime(50, TimeUnit.MILLISECONDS);
            deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LONG_MS);
            while (p.getPoolSize() > 0 && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(0, p.getPoolSize(), "the idle thread did not time out");
            assertTrue(first.join(java.time.Duration.ofMillis(LONG_MS)), "the timed-out thread did not end");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void prestartAndPurge(ExecutorsApi api) throws Exception {
        ThreadPoolExecutor p = (ThreadPoolExecutor) api.newFixedThreadPool(2);
        CountDownLatch gate = new CountDownLatch(1);
        try (p) {
            try {
                assertEquals(2, p.prestartAllCoreThreads());
                assertEquals(2, p.getPoolSize());
                assertFalse(p.prestartCoreThread());
                CountDownLatch running = new CountDownLatch(2);
                for (int i = 0; i < 2; i++) p.execute(() -> {
                    running.countDown();
                    try {
                        gate.await();
                    } catch (InterruptedException ignored) {
                        // shut down
                    }
                });
                assertTrue(running.await(LONG_MS, TimeUnit.MILLISECONDS)); // both taken off the queue
                List<Future<?>> queued = new ArrayList<>();
                for (int i = 0; i < 3; i++) queued.add(p.submit(() -> {}));
                for (Future<?> f : queued) assertTrue(f.cancel(false));
                p.purge();
                assertEquals(0, p.getQueue().size(), "purge() left cancelled tasks queued");
            } finally {
                gate.countDown(); // close() waits for the two tasks
            }
        }
    }

    // ---- scheduled executors ----

    static List<ScheduledCase> scheduled() {
        List<ScheduledCase> cases = new ArrayList<>();
        for (ExecutorsApi api : ExecutorsApi.both()) {
            cases.add(new ScheduledCase(api, "scheduled(2)", () -> api.newScheduledThreadPool(2)));
            cases.add(new ScheduledCase(api, "singleScheduled", api::newSingleThreadScheduledExecutor));
            cases.add(new ScheduledCase(api, "unconfigurableScheduled",
                    () -> api.unconfigurableScheduledExecutorService(api.newScheduledThreadPool(1))));
        }
        return cases;
    }

    record ScheduledCase(ExecutorsApi api, String name, java.util.function.Supplier<ScheduledExecutorService> make) {
        @Override
        public String toString() {
            return api + " " + name;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scheduled")
    @Timeout(30)
    void delayedTasksRunNoEarlierThanTheirDelay(ScheduledCase c) throws Exception {
        try (ScheduledExecutorService ex = c.make().get()) {
            long t0 = System.nanoTime();
            ScheduledFuture<String> f = ex.schedule(() -> "later", 100, TimeUnit.MILLISECONDS);
            // Bounded by the time that passed since t0, not by what a scheduler usually does:
            // a thread preempted past the delay on a loaded machine sees it done, or a delay <= 0.
            boolean done = f.isDone();
            long delay = f.getDelay(TimeUnit.MILLISECONDS);
            long passed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(!done || passed >= 100, "done after " + passed + " ms");
            assertTrue(delay <= 100 && delay >= 100 - passed - 1, "getDelay " + delay + " after " + passed + " ms");
            assertEquals("later", f.get(LONG_MS, TimeUnit.MILLISECONDS));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(100), "ran early");
            ScheduledFuture<?> r = ex.schedule(() -> {}, 10, TimeUnit.MILLISECONDS);
            assertNull(r.get(LONG_MS, TimeUnit.MILLISECONDS));
            ScheduledFuture<String> now = ex.schedule(() -> "now", -5, TimeUnit.SECONDS);
            assertEquals("now", now.get(LONG_MS, TimeUnit.MILLISECONDS), "a negative delay means now");
            ScheduledFuture<String> late = ex.schedule(() -> "x", 1, TimeUnit.HOURS);
            assertTrue(f.compareTo(late) < 0, "futures order by delay");
            assertTrue(late.cancel(false));
            assertThrows(NullPointerException.class, () -> ex.schedule((Runnable) null, 1, TimeUnit.SECONDS));
            assertThrows(NullPointerException.class, () -> ex.schedule(() -> 1, 1, null));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scheduled")
    @Timeout(30)
    void periodicTasksRepeatUntilCancelled(ScheduledCase c) throws Exception {
        try (ScheduledExecutorService ex = c.make().get()) {
            CountDownLatch rate = new CountDownLatch(3), delay = new CountDownLatch(3);
            ScheduledFuture<?> fixedRate = ex.scheduleAtFixedRate(rate::countDown, 0, 5, TimeUnit.MILLISECONDS);
            ScheduledFuture<?> fixedDelay = ex.scheduleWithFixedDelay(delay::countDown, 0, 5, TimeUnit.MILLISECONDS);
            assertTrue(rate.await(LONG_MS, TimeUnit.MILLISECONDS));
            assertTrue(delay.await(LONG_MS, TimeUnit.MILLISECONDS));
            assertFalse(fixedRate.isDone(), "a periodic task is never done by itself");
            assertTrue(fixedRate.cancel(false));
            assertTrue(fixedDelay.cancel(false));
            assertTrue(fixedRate.isCancelled());
            assertThrows(IllegalArgumentException.class,
                    () -> ex.scheduleAtFixedRate(() -> {}, 0, 0, TimeUnit.MILLISECONDS));
            assertThrows(IllegalArgumentException.class,
                    () -> ex.scheduleWithFixedDelay(() -> {}, 0, -1, TimeUnit.MILLISECONDS));
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> failing = ex.scheduleAtFixedRate(() -> {
                runs.incrementAndGet();
                throw new IllegalStateException("stops the repetition");
            }, 0, 5, TimeUnit.MILLISECONDS);
            assertThrows(ExecutionException.class, () -> failing.get(LONG_MS, TimeUnit.MILLISECONDS));
            Thread.sleep(30);
            assertEquals(1, runs.get(), "a periodic task that threw ran again");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scheduled")
    @Timeout(30)
    void shutdownRunsDelayedTasksButStopsPeriodicOnes(ScheduledCase c) throws Exception {
        ScheduledExecutorService ex = c.make().get();
        ScheduledFuture<String> delayed = ex.schedule(() -> "ran after shutdown", 50, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> periodic = ex.scheduleAtFixedRate(() -> {}, 0, 5, TimeUnit.MILLISECONDS);
        ex.shutdown();
        assertThrows(RejectedExecutionException.class, () -> ex.schedule(() -> 1, 1, TimeUnit.MILLISECONDS));
        assertEquals("ran after shutdown", delayed.get(LONG_MS, TimeUnit.MILLISECONDS));
        assertTrue(ex.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
        assertTrue(periodic.isCancelled() || periodic.isDone());

        ScheduledExecutorService now = c.make().get();
        now.schedule(() -> {}, 1, TimeUnit.HOURS);
        List<Runnable> pending = now.shutdownNow();
        assertEquals(1, pending.size(), "shutdownNow returns the delayed task");
        assertTrue(now.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
    }

    // ---- ForkJoinPool: newWorkStealingPool ----

    /** fib(n) by fork/join, the TCK's shape of a RecursiveTask; with {@code fail}, its leaves throw. */
    static final class Fib extends RecursiveTask<Integer> {
        private final int n;
        private final boolean fail;

        Fib(int n, boolean fail) {
            this.n = n;
            this.fail = fail;
        }

        @Override
        protected Integer compute() {
            if (n <= 1) {
                if (fail) throw new ArithmeticException("leaf " + n);
                return n;
            }
            Fib a = new Fib(n - 1, fail);
            a.fork();
            return new Fib(n - 2, fail).compute() + a.join();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void workStealingPoolRunsForkJoinTasks(ExecutorsApi api) throws Exception {
        try (ForkJoinPool pool = (ForkJoinPool) api.newWorkStealingPool(2)) {
            assertEquals(144, pool.invoke(new Fib(12, false)));
            ForkJoinTask<Integer> submitted = pool.submit(new Fib(15, false));
            assertEquals(610, submitted.join());
            assertEquals(610, submitted.get());
            assertTrue(submitted.isCompletedNormally());
            int[] leaves = new int[64];
            RecursiveAction fill = new RecursiveAction() {
                @Override
                protected void compute() {
                    invokeAll(new Fill(leaves, 0, 32), new Fill(leaves, 32, 64));
                }
            };
            pool.execute(fill);
            fill.join();
            for (int i = 0; i < 64; i++) assertEquals(i, leaves[i]);
            Fib failing = new Fib(8, true);
            assertThrows(ArithmeticException.class, () -> pool.invoke(failing));
            assertTrue(failing.isCompletedAbnormally());
            assertInstanceOf(ArithmeticException.class, failing.getException());
            ForkJoinTask<Integer> failed = pool.submit(new Fib(6, true));
            assertInstanceOf(ArithmeticException.class,
                    assertThrows(ExecutionException.class, failed::get).getCause());
            ForkJoinTask<String> plain = pool.submit(() -> "callable");
            assertEquals("callable", plain.join());
            List<Future<Integer>> all = pool.invokeAll(List.<Callable<Integer>>of(() -> 1, () -> 2));
            assertEquals(3, all.get(0).get() + all.get(1).get());
            pool.shutdown();
            assertThrows(RejectedExecutionException.class, () -> pool.invoke(new Fib(3, false)));
            assertThrows(RejectedExecutionException.class, () -> pool.submit(() -> "late"));
            assertTrue(pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
            assertTrue(pool.isTerminated());
        }
    }

    /** Writes a[i] = i over [from, to), splitting in halves. */
    static final class Fill extends RecursiveAction {
        private final int[] a;
        private final int from, to;

        Fill(int[] a, int from, int to) {
            this.a = a;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from <= 4) {
                for (int i = from; i < to; i++) a[i] = i;
            } else {
                int mid = (from + to) >>> 1;
                invokeAll(new Fill(a, from, mid), new Fill(a, mid, to));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void workStealingPoolSubmitReturnsAnInterruptibleForkJoinTask(ExecutorsApi api) throws Exception {
        try (ForkJoinPool pool = (ForkJoinPool) api.newWorkStealingPool(2)) {
            Blocker blocker = new Blocker(1);
            ForkJoinTask<String> t = pool.submit(blocker.callable());
            blocker.awaitStarted();
            assertTrue(t.cancel(true));
            assertTrue(t.isCancelled());
            blocker.awaitInterrupted();
            assertThrows(java.util.concurrent.CancellationException.class, t::join);
        }
    }

    // ---- thread factories ----

    /** A thread group that records what its threads failed with. */
    static final class RecordingGroup extends ThreadGroup {
        final AtomicReference<Throwable> uncaught = new AtomicReference<>();
        final CountDownLatch reported = new CountDownLatch(1);

        RecordingGroup() {
            super("recording");
        }

        @Override
        public void uncaughtException(Thread t, Throwable e) {
            uncaught.set(e);
            reported.countDown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void defaultThreadFactoryThreads(ExecutorsApi api) throws Exception {
        RecordingGroup group = new RecordingGroup();
        AtomicReference<ThreadFactory> factory = new AtomicReference<>();
        Thread creator = new Thread(group, () -> factory.set(api.defaultThreadFactory()));
        creator.start();
        creator.join();
        ThreadFactory tf = factory.get();
        Thread t1 = tf.newThread(() -> {
            throw new IllegalStateException("uncaught");
        });
        Thread t2 = tf.newThread(() -> {});
        assertTrue(t1.getName().matches("pool-\\d+-thread-1"), t1.getName());
        assertEquals(t1.getName().replace("thread-1", "thread-2"), t2.getName());
        assertEquals(Thread.NORM_PRIORITY, t1.getPriority());
        assertSame(group, t1.getUncaughtExceptionHandler(), "uncaught exceptions go to the creator's group");
        if (api.isFlexsc()) {
            // Documented differences: virtual threads are daemon threads of a fixed group.
            assertTrue(t1.isVirtual());
            assertTrue(t1.isDaemon());
            assertNotSame(group, t1.getThreadGroup());
        } else {
            assertFalse(t1.isDaemon());
            assertSame(group, t1.getThreadGroup());
        }
        t1.start();
        assertTrue(group.reported.await(LONG_MS, TimeUnit.MILLISECONDS));
        assertInstanceOf(IllegalStateException.class, group.uncaught.get());
        t2.start(); // a created thread is meant to be started (a FlexSC one holds the JVM until then)
        t2.join();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    @SuppressWarnings("removal")
    void privilegedThreadFactoryThreadsRunWithTheCreatorsContextClassLoader(ExecutorsApi api) throws Exception {
        ClassLoader loader = new ClassLoader(getClass().getClassLoader()) {};
        AtomicReference<ThreadFactory> factory = new AtomicReference<>();
        Thread creator = new Thread(() -> factory.set(api.privilegedThreadFactory()));
        creator.setContextClassLoader(loader);
        creator.start();
        creator.join();
        AtomicReference<ClassLoader> seen = new AtomicReference<>();
        try (ExecutorService ex = api.newSingleThreadExecutor(factory.get())) {
            ex.submit(() -> seen.set(Thread.currentThread().getContextClassLoader())).get(LONG_MS, TimeUnit.MILLISECONDS);
        }
        assertSame(loader, seen.get());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void aPoolUsesTheThreadFactoryItIsGiven(ExecutorsApi api) throws Exception {
        AtomicInteger made = new AtomicInteger();
        ThreadFactory counting = r -> {
            made.incrementAndGet();
            return Thread.ofPlatform().daemon().unstarted(r);
        };
        try (ExecutorService ex = api.newFixedThreadPool(2, counting)) {
            assertFalse(ex.submit(() -> Thread.currentThread().isVirtual()).get(LONG_MS, TimeUnit.MILLISECONDS));
        }
        assertEquals(1, made.get());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @Timeout(30)
    void virtualThreadPerTaskRunsEachTaskOnANewVirtualThread(ExecutorsApi api) throws Exception {
        try (ExecutorService ex = api.newVirtualThreadPerTaskExecutor()) {
            Thread a = ex.submit(Thread::currentThread).get(LONG_MS, TimeUnit.MILLISECONDS);
            Thread b = ex.submit(Thread::currentThread).get(LONG_MS, TimeUnit.MILLISECONDS);
            assertTrue(a.isVirtual() && b.isVirtual());
            assertNotSame(a, b);
        }
    }

    // ---- the callable adapters ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("apis")
    @SuppressWarnings("removal")
    void callableAdapters(ExecutorsApi api) throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Runnable r = ran::incrementAndGet;
        assertNull(api.callableOf(r, Runnable.class).call());
        assertEquals("result", api.callable(r, "result").call());
        assertEquals(2, ran.get());
        PrivilegedAction<String> action = () -> "action";
        assertEquals("action", api.callableOf(action, PrivilegedAction.class).call());
        PrivilegedExceptionAction<String> failing = () -> {
            throw new java.io.IOException("checked");
        };
        assertThrows(java.io.IOException.class, () -> api.callableOf(failing, PrivilegedExceptionAction.class).call());
        assertThrows(NullPointerException.class, () -> api.callableOf(null, Runnable.class));
        assertThrows(NullPointerException.class, () -> api.callable((Runnable) null, "x"));
        assertThrows(NullPointerException.class, () -> api.callableOf(null, PrivilegedAction.class));
        assertThrows(NullPointerException.class, () -> api.callableOf(null, PrivilegedExceptionAction.class));
        assertEquals(7, api.privilegedCallable(() -> 7).call());
        assertThrows(NullPointerException.class, () -> api.privilegedCallable(null));
        ClassLoader loader = new ClassLoader(getClass().getClassLoader()) {};
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        Callable<ClassLoader> c;
        Thread.currentThread().setContextClassLoader(loader);
        try {
            c = api.privilegedCallableUsingCurrentClassLoader(() -> Thread.currentThread().getContextClassLoader());
        } finally {
            Thread.currentThread().setContextClassLoader(before);
        }
        assertSame(loader, c.call(), "the callable runs with the class loader current at its creation");
        assertSame(before, Thread.currentThread().getContextClassLoader(), "and restores the caller's");
    }
}
