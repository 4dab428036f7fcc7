package dev.flexsc.threads;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Twins of the factories of {@link Executors} that return an executor or a thread
 * factory: same signature, same contract, but the tasks run as virtual threads of the
 * {@linkplain FlexscScheduler#defaultScheduler() default FlexSC scheduler}, so the
 * FlexSC calls they make are exception-less. Replace {@code Executors.newFixedThreadPool(n)}
 * by {@code FlexscExecutors.newFixedThreadPool(n)} and nothing else changes.
 *
 * <p>The pools are the JDK's own ({@link ThreadPoolExecutor},
 * {@link java.util.concurrent.ScheduledThreadPoolExecutor}, the thread-per-task executor)
 * built with a FlexSC thread factory, so shutdown, {@code shutdownNow} (which interrupts
 * running tasks), {@code awaitTermination}, {@code close}, {@code invokeAll},
 * {@code invokeAny} and {@code Future.cancel(true)} behave exactly as documented there.
 * Pool sizes keep their meaning: {@code newFixedThreadPool(n)} runs at most n tasks at
 * once (on n long-lived virtual threads).
 *
 * <p>Differences that follow from virtual threads: the threads are daemon threads (a
 * pool does not keep the JVM alive), and their priority and thread group are fixed.
 * The overloads that take a {@link ThreadFactory} use it as given, as their
 * {@code Executors} counterparts do: pass {@link #threadFactory()} (or a runtime's) for
 * FlexSC threads.
 *
 * <p>Each method throws {@link UnsupportedOperationException} (naming the missing
 * {@code --add-opens java.base/java.lang=ALL-UNNAMED}) if FlexSC threads cannot run in
 * this JVM.
 */
public final class FlexscExecutors {
    private FlexscExecutors() {}

    private static final AtomicInteger POOLS = new AtomicInteger();

    /** A fresh factory for one pool: threads named {@code flexsc-pool-N-thread-M}, M from 1. */
    private static ThreadFactory poolFactory() {
        return FlexscScheduler.defaultScheduler()
                .threadFactory("flexsc-pool-" + POOLS.incrementAndGet() + "-thread-", 1);
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
     * Twin of {@link Executors#newWorkStealingPool(int)}: runs at most {@code parallelism}
     * tasks at once, in no guaranteed order; threads end after 60 idle seconds. The
     * stealing itself happens between the scheduler's carriers. Unlike the JDK's
     * {@code ForkJoinPool} it does not add threads to compensate for blocked ones: a
     * blocked virtual thread costs no carrier, so none is needed.
     *
     * @throws IllegalArgumentException if {@code parallelism <= 0}
     */
    public static ExecutorService newWorkStealingPool(int parallelism) {
        if (parallelism <= 0) throw new IllegalArgumentException("parallelism must be > 0, was " + parallelism);
        ThreadPoolExecutor pool = new ThreadPoolExecutor(parallelism, parallelism, 60L, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), poolFactory());
        pool.allowCoreThreadTimeOut(true);
        return pool;
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
     * {@code pool-N-thread-M}. Being virtual, they are daemon threads of normal priority.
     */
    public static ThreadFactory defaultThreadFactory() {
        return FlexscScheduler.defaultScheduler().threadFactory("pool-" + POOLS.incrementAndGet() + "-thread-", 1);
    }
}
