package dev.flexsc.bench.soak;

import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine a group of workers calls, and whether its close has begun: from then on (and
 * only then) {@link dev.flexsc.EngineClosedException} is an expected outcome.
 */
final class Target {
    final FlexscEngine engine;
    final Syscalls sys;
    final String name;
    /** Set before close() is called (volatile: workers read it after their call failed). */
    volatile boolean closing;
    /** Operations on this engine in flight now. */
    final AtomicInteger inFlight = new AtomicInteger();

    Target(FlexscEngine engine, String name) {
        this.engine = engine;
        this.sys = engine.syscalls();
        this.name = name;
    }

    /** Closes the engine, as an operation of the ledger with the liveness bound {@code boundNanos}. */
    void close(Ledger ledger, long boundNanos) {
        closing = true;
        Op op = ledger.begin("close(" + name + ")", boundNanos);
        try {
            engine.close();
            op.ok();
        } catch (RuntimeException e) {
            op.error(e);
        }
    }
}
