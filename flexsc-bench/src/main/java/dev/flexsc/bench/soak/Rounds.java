package dev.flexsc.bench.soak;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.nativeimpl.uring.UringEngine;
import dev.flexsc.threads.FlexscRuntime;

import java.io.PrintStream;
import java.util.SplittableRandom;

/**
 * The soak's rounds, each against an engine of its own (a victim) opened for the round,
 * while the main workers go on against the main engine:
 * <ul>
 * <li>{@link #closeMidFlight}: the victim is closed while calls of every kind are in flight
 *     on it: posted from platform threads, parked green threads, batches, calls blocked on
 *     pipes that never get data, calls stuck in page faults (released only after the close).
 *     Every call must then return within its bound, its own result or
 *     {@link dev.flexsc.EngineClosedException}; no buffer may change after its call returned.
 * <li>{@link #cqOverflow} (io_uring engines): a CQ of 64 entries (the SQ's size) under far
 *     more completions in flight; the engine's count of overflow flushes says it happened.
 * <li>{@link #entryExhaustion}: most of a one-page victim's 64 entries held by stuck calls,
 *     and a crowd of green threads that must all get their calls through the rest.
 * </ul>
 */
final class Rounds {
    /** How long close() waits for calls before giving up on them (the victims' closeTimeoutMillis). */
    static final long CLOSE_TIMEOUT_MILLIS = 200;
    /** Liveness bound of a close: its timeout, the executors' stop, and generous slack. */
    static final long CLOSE_BOUND_NANOS = 4 * CLOSE_TIMEOUT_MILLIS * 1_000_000L + Run.CALL_BOUND_NANOS;
    /** Holders of entries in the exhaustion round. */
    static final int HOLDERS = 48;
    /** How long the whole crowd waits for entries before the holders are let go. */
    static final long CROWD_WAIT_MILLIS = 1000;

    private final Run run;
    private final Engine kind;
    private final FlexscConfig base;
    private final FlexscRuntime runtime;
    private final PrintStream log;
    private final SplittableRandom rnd;
    private int victims;

    Rounds(Run run, Engine kind, FlexscConfig base, FlexscRuntime runtime, PrintStream log) {
        this.run = run;
        this.kind = kind;
        this.base = base;
        this.runtime = runtime;
        this.log = log;
        this.rnd = run.split();
    }

    private Target open(FlexscConfig.Builder cfg) {
        FlexscConfig c = cfg.engine(kind).closeTimeoutMillis(CLOSE_TIMEOUT_MILLIS).build();
        Op op = run.ledger.begin("open(" + kind + " victim)", Run.CALL_BOUND_NANOS);
        try {
            FlexscEngine e = Flexsc.open(c);
            op.ok();
            return new Target(e, kind + "/victim" + ++victims);
        } catch (java.io.IOException | RuntimeException e) {
            op.error(e);
            return null;
        }
    }

    private Worker worker(Target t, String name) {
        return new Worker(run, t, name);
    }

    /** Closes a victim while calls of every kind are in flight on it. */
    void closeMidFlight() {
        CallPolicy policy = rnd.nextBoolean() ? CallPolicy.EXCEPTIONLESS : CallPolicy.ADAPTIVE;
        Target t = open(base.toBuilder().pages(1).policy(policy));
        if (t == null) return;
        Crew crew = new Crew(runtime, t.name);
        boolean stuck = run.stuck.hasUffd();
        for (int i = 0; i < 8; i++) {
            Worker w = worker(t, (i < 2 ? "posted" : "parked") + i);
            if (!stuck) w.without(Worker.Kind.STUCK_READ).without(Worker.Kind.STUCK_POPULATE);
            if (i < 2) crew.platform(w, 0);
            else crew.green(w, 0);
        }
        crew.platform(worker(t, "batch-p").only(Worker.Kind.BATCH), 0);
        crew.green(worker(t, "batch-g").only(Worker.Kind.BATCH), 0);
        for (int i = 0; i < 2; i++) {
            crew.platform(worker(t, "blocked-p" + i).only(Worker.Kind.BLOCKED).releaseAfter(-1, -1), 0);
            crew.green(worker(t, "blocked-g" + i).only(Worker.Kind.BLOCKED).releaseAfter(-1, -1), 0);
        }
        if (stuck) {
            for (Worker.Kind k : new Worker.Kind[] {Worker.Kind.STUCK_READ, Worker.Kind.STUCK_POPULATE}) {
                crew.platform(worker(t, k + "-p").only(k).releaseAfter(-1, -1), 1);
                crew.green(worker(t, k + "-g").only(k).releaseAfter(-1, -1), 1);
            }
        }
        sleep(100 + rnd.nextInt(200));
        int inFlight = t.inFlight.get();
        run.ledger.fault(Ledger.Fault.ENGINE_CLOSES);
        run.ledger.fault(Ledger.Fault.CALLS_AT_CLOSE, inFlight);
        long t0 = System.nanoTime();
        t.close(run.ledger, CLOSE_BOUND_NANOS);
        long closed = System.nanoTime();
        // Calls that close gave up on may still be in the kernel: let them go only now, so
        // that a late copy into a buffer its caller got back would show.
        sleep(200);
        int waiting = t.inFlight.get();
        run.stuck.releaseAll();
        boolean all = crew.join(Run.CALL_BOUND_NANOS);
        log.printf("soak: %s: close (%s) with %d calls in flight took %.0f ms; %d still in flight 200 ms later, then"
                        + " released; %s %.0f ms after the close%n", t.name, policy, inFlight, (closed - t0) / 1e6, waiting,
                all ? "every worker ended" : crew.alive() + " workers still running", (System.nanoTime() - closed) / 1e6);
        crew.stopAndJoin(Run.CALL_BOUND_NANOS);
    }

    /** A CQ no larger than the SQ under many more completions; counts the engine's overflow flushes. */
    void cqOverflow() {
        int cq = 64;
        Target t = open(base.toBuilder().pages(1).uringCqEntries(cq).policy(CallPolicy.EXCEPTIONLESS));
        if (t == null) return;
        UringEngine u = (UringEngine) t.engine;
        long before = u.uringStats().cqOverflowFlushes();
        Crew crew = new Crew(runtime, t.name);
        for (int i = 0; i < 96; i++) {
            crew.green(worker(t, "cq" + i).only(Worker.Kind.PREAD, Worker.Kind.PREAD_ARRAY, Worker.Kind.BATCH), 0);
        }
        for (int i = 0; i < 2; i++) crew.platform(worker(t, "cq-batch" + i).only(Worker.Kind.BATCH), 0);
        sleep(400);
        crew.stopAndJoin(Run.CALL_BOUND_NANOS);
        long flushes = u.uringStats().cqOverflowFlushes() - before;
        run.ledger.fault(Ledger.Fault.CQ_OVERFLOW_ROUNDS);
        run.ledger.fault(Ledger.Fault.CQ_OVERFLOW_FLUSHES, flushes);
        // Every ring of the engine (one per carrier, and the platform threads' ones) has this CQ.
        log.printf("soak: %s: CQs of %d entries, SQs of %d: %d overflow flushes%n", t.name, cq, u.sqEntries(), flushes);
        t.close(run.ledger, CLOSE_BOUND_NANOS);
    }

    /**
     * {@value #HOLDERS} of a one-page victim's 64 entries held by stuck (or blocked) calls
     * while {@code crowd} green threads start, each to make three getpid through the rest: most
     * of them find no free entry and wait for one. The holders are let go once the whole
     * crowd has started and a further {@value #CROWD_WAIT_MILLIS} ms passed; then every call of
     * the crowd must complete within its bound.
     */
    void entryExhaustion(int crowd) {
        Target t = open(base.toBuilder().pages(1).policy(CallPolicy.EXCEPTIONLESS));
        if (t == null) return;
        Crew holders = new Crew(runtime, t.name + "-holders");
        Worker.Kind hold = run.stuck.hasUffd() ? Worker.Kind.STUCK_POPULATE : Worker.Kind.BLOCKED;
        for (int i = 0; i < HOLDERS; i++) holders.green(worker(t, "holder" + i).only(hold).releaseAfter(-1, -1), 1);
        sleep(100);
        Crew crowdCrew = new Crew(runtime, t.name + "-crowd");
        long t0 = System.nanoTime();
        // A call of the crowd may wait for every call queued before it: its bound allows the
        // whole crowd's calls at 10,000 calls per second on top of the usual bound.
        long bound = Run.CALL_BOUND_NANOS + crowd * 3 * 100_000L * Run.BOUND_SCALE;
        for (int i = 0; i < crowd; i++) crowdCrew.green(worker(t, "c" + i).only(Worker.Kind.GETPID).bound(bound), 3);
        run.ledger.fault(Ledger.Fault.ENTRY_EXHAUSTION_THREADS, crowd);
        sleep(CROWD_WAIT_MILLIS);
        long released = System.nanoTime();
        run.stuck.releaseAll();
        boolean done = crowdCrew.join(bound + Run.CALL_BOUND_NANOS);
        log.printf("soak: %s: entry exhaustion: %d green threads x 3 getpid through %d free entries (started in %.1f s,"
                        + " the other %d entries let go %.1f s after the start): %s %.1f s after that%n", kind, crowd,
                64 - HOLDERS, (released - t0) / 1e9 - CROWD_WAIT_MILLIS / 1e3, HOLDERS, (released - t0) / 1e9,
                done ? "done" : crowdCrew.alive() + " threads still running", (System.nanoTime() - released) / 1e9);
        holders.stopAndJoin(Run.CALL_BOUND_NANOS);
        crowdCrew.stopAndJoin(Run.CALL_BOUND_NANOS);
        t.close(run.ledger, CLOSE_BOUND_NANOS);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
