package dev.flexsc.spi;

import java.util.Objects;

/**
 * The JVM-wide hook that tells an engine its caller is a green thread of FlexSC's M:N
 * scheduler, and which carrier runs it: a call from such a thread hands its outstanding call
 * to that carrier ({@link CallCarrier#watch}) and parks, instead of sleeping until the
 * completion. Every engine asks {@link #currentCarrier()} (page engines, io_uring, the call
 * policy); the scheduler {@linkplain #install installs} its {@link Locator} when it starts.
 * Until then, and on platform threads and virtual threads of other schedulers, there is no
 * carrier and callers wait the platform way. Not for applications.
 *
 * <p>Thread-safe. The locator is published with a volatile store and read with a volatile
 * load on virtual threads only: a platform thread's call never reads it.
 */
public final class GreenThreads {
    private GreenThreads() {}

    /** Finds the carrier of the calling thread. */
    @FunctionalInterface
    public interface Locator {
        /**
         * The carrier the current thread is mounted on, or null if the current thread is
         * not a green thread of the installing scheduler (it then waits the platform way).
         * Called on every call from a virtual thread: must be cheap and must not block.
         */
        CallCarrier current();
    }

    /** Set once by the M:N scheduler; null while none has started. */
    private static volatile Locator locator;

    /**
     * Installs the scheduler's hook. Once per JVM: installing the same locator again is a
     * no-op.
     *
     * @throws IllegalStateException if a different locator is already installed
     */
    public static synchronized void install(Locator l) {
        Objects.requireNonNull(l, "locator");
        Locator now = locator;
        if (now != null && now != l) {
            throw new IllegalStateException("a green-thread scheduler is already installed: " + now);
        }
        locator = l; // volatile: pairs with the load in currentCarrier()
    }

    /** True once a scheduler installed its locator. */
    public static boolean isInstalled() {
        return locator != null;
    }

    /**
     * The carrier of the calling green thread, or null on a platform thread, on a virtual
     * thread that is not a green thread of the installed scheduler, and while none is
     * installed.
     */
    public static CallCarrier currentCarrier() {
        Locator l;
        // Volatile load of the locator, only on virtual threads: platform threads never pay it.
        if (!Thread.currentThread().isVirtual() || (l = locator) == null) {
            return null;
        }
        return l.current();
    }
}
