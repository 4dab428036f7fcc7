package dev.flexsc.bench.soak;

import java.util.Locale;
import java.util.Map;

/**
 * Liveness: every operation has a bound ({@link Op#boundNanos}); a daemon thread looks at
 * the operations in flight every {@link #TICK_MILLIS} ms and reports each one past its bound
 * once, as a hang, with the stack of the thread that made it (and, for the first hang, of
 * every platform thread), so that a hang names where it hangs. Then it lets every stuck
 * and blocked call go ({@code onFirstHang}), so that a hang that waits on one of them ends
 * and the run can finish and report. The run goes on: a hung operation that completes
 * later still settles (and is counted in both places).
 */
final class Watchdog implements AutoCloseable {
    static final long TICK_MILLIS = 200;

    private final Ledger ledger;
    private final Runnable onFirstHang;
    private final Thread thread;
    private volatile boolean stop;
    private boolean dumped;

    Watchdog(Ledger ledger, Runnable onFirstHang) {
        this.ledger = ledger;
        this.onFirstHang = onFirstHang;
        this.thread = Thread.ofPlatform().daemon().name("soak-watchdog").start(this::loop);
    }

    private void loop() {
        while (!stop) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            check();
        }
    }

    /** Reports every operation past its bound that was not reported yet. */
    synchronized void check() {
        long now = System.nanoTime();
        for (Op op : ledger.inFlight.values()) {
            if (!op.reportedHung && now - op.startNanos > op.boundNanos) {
                op.reportedHung = true;
                ledger.violation(Ledger.Count.HANGS, String.format(Locale.ROOT,
                        "%s still running after %.1f s (bound %.1f s)%s", op, op.ageSeconds(), op.boundNanos / 1e9,
                        stack(op.thread)));
                if (!dumped) {
                    dumped = true;
                    dumpPlatformThreads();
                    Thread.ofPlatform().daemon().name("soak-rescue").start(onFirstHang);
                }
            }
        }
    }

    private static String stack(Thread t) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) b.append("\n        at ").append(e);
        return b.toString();
    }

    /** Every platform thread's stack to stderr (virtual threads are named by their operations). */
    private static void dumpPlatformThreads() {
        StringBuilder b = new StringBuilder("soak: platform threads at the first hang:\n");
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            b.append("  \"").append(e.getKey().getName()).append("\" ").append(e.getKey().getState()).append('\n');
            for (StackTraceElement s : e.getValue()) b.append("        at ").append(s).append('\n');
        }
        System.err.print(b);
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
    }
}
