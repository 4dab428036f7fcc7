package dev.flexsc.bench.soak;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One operation of the soak in flight: what it is, who makes it, since when, and its
 * liveness bound. It settles exactly once ({@link #ok}, {@link #failedAsExpected},
 * {@link #wrong}, {@link #error}); a second settlement is counted as a duplicated completion.
 */
final class Op {
    final Ledger ledger;
    final long id;
    final String kind;
    final long boundNanos;
    final long startNanos = System.nanoTime();
    final Thread thread = Thread.currentThread();
    private final AtomicInteger settled = new AtomicInteger();
    /** Set by the watchdog once it reported this operation past its bound. */
    volatile boolean reportedHung;

    Op(Ledger ledger, long id, String kind, long boundNanos) {
        this.ledger = ledger;
        this.id = id;
        this.kind = kind;
        this.boundNanos = boundNanos;
    }

    /** True for the first settlement; a later one is counted as duplicated. */
    private boolean settleOnce(String how) {
        if (settled.getAndIncrement() == 0) {
            ledger.inFlight.remove(id);
            return true;
        }
        ledger.violation(Ledger.Count.DUPLICATED, this + " settled again (" + how + ")");
        return false;
    }

    void ok() {
        if (settleOnce("ok")) ledger.count(Ledger.Count.OK);
    }

    void failedAsExpected() {
        if (settleOnce("expected failure")) ledger.count(Ledger.Count.FAILED_EXPECTED);
    }

    void wrong(String detail) {
        if (settleOnce("wrong result")) ledger.violation(Ledger.Count.WRONG, this + ": " + detail);
    }

    void error(Throwable t) {
        if (settleOnce("error")) ledger.violation(Ledger.Count.ERRORS, this + ": " + t);
    }

    /** A completion callback fired once more than it may (a future completed twice): a duplicate. */
    void duplicateCompletion(String what) {
        ledger.violation(Ledger.Count.DUPLICATED, this + ": " + what);
    }

    double ageSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    @Override
    public String toString() {
        return kind + "#" + id + " on " + thread.getName();
    }
}
