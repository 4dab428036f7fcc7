package dev.flexsc.bench.soak;

import dev.flexsc.threads.FlexscRuntime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A group of workers started together on platform threads and on green threads of a
 * runtime, stopped together, and joined with a bound: a thread still alive after it is
 * reported (the watchdog has reported its call already) and left behind.
 */
final class Crew {
    private final FlexscRuntime runtime;
    private final String name;
    final AtomicBoolean go = new AtomicBoolean(true);
    private final List<Worker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private java.util.concurrent.ThreadFactory greenFactory;

    Crew(FlexscRuntime runtime, String name) {
        this.runtime = runtime;
        this.name = name;
    }

    /** Starts {@code w} on a platform thread, making calls until stopped (or {@code maxCalls}). */
    Worker platform(Worker w, int maxCalls) {
        workers.add(w);
        threads.add(Thread.ofPlatform().name(name + "-" + w.name).start(() -> w.loop(go::get, maxCalls)));
        return w;
    }

    /** Starts {@code w} on a green thread of the runtime's scheduler. */
    Worker green(Worker w, int maxCalls) {
        workers.add(w);
        if (greenFactory == null) greenFactory = runtime.scheduler().threadFactory(name + "-");
        Thread t = greenFactory.newThread(() -> w.loop(go::get, maxCalls));
        threads.add(t);
        t.start();
        return w;
    }

    List<Worker> workers() {
        return workers;
    }

    /** Waits until every worker has opened its descriptors ({@link Worker#prepared()}), at most {@code boundNanos}. */
    boolean awaitReady(long boundNanos) throws InterruptedException {
        long deadline = System.nanoTime() + boundNanos;
        for (Worker w : workers) {
            if (!w.ready.await(deadline - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS)) return false;
        }
        return true;
    }

    /** Interrupts one worker at random; false if it had no thread at the time. */
    boolean interruptOne() {
        if (workers.isEmpty()) return false;
        return workers.get(ThreadLocalRandom.current().nextInt(workers.size())).interrupt();
    }

    /** Stops the workers after their current call and waits up to {@code boundNanos} for them all. */
    void stopAndJoin(long boundNanos) {
        go.set(false);
        join(boundNanos);
    }

    /** Waits up to {@code boundNanos} for every thread; true if all ended. */
    boolean join(long boundNanos) {
        long deadline = System.nanoTime() + boundNanos;
        boolean all = true;
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            try {
                if (left <= 0 || !t.join(java.time.Duration.ofNanos(left))) all = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return all;
    }

    /** Threads of this crew still alive. */
    int alive() {
        int n = 0;
        for (Thread t : threads) if (t.isAlive()) n++;
        return n;
    }
}
