package dev.flexsc.threads;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A main that hands work to an executor and returns, as applications do: run in a child JVM by
 * JvmLifetimeTest, which checks what it printed before the JVM exited. Arguments: the API
 * ({@code Executors} or {@code FlexscExecutors}) and the scenario.
 */
public final class JvmLifetimeMain {
    private JvmLifetimeMain() {}

    /** Work that takes a while, prints its line, and shuts the pool down after the last one. */
    private static Runnable work(String line, AtomicInteger left, ExecutorService pool) {
        return () -> {
            sleep(200);
            System.out.println(line);
            if (left.decrementAndGet() == 0) pool.shutdown();
        };
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static void main(String[] args) {
        ExecutorsApi api = args[0].equals("Executors") ? ExecutorsApi.JDK : ExecutorsApi.FLEXSC;
        switch (args[1]) {
            case "fixed-work" -> {
                ExecutorService pool = api.newFixedThreadPool(2);
                AtomicInteger left = new AtomicInteger(3);
                for (int i = 1; i <= 3; i++) pool.execute(work("task " + i + " done", left, pool));
            }
            case "single-work" -> {
                ExecutorService pool = api.newSingleThreadExecutor();
                AtomicInteger left = new AtomicInteger(2);
                for (int i = 1; i <= 2; i++) pool.execute(work("task " + i + " done", left, pool));
            }
            case "scheduled-work" -> {
                ScheduledExecutorService pool = api.newScheduledThreadPool(1);
                pool.schedule(work("task 1 done", new AtomicInteger(1), pool), 300, TimeUnit.MILLISECONDS);
            }
            case "fixed-idle" -> {
                // The pool is idle once its task ran; only its shutdown, 1.5 s later, may end the JVM.
                ExecutorService pool = api.newFixedThreadPool(1);
                pool.execute(() -> System.out.println("task 1 done"));
                Thread.ofPlatform().daemon().start(() -> {
                    sleep(1500);
                    System.out.println("still alive");
                    pool.shutdown();
                });
            }
            case "cached-timeout" -> {
                // Never shut down: the JVM ends once the idle thread times out.
                ThreadPoolExecutor pool = (ThreadPoolExecutor) api.newCachedThreadPool();
                pool.setKeepAliveTime(200, TimeUnit.MILLISECONDS);
                pool.execute(work("task 1 done", new AtomicInteger(2), pool));
            }
            case "factory-thread" -> api.defaultThreadFactory().newThread(() -> {
                sleep(200);
                System.out.println("task 1 done");
            }).start();
            case "factory-unstarted" -> api.defaultThreadFactory().newThread(() -> {});
            case "virtual-per-task" -> api.newVirtualThreadPerTaskExecutor().execute(() -> {
                sleep(60_000);
                System.out.println("task 1 done");
            });
            case "work-stealing" -> api.newWorkStealingPool().execute(() -> {
                sleep(60_000);
                System.out.println("task 1 done");
            });
            default -> throw new IllegalArgumentException(args[1]);
        }
        System.out.println("main returns");
    }
}
