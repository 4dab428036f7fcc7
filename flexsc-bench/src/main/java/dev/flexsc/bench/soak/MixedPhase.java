package dev.flexsc.bench.soak;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.threads.FlexscExecutors;
import dev.flexsc.threads.FlexscRuntime;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The main soak of one engine: workers on platform threads, on green threads of a
 * {@link FlexscRuntime}, and as tasks of a {@link FlexscExecutors} pool make calls of every
 * kind against the main engine (EXCEPTIONLESS, so that they are posted), some of them blocked
 * or stuck for a while; an interrupter interrupts workers and cancels pool tasks at random;
 * and between them the {@link Rounds} run against victim engines, each kind at least once.
 */
final class MixedPhase {
    static final int PLATFORM_WORKERS = 3, GREEN_WORKERS = 16, POOL_THREADS = 4, CALLS_PER_TASK = 20;

    private MixedPhase() {}

    static void run(Run run, Engine kind, FlexscConfig base, double seconds, int crowd, PrintStream log) throws Exception {
        FlexscConfig mainConfig = base.toBuilder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        FlexscRuntime rt = FlexscRuntime.open(mainConfig);
        Target main = new Target(rt.engine(), kind + "/main");
        Crew crew = new Crew(rt, "main");
        for (int i = 0; i < PLATFORM_WORKERS; i++) crew.platform(new Worker(run, main, "p" + i), 0);
        for (int i = 0; i < GREEN_WORKERS; i++) crew.green(new Worker(run, main, "g" + i), 0);

        ExecutorService pool = FlexscExecutors.newFixedThreadPool(POOL_THREADS);
        AtomicBoolean go = new AtomicBoolean(true);
        ArrayDeque<Task> tasks = new ArrayDeque<>();
        Thread chaos = Thread.ofPlatform().name("soak-interrupter").start(() -> {
            SplittableRandom r = run.split();
            int next = 0;
            while (go.get()) {
                sleep(2 + r.nextInt(8));
                crew.interruptOne();
                synchronized (tasks) {
                    // Keep the pool fed: a few tasks queued beyond the running ones.
                    tasks.removeIf(t -> t.future.isDone());
                    while (tasks.size() < 2 * POOL_THREADS) {
                        Worker w = new Worker(run, main, "task" + next++);
                        tasks.add(new Task(w, pool.submit(() -> w.loop(() -> !w.stopRequested, CALLS_PER_TASK))));
                    }
                    if (r.nextInt(4) == 0) {
                        Task victim = tasks.stream().skip(r.nextInt(tasks.size())).findFirst().orElseThrow();
                        victim.cancel(run.ledger);
                    }
                }
            }
        });

        Rounds rounds = new Rounds(run, kind, base, rt, log);
        boolean uring = kind == Engine.IO_URING || kind == Engine.IO_URING_SQPOLL;
        int round = 0;
        do {
            switch (round++ % 3) {
                case 0 -> rounds.closeMidFlight();
                case 1 -> {
                    if (uring) rounds.cqOverflow();
                    else rounds.closeMidFlight();
                }
                case 2 -> rounds.entryExhaustion(crowd);
            }
        } while (round < 3 || System.nanoTime() < end);
        long left = end - System.nanoTime();
        if (left > 0) TimeUnit.NANOSECONDS.sleep(left);

        go.set(false);
        chaos.join();
        crew.stopAndJoin(Run.CALL_BOUND_NANOS);
        run.stuck.releaseAll(); // anything still sleeping on a page or pipe goes on now
        crew.join(Run.CALL_BOUND_NANOS);
        pool.shutdown();
        if (!pool.awaitTermination(Run.CALL_BOUND_NANOS, TimeUnit.NANOSECONDS)) {
            run.ledger.violation(Ledger.Count.HANGS, "the FlexscExecutors pool did not terminate within "
                    + Run.CALL_BOUND_NANOS / 1_000_000_000L + " s of shutdown()");
            pool.shutdownNow();
        }
        Op close = run.ledger.begin("FlexscRuntime.close(" + kind + ")", Rounds.CLOSE_BOUND_NANOS + 10_000_000_000L);
        try {
            rt.close();
            close.ok();
        } catch (RuntimeException e) {
            close.error(e);
        }
    }

    /** The entry-exhaustion round alone (with nothing else running), for a crowd of {@code crowd} green threads. */
    static void exhaustionOnly(Run run, Engine kind, FlexscConfig base, int crowd, PrintStream log) {
        try (FlexscRuntime rt = FlexscRuntime.open(base.toBuilder().engine(kind).build())) {
            new Rounds(run, kind, base, rt, log).entryExhaustion(crowd);
        } catch (java.io.IOException e) {
            run.ledger.violation(Ledger.Count.ERRORS, "opening the runtime: " + e);
        }
    }

    /** A pool task and its worker: cancelling it counts as an interrupt of that worker. */
    private record Task(Worker worker, Future<?> future) {
        void cancel(Ledger ledger) {
            worker.stopRequested = true;
            worker.countInterrupt();
            if (future.cancel(true)) ledger.fault(Ledger.Fault.CANCELS);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
