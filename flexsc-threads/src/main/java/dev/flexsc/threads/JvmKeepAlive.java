package dev.flexsc.threads;

import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the JVM alive while some virtual threads live, as if they were non-daemon threads.
 *
 * <p>Virtual threads are always daemon threads, so a {@code main} that hands work to a pool of
 * them and returns lets the JVM exit before the work runs, where the JDK's pools (non-daemon
 * platform threads from {@code Executors.defaultThreadFactory()}) keep it alive. A thread that
 * {@linkplain #acquire holds} this keep-alive counts from its creation until its task ends;
 * while any does, one non-daemon platform thread ({@value #HOLDER_NAME}) waits here, and the
 * JVM's exit waits for it. It ends when the last hold is released, so the JVM exits as it would
 * once the last non-daemon thread ended.
 *
 * <p>A hold starts at creation, not at {@code start()} (which cannot be observed): between a
 * pool's {@code newThread} and the thread's first instruction its continuation sits in a carrier
 * queue, and the caller may return from {@code main} meanwhile. A thread that is never started
 * (a {@code ThreadPoolExecutor} that was shut down while it added a worker) would then hold the
 * JVM forever; so a hold whose thread is still {@code NEW} {@value #UNSTARTED_GRACE_MILLIS} ms after
 * its creation is dropped, and taken again if the thread runs after all.
 *
 * <p>Thread-safe; every mutable field here and in {@link Hold} is guarded by {@code this}.
 */
final class JvmKeepAlive {
    static final String HOLDER_NAME = "flexsc-keep-alive";
    /**
     * How long a created thread may stay unstarted and still hold the JVM. Pools start a thread
     * microseconds after creating it; a thread still {@code NEW} after this long was abandoned
     * (or is started late by hand, and then holds again from its first instruction).
     */
    static final long UNSTARTED_GRACE_MILLIS = 2_000;

    /** One thread that keeps the JVM alive. */
    static final class Hold {
        final Thread thread;
        final long createdNanos = System.nanoTime();
        /** The thread ran its first instruction ({@link #started}). */
        boolean running;
        /** The hold was dropped while the thread was unstarted. */
        boolean dropped;

        Hold(Thread thread) {
            this.thread = thread;
        }
    }

    private final Set<Hold> holds = new HashSet<>();
    /** The non-daemon thread waiting in {@link #holdJvm()}; null when no hold is taken. */
    private Thread holder;

    /** {@code t} (created, not yet started) keeps the JVM alive until {@link #release}. */
    synchronized Hold acquire(Thread t) {
        Hold h = new Hold(t);
        add(h);
        return h;
    }

    /** Called first thing on the held thread: takes the hold again if it was dropped unstarted. */
    synchronized void started(Hold h) {
        h.running = true;
        if (h.dropped) { // started long after its creation
            h.dropped = false;
            add(h);
        }
    }

    /** The held thread's task ended: it no longer keeps the JVM alive. */
    synchronized void release(Hold h) {
        if (holds.remove(h) && holds.isEmpty()) notifyAll();
    }

    /** Drops every hold (their scheduler closed: those threads never run again). */
    synchronized void releaseAll() {
        holds.clear();
        notifyAll();
    }

    /** Threads holding the JVM now (tests). */
    synchronized int held() {
        return holds.size();
    }

    /** The non-daemon thread holding the JVM, or null (tests). */
    synchronized Thread holderThread() {
        return holder;
    }

    private void add(Hold h) { // caller holds the lock
        holds.add(h);
        if (holder == null) {
            // Started here, on the creating thread, so it is alive before that thread goes on
            // (for instance back out of main): the JVM's exit then waits for it.
            Thread t = Thread.ofPlatform().name(HOLDER_NAME).daemon(false)
                    .inheritInheritableThreadLocals(false).stackSize(128 * 1024)
                    .unstarted(this::holdJvm);
            t.setContextClassLoader(null); // pins no application class loader
            holder = t;
            t.start();
        }
        notifyAll(); // a holder waiting out a grace period re-plans
    }

    /** The holder's body: waits until no hold is left, dropping the abandoned unstarted ones. */
    private synchronized void holdJvm() {
        boolean interrupted = false;
        while (!holds.isEmpty()) {
            long waitMillis = 0; // 0: until notified
            long now = System.nanoTime();
            for (Iterator<Hold> it = holds.iterator(); it.hasNext(); ) {
                Hold h = it.next();
                // Started, or running: held until it ends. (A thread started after this check
                // runs started() later and takes the hold again.)
                if (h.running || h.thread.getState() != Thread.State.NEW) continue;
                long left = UNSTARTED_GRACE_MILLIS - TimeUnit.NANOSECONDS.toMillis(now - h.createdNanos);
                if (left <= 0) {
                    it.remove();
                    h.dropped = true;
                } else if (waitMillis == 0 || left < waitMillis) {
                    waitMillis = left;
                }
            }
            if (holds.isEmpty()) break;
            try {
                wait(waitMillis);
            } catch (InterruptedException e) {
                interrupted = true; // the JVM's life is not the interrupter's to end; keep holding
            }
        }
        holder = null;
        if (interrupted) Thread.currentThread().interrupt();
    }
}
