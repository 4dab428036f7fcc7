package dev.flexsc.threads;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link FlexscExecutors#newWorkStealingPool(int)}: a real {@link ForkJoinPool} (code casts the
 * JDK's) whose plain tasks run on FlexSC virtual threads.
 *
 * <p>Two kinds of work, two places:
 * <ul>
 * <li>{@code Runnable}s and {@code Callable}s given to {@code execute}, {@code submit},
 * {@code invokeAll}, {@code invokeAllUninterruptibly} and {@code invokeAny} run on FlexSC virtual
 * threads, at most {@code parallelism} at once (a pool of that many, idle ones ending after 60 s):
 * their FlexSC calls are exception-less and park only the virtual thread. {@code submit} returns
 * a {@link ForkJoinTask}, as the JDK's does; {@code cancel(true)} interrupts the task.</li>
 * <li>{@link ForkJoinTask}s ({@code invoke}, {@code execute}/{@code submit} of a
 * {@code ForkJoinTask}, {@code fork}/{@code join} inside them) and the scheduled tasks
 * ({@code schedule*}, {@code submitWithTimeout}) run on the pool's own
 * {@code ForkJoinWorkerThread}s, platform threads: {@code fork()} pushes to the current
 * worker's queue only when it runs on a {@code ForkJoinWorkerThread} (from any other thread,
 * virtual ones included, it goes to the common pool), so fork/join cannot run on virtual
 * threads. Their FlexSC calls take the platform-thread path (posted, then the worker waits).</li>
 * </ul>
 * Shutdown, {@code shutdownNow}, {@code awaitTermination}, {@code close} and the
 * {@code is*} state queries cover both; the monitoring methods ({@code getActiveThreadCount},
 * {@code getQueuedTaskCount}, {@code isQuiescent}, {@code awaitQuiescence}, {@code toString}...)
 * see only the fork/join workers.
 */
final class WorkStealingPool extends ForkJoinPool {
    /** Runs the plain tasks: {@code parallelism} FlexSC virtual threads at most. */
    private final ThreadPoolExecutor green;

    WorkStealingPool(int parallelism, ThreadFactory threads) {
        // asyncMode: FIFO for tasks never joined, as Executors.newWorkStealingPool.
        super(parallelism, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, true);
        green = new ThreadPoolExecutor(parallelism, parallelism, 60L, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threads);
        green.allowCoreThreadTimeOut(true);
    }

    /**
     * A plain task on a virtual thread, seen as a {@link ForkJoinTask}. Its run, interrupt on
     * {@code cancel(true)} and their races are {@link FutureTask}'s; the ForkJoinTask side only
     * mirrors the outcome, set in {@code done()}, before any waiter of either side wakes up.
     */
    static final class GreenTask<V> extends ForkJoinTask<V> implements RunnableFuture<V> {
        private final FutureTask<V> body;
        private V result;

        GreenTask(Callable<V> callable) {
            body = new FutureTask<>(callable) {
                @Override
                protected void done() {
                    settle();
                }
            };
        }

        private void settle() {
            switch (body.state()) {
                case SUCCESS -> complete(body.resultNow());
                case FAILED -> completeExceptionally(body.exceptionNow());
                default -> super.cancel(false); // CANCELLED (done() only runs once body is done)
            }
        }

        @Override
        public void run() {
            body.run();
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            // body.cancel settles this side (done()) before it returns true.
            return body.cancel(mayInterruptIfRunning) || isCancelled();
        }

        @Override
        public V getRawResult() {
            return result;
        }

        @Override
        protected void setRawResult(V value) {
            result = value;
        }

        /** Only if someone forks or invokes the returned task itself: runs it (at most once), here. */
        @Override
        protected boolean exec() {
            body.run();
            return false; // completion is signalled by settle()
        }
    }

    private <T> GreenTask<T> green(Callable<T> task) {
        GreenTask<T> t = new GreenTask<>(Objects.requireNonNull(task, "task"));
        green.execute(t);
        return t;
    }

    @Override
    public void execute(Runnable task) {
        if (task instanceof ForkJoinTask<?> f) {
            super.execute(f); // as ForkJoinPool.execute(Runnable) does
        } else {
            green.execute(Objects.requireNonNull(task, "task"));
        }
    }

    @Override
    public <T> ForkJoinTask<T> submit(Callable<T> task) {
        return green(task);
    }

    @Override
    public <T> ForkJoinTask<T> submit(Runnable task, T result) {
        return green(java.util.concurrent.Executors.callable(Objects.requireNonNull(task, "task"), result));
    }

    @Override
    @SuppressWarnings("unchecked")
    public ForkJoinTask<?> submit(Runnable task) {
        if (task instanceof ForkJoinTask<?> f) return super.submit((ForkJoinTask<Object>) f);
        return green(java.util.concurrent.Executors.callable(Objects.requireNonNull(task, "task")));
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        return green.invokeAll(tasks);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        return green.invokeAll(tasks, timeout, unit);
    }

    @Override
    public <T> List<Future<T>> invokeAllUninterruptibly(Collection<? extends Callable<T>> tasks) {
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> t : tasks) futures.add(green(t));
            for (Future<T> f : futures) ((ForkJoinTask<T>) f).quietlyJoin(); // uninterruptible
        } catch (RuntimeException | Error e) {
            for (Future<T> f : futures) f.cancel(true);
            throw e;
        }
        return futures;
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        return green.invokeAny(tasks);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return green.invokeAny(tasks, timeout, unit);
    }

    // ---- lifecycle: both sides. The virtual threads' side is shut down first, so that once
    // isShutdown() is true no plain task is accepted any more. ----

    @Override
    public void shutdown() {
        green.shutdown();
        super.shutdown();
    }

    /** Cancels the plain tasks not yet started and interrupts the running ones; an empty list, as ForkJoinPool's. */
    @Override
    public List<Runnable> shutdownNow() {
        for (Runnable r : green.shutdownNow()) {
            if (r instanceof GreenTask<?> t) t.cancel(false);
        }
        super.shutdownNow();
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return green.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return green.isTerminated() && super.isTerminated();
    }

    @Override
    public boolean isTerminating() {
        return isShutdown() && !isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        return green.awaitTermination(timeout, unit)
                && super.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    /** As {@link java.util.concurrent.ExecutorService#close()}: shut down, wait; interrupted, shut down now. */
    @Override
    public void close() {
        boolean interrupted = false;
        if (!isTerminated()) {
            shutdown();
            while (!isTerminated()) {
                try {
                    awaitTermination(1L, TimeUnit.DAYS);
                } catch (InterruptedException e) {
                    if (!interrupted) {
                        shutdownNow();
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
