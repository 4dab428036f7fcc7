package dev.flexsc.threads;

import java.security.PrivilegedAction;
import java.security.PrivilegedExceptionAction;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole {@link Executors} surface, method for method (same signatures, same contracts),
 * with tasks that run as virtual threads of the
 * {@linkplain FlexscScheduler#defaultScheduler() default FlexSC scheduler}, so the FlexSC
 * calls they make are exception-less. Replace {@code Executors.} by {@code FlexscExecutors.}
 * and nothing else changes.
 *
 * <p>The pools are the JDK's own ({@link ThreadPoolExecutor},
 * {@link java.util.concurrent.ScheduledThreadPoolExecutor}, the thread-per-task executor)
 * built with a FlexSC thread factory, so shutdown, {@code shutdownNow} (which interrupts
 * running tasks), {@code awaitTermination}, {@code close}, {@code invokeAll},
 * {@code invokeAny} and {@code Future.cancel(true)} behave exactly as documented there, and
 * the casts code makes still work ({@code (ThreadPoolExecutor) newFixedThreadPool(n)},
 * {@code (ForkJoinPool) newWorkStealingPool()}). Pool sizes keep their meaning:
 * {@code newFixedThreadPool(n)} runs at most n tasks at once (on n long-lived virtual threads).
 *
 * <p>JVM lifetime, as with {@code Executors}: the threads of the pools and of
 * {@link #defaultThreadFactory()} keep the JVM alive while they live, as the JDK's non-daemon
 * pool threads do. So a fixed, single-thread or scheduled pool keeps it alive until it is shut
 * down and its tasks are done, even when idle; a cached pool until its idle threads time out;
 * the {@linkplain #newVirtualThreadPerTaskExecutor() virtual-thread-per-task executor},
 * {@link #threadFactory()} and the {@linkplain #newWorkStealingPool() work-stealing pool} do not
 * (virtual threads and {@code ForkJoinPool} workers are daemon threads). Virtual threads cannot
 * be non-daemon threads: {@code Thread.isDaemon()} says true, and the JVM is held instead by one
 * non-daemon platform thread named {@code flexsc-keep-alive}, alive while any such thread lives.
 *
 * <p>What else differs, because the threads are virtual: their priority is always
 * {@link Thread#NORM_PRIORITY} and their thread group is the JDK's fixed group of virtual
 * threads (see {@link #defaultThreadFactory()} for what is done instead).
 * The overloads that take a {@link ThreadFactory} use it as given, as their
 * {@code Executors} counterparts do: pass {@link #threadFactory()} (or a runtime's) for
 * FlexSC threads.
 *
 * <p>Each method that makes threads throws {@link UnsupportedOperationException} (naming the
 * missing {@code --add-opens java.base/java.lang=ALL-UNNAMED}) if FlexSC threads cannot run in
 * this JVM; {@code callable}, {@code privilegedCallable*} and {@code unconfigurable*} work
 * everywhere, as they make none.
 */
public final class FlexscExecutors {
    private FlexscExecutors() {}

    private static final AtomicInteger POOLS = new AtomicInteger();

    /**
     * A fresh factory for one pool: threads named {@code flexsc-pool-N-thread-M} (M from 1) that
     * keep the JVM alive while they live and report uncaught exceptions to the caller's thread
     * group, as the JDK's pool threads (from {@code Executors.defaultThreadFactory()}) do.
     */
    private static ThreadFactory poolFactory() {
        return keepAliveFactory("flexsc-pool-");
    }

    /** Threads named {@code prefix + N + "-thread-" + M}, as {@link #poolFactory()} describes. */
    private static ThreadFactory keepAliveFactory(String prefix) {
        return FlexscScheduler.defaultScheduler().threadFactory(prefix + POOLS.incrementAndGet() + "-thread-", 1,
                true, Thread.currentThread().getThreadGroup());
    }

    /**
     * A thread factory for virtual threads of the default FlexSC scheduler (the twin of
     * {@code Thread.ofVirtual().factory()}). Thread-safe.
     */
    public static ThreadFactory threadFactory() {
        return FlexscScheduler.defaultScheduler().threadFactory();
    }

    /** Twin of {@link Executors#newFixedThreadPool(int)}: at most {@code nThreads} tasks at once. */
    public static ExecutorService newFixedThreadPool(int nThreads) {
        return Executors.newFixedThreadPool(nThreads, poolFactory());
    }

    /** Twin of {@link Executors#newFixedThreadPool(int, ThreadFactory)}. */
    public static ExecutorService newFixedThreadPool(int nThreads, ThreadFactory threadFactory) {
        return Executors.newFixedThreadPool(nThreads, threadFactory);
    }

    /** Twin of {@link Executors#newCachedThreadPool()}: idle threads end after 60 seconds. */
    public static ExecutorService newCachedThreadPool() {
        return Executors.newCachedThreadPool(poolFactory());
    }

    /** Twin of {@link Executors#newCachedThreadPool(ThreadFactory)}. */
    public static ExecutorService newCachedThreadPool(ThreadFactory threadFactory) {
        return Executors.newCachedThreadPool(threadFactory);
    }

    /** Twin of {@link Executors#newSingleThreadExecutor()}: tasks run one at a time, in order. */
    public static ExecutorService newSingleThreadExecutor() {
        return Executors.newSingleThreadExecutor(poolFactory());
    }

    /** Twin of {@link Executors#newSingleThreadExecutor(ThreadFactory)}. */
    public static ExecutorService newSingleThreadExecutor(ThreadFactory threadFactory) {
        return Executors.newSingleThreadExecutor(threadFactory);
    }

    /** Twin of {@link Executors#newScheduledThreadPool(int)}. */
    public static ScheduledExecutorService newScheduledThreadPool(int corePoolSize) {
        return Executors.newScheduledThreadPool(corePoolSize, poolFactory());
    }

    /** Twin of {@link Executors#newScheduledThreadPool(int, ThreadFactory)}. */
    public static ScheduledExecutorService newScheduledThreadPool(int corePoolSize, ThreadFactory threadFactory) {
        return Executors.newScheduledThreadPool(corePoolSize, threadFactory);
    }

    /** Twin of {@link Executors#newSingleThreadScheduledExecutor()}. */
    public static ScheduledExecutorService newSingleThreadScheduledExecutor() {
        return Executors.newSingleThreadScheduledExecutor(poolFactory());
    }

    /** Twin of {@link Executors#newSingleThreadScheduledExecutor(ThreadFactory)}. */
    public static ScheduledExecutorService newSingleThreadScheduledExecutor(ThreadFactory threadFactory) {
        return Executors.newSingleThreadScheduledExecutor(threadFactory);
    }

    /**
     * Twin of {@link Executors#newWorkStealingPool(int)}: a {@link ForkJoinPool} of the given
     * parallelism (cast it as code does with the JDK's). Its plain tasks ({@code execute},
     * {@code submit} and {@code invokeAll}/{@code invokeAny} of {@code Runnable}s and
     * {@code Callable}s) run on FlexSC virtual threads, at most {@code parallelism} at once;
     * its {@link java.util.concurrent.ForkJoinTask}s ({@code invoke}, {@code fork},
     * {@code join}, {@code RecursiveTask}) and scheduled tasks run on the pool's own
     * {@code ForkJoinWorkerThread}s, which fork/join needs, where FlexSC calls take the
     * platform-thread path. See {@code docs/threads.md}, "newWorkStealingPool". Like the JDK's,
     * it does not keep the JVM alive.
     *
     * @throws IllegalArgumentException if {@code parallelism <= 0}
     */
    public static ExecutorService newWorkStealingPool(int parallelism) {
        if (parallelism <= 0) throw new IllegalArgumentException("parallelism must be > 0, was " + parallelism);
        return new WorkStealingPool(parallelism, FlexscScheduler.defaultScheduler()
                .threadFactory("flexsc-ws-" + POOLS.incrementAndGet() + "-thread-", 1));
    }

    /** Twin of {@link Executors#newWorkStealingPool()}: parallelism = available processors. */
    public static ExecutorService newWorkStealingPool() {
        return newWorkStealingPool(Runtime.getRuntime().availableProcessors());
    }

    /** Twin of {@link Executors#newVirtualThreadPerTaskExecutor()}: one new FlexSC virtual thread per task. */
    public static ExecutorService newVirtualThreadPerTaskExecutor() {
        return Executors.newThreadPerTaskExecutor(threadFactory());
    }

    /** Twin of {@link Executors#newThreadPerTaskExecutor(ThreadFactory)}. */
    public static ExecutorService newThreadPerTaskExecutor(ThreadFactory threadFactory) {
        return Executors.newThreadPerTaskExecutor(threadFactory);
    }

    /** Twin of {@link Executors#unconfigurableExecutorService(ExecutorService)}. */
    public static ExecutorService unconfigurableExecutorService(ExecutorService executor) {
        return Executors.unconfigurableExecutorService(executor);
    }

    /** Twin of {@link Executors#unconfigurableScheduledExecutorService(ScheduledExecutorService)}. */
    public static ScheduledExecutorService unconfigurableScheduledExecutorService(ScheduledExecutorService executor) {
        return Executors.unconfigurableScheduledExecutorService(executor);
    }

    /**
     * Twin of {@link Executors#defaultThreadFactory()}: FlexSC virtual threads named
     * {@code pool-N-thread-M}, as close to the JDK's contract as virtual threads allow. Like
     * the JDK's threads they keep the JVM alive while they live (from creation until their
     * task ends), report uncaught exceptions to the thread group of the thread that called this
     * method ({@code getUncaughtExceptionHandler()} returns that group, as for the JDK's), have
     * normal priority and inherit the creating thread's context class loader and inheritable
     * thread-locals. What virtual threads cannot do: {@code isDaemon()} is true (the JVM is held
     * by a non-daemon {@code flexsc-keep-alive} platform thread instead), and
     * {@code getThreadGroup()} is the JDK's group of virtual threads, not the caller's.
     */
    public static ThreadFactory defaultThreadFactory() {
        return keepAliveFactory("pool-");
    }

    /**
     * Twin of {@link Executors#privilegedThreadFactory()}: {@link #defaultThreadFactory()}
     * whose threads run with the context class loader of the thread that called this method.
     * (The access-control context the JDK's also captured means nothing since the security
     * manager was removed.)
     *
     * @deprecated as {@link Executors#privilegedThreadFactory()}: it exists for the security
     *             manager, which is gone.
     */
    @Deprecated(since = "17", forRemoval = true)
    public static ThreadFactory privilegedThreadFactory() {
        ClassLoader ccl = Thread.currentThread().getContextClassLoader();
        ThreadFactory threads = defaultThreadFactory();
        return task -> {
            Objects.requireNonNull(task, "task");
            return threads.newThread(() -> {
                Thread.currentThread().setContextClassLoader(ccl);
                task.run();
            });
        };
    }

    /** Twin of {@link Executors#callable(Runnable, Object)} (the same object: no threads involved). */
    public static <T> Callable<T> callable(Runnable task, T result) {
        return Executors.callable(task, result);
    }

    /** Twin of {@link Executors#callable(Runnable)}. */
    public static Callable<Object> callable(Runnable task) {
        return Executors.callable(task);
    }

    /** Twin of {@link Executors#callable(PrivilegedAction)}. */
    public static Callable<Object> callable(PrivilegedAction<?> action) {
        return Executors.callable(action);
    }

    /** Twin of {@link Executors#callable(PrivilegedExceptionAction)}. */
    public static Callable<Object> callable(PrivilegedExceptionAction<?> action) {
        return Executors.callable(action);
    }

    /**
     * Twin of {@link Executors#privilegedCallable(Callable)} (delegates to it).
     *
     * @deprecated as {@link Executors#privilegedCallable(Callable)}: it exists for the
     *             security manager, which is gone.
     */
    @Deprecated(since = "17", forRemoval = true)
    @SuppressWarnings("removal") // the twin of a method deprecated for removal delegates to it
    public static <T> Callable<T> privilegedCallable(Callable<T> callable) {
        return Executors.privilegedCallable(callable);
    }

    /**
     * Twin of {@link Executors#privilegedCallableUsingCurrentClassLoader(Callable)} (delegates to
     * it): the callable runs with the context class loader of the thread that called this method.
     *
     * @deprecated as {@link Executors#privilegedCallableUsingCurrentClassLoader(Callable)}: it
     *             exists for the security manager, which is gone.
     */
    @Deprecated(since = "17", forRemoval = true)
    @SuppressWarnings("removal")
    public static <T> Callable<T> privilegedCallableUsingCurrentClassLoader(Callable<T> callable) {
        return Executors.privilegedCallableUsingCurrentClassLoader(callable);
    }
}
