package dev.flexsc.threads;

import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CarrierContext;

import java.io.IOException;
import java.util.Arrays;

/**
 * A carrier's own submission and completion contexts, one per engine its green threads
 * called through ({@link CarrierContext}): opened on first use, polled by the carrier's loop,
 * forgotten once their engine closed them. The first one opened is the primary: the carrier
 * sleeps in it, and every other one {@linkplain CarrierContext#notifyOn notifies} its wake
 * descriptor of its completions, so that any completion ends the sleep.
 *
 * <p>Carrier-private: touched only on the carrier's OS thread (by the carrier, or by a green
 * thread mounted on it asking for its context), so it needs no synchronisation. A waker
 * reaches the primary through {@link CarrierIdle}, which publishes it with its sleep. The
 * carrier's compensator, while it is held, reaches the contexts through {@link #shared}, a
 * copy published whenever the set changes (rarely: an engine's first call, its close).
 */
final class CarrierContexts {
    private final CallCarrier carrier;
    private CarrierContext.Provider[] providers = new CarrierContext.Provider[2];
    private CarrierContext[] contexts = new CarrierContext[2];
    private int count;
    /**
     * The open contexts and their providers ({@code [2i]}, {@code [2i+1]}), for other threads
     * ({@link #pollHeld}, {@link #anyCallsInFlight}): a fresh array stored (volatile) after each
     * change, so a reader sees a complete set, never one being changed.
     */
    private volatile Object[] shared = new Object[0];
    /** Opens that failed (the engine refused): statistics. */
    private long failedOpens;

    CarrierContexts(CallCarrier carrier) {
        this.carrier = carrier;
    }

    /** The context for {@code provider}, opened now if this carrier has none; null if it cannot be. */
    CarrierContext context(CarrierContext.Provider provider) {
        for (int i = 0; i < count; i++) {
            if (providers[i] == provider) return contexts[i].isClosed() ? null : contexts[i];
        }
        CarrierContext c;
        try {
            c = provider.openContext(carrier);
        } catch (IOException | RuntimeException refused) {
            failedOpens++;
            return null;
        }
        if (VirtualThreads.currentCarrier() != carrier.thread()) {
            // The asking green thread unmounted while the engine set the context up and now
            // runs on another carrier: this carrier's arrays are not its to touch from here
            // (the carrier, or a thread on it, may be changing them). An engine must not block
            // there; should one, the context is given up (it has no call yet) and the thread's
            // call takes the engine's other path.
            c.close(0);
            return null;
        }
        // From here to the return nothing blocks: the reads and stores are this carrier's own.
        if (count > 0) c.notifyOn(contexts[0].wakeFd());
        if (count == contexts.length) {
            contexts = Arrays.copyOf(contexts, count * 2);
            providers = Arrays.copyOf(providers, count * 2);
        }
        providers[count] = provider;
        contexts[count++] = c;
        publish();
        return c;
    }

    /** Contexts open now. */
    int size() {
        return count;
    }

    /** The context the carrier sleeps in, or null if it has none. */
    CarrierContext primary() {
        return count > 0 ? contexts[0] : null;
    }

    /**
     * True if a completion in any context ends a sleep in the primary: there is one context,
     * or the primary has a wake descriptor and every other one notifies it.
     */
    boolean othersWakePrimary() {
        if (count <= 1) return true;
        if (contexts[0].wakeFd() < 0) return false;
        for (int i = 1; i < count; i++) {
            if (!contexts[i].notifies()) return false;
        }
        return true;
    }

    /** True while a context has calls in flight (their owners are parked on this carrier). */
    boolean hasCalls() {
        for (int i = 0; i < count; i++) {
            if (contexts[i].hasCalls()) return true;
        }
        return false;
    }

    /** True if a context has something for {@link #poll()} to do ({@link CarrierContext#needsPoll()}; spurious trues allowed). */
    boolean needsPoll() {
        for (int i = 0; i < count; i++) {
            if (contexts[i].needsPoll()) return true;
        }
        return false;
    }

    /**
     * Between two dispatches: reaps what every context shows completed
     * ({@link CarrierContext#reapPosted()}: a look at shared memory; a system call only for
     * completion work the kernel flagged).
     */
    int reapPosted() {
        int n = 0;
        for (int i = 0; i < count; i++) {
            n += contexts[i].reapPosted();
        }
        return n;
    }

    /** Submits and reaps on every context; forgets the ones their engines closed. Returns completions reaped. */
    int poll() {
        int n = 0;
        for (int i = 0; i < count; i++) {
            n += contexts[i].poll();
        }
        forgetClosed();
        return n;
    }

    /** After the primary's idle: the others are polled, and closed contexts forgotten. */
    int pollOthers() {
        int n = 0;
        for (int i = 1; i < count; i++) {
            n += contexts[i].poll();
        }
        forgetClosed();
        return n;
    }

    private void forgetClosed() {
        boolean primaryGone = false;
        int w = 0;
        for (int r = 0; r < count; r++) {
            if (contexts[r].isClosed()) {
                if (r == 0) primaryGone = true;
                continue;
            }
            contexts[w] = contexts[r];
            providers[w++] = providers[r];
        }
        for (int r = w; r < count; r++) {
            contexts[r] = null;
            providers[r] = null;
        }
        boolean changed = count != w;
        count = w;
        if (changed) publish();
        if (primaryGone && count > 0) {
            // A new primary: the others notify its descriptor from now on (and it no longer
            // notifies anyone's).
            contexts[0].notifyOn(-1);
            int fd = contexts[0].wakeFd();
            for (int i = 1; i < count; i++) contexts[i].notifyOn(fd);
        }
    }

    /** The carrier stops: every context is closed, waiting up to {@code timeoutNanos} in all. */
    void closeAll(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        for (int i = 0; i < count; i++) {
            contexts[i].close(Math.max(0, deadline - System.nanoTime()));
            contexts[i] = null;
            providers[i] = null;
        }
        count = 0;
        publish();
    }

    /** Carrier: publishes the set of contexts for other threads (see {@link #shared}). */
    private void publish() {
        Object[] s = new Object[2 * count];
        for (int i = 0; i < count; i++) {
            s[2 * i] = contexts[i];
            s[2 * i + 1] = providers[i];
        }
        shared = s; // volatile: the array's contents are visible to whoever reads it
    }

    /**
     * Any thread (the monitor): true if one of the contexts has calls in flight. A hint: the
     * contexts' counts are read racily.
     */
    boolean anyCallsInFlight() {
        Object[] s = shared;
        for (int i = 0; i < s.length; i += 2) {
            if (((CarrierContext) s[i]).hasCalls()) return true;
        }
        return false;
    }

    /**
     * The compensator of {@code held}'s carrier, on its own thread (these are its contexts):
     * polls each of {@code held}'s contexts in its carrier's stead
     * ({@link CarrierContext#pollHeld}), moving calls to this carrier's context of the same
     * engine (opened only when a call moves: a context that moves none, KERNEL_MODULE's group,
     * costs the compensator nothing). Returns calls moved and completions reaped.
     */
    int pollHeld(CarrierContexts held) {
        Object[] s = held.shared;
        int n = 0;
        for (int i = 0; i < s.length; i += 2) {
            CarrierContext theirs = (CarrierContext) s[i];
            if (!theirs.hasCalls()) continue; // a racy hint: nothing to reap or move there
            CarrierContext.Provider p = (CarrierContext.Provider) s[i + 1];
            n += theirs.pollHeld(() -> context(p));
        }
        return n;
    }

    /** Opens the engines refused (statistics). */
    long failedOpens() {
        return failedOpens;
    }
}
