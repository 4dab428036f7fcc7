package dev.flexsc.spi;

/**
 * The carrier (kernel-visible thread) of a green thread, as an engine sees it
 * when that green thread makes a call: instead of sleeping until its completion, the
 * caller hands the outstanding call to its carrier and parks, and the carrier runs other
 * green threads meanwhile. Implemented by the M:N scheduler (flexsc-threads), found
 * through {@link GreenThreads}.
 *
 * <p>All methods are called only by a green thread mounted on this carrier, that is on
 * the carrier's own OS thread; implementations may keep carrier-private state without
 * synchronisation for them.
 */
public interface CallCarrier {
    /**
     * True if another green thread could run on this carrier soon (it is queued, or parked
     * on a call of its own): the caller then parks at once rather than spinning for its
     * completion, so that it never keeps the carrier from the others. A hint; may be stale.
     */
    boolean hasOtherWork();

    /**
     * {@link dev.flexsc.CallPolicy#ADAPTIVE}: true if the calling green thread should post
     * its call, system call {@code nr}, and park (other threads of this carrier can use the
     * wait, and posting such calls has been paying off here), false if it should make the
     * call directly. When it returns true, the engine posts the call and passes it to
     * {@link #watch} (or the carrier learns nothing from it). Must be cheap (no clock reads,
     * no blocking); may reap completions, so that threads whose calls are done count as
     * work. Default: {@link #hasOtherWork()}.
     */
    default boolean postPays(int nr) {
        return hasOtherWork();
    }

    /**
     * The calling green thread posted its call into this carrier's own context (KERNEL_MODULE's
     * carrier group) instead of handing it to another thread: the carrier runs it in its own
     * next kernel entry, never while it runs other threads, so ADAPTIVE takes no latency sample
     * from it and judges its number by what posting gets done ({@link #postPays(int)}). Must be
     * cheap. Default: nothing.
     */
    default void postedLocally() {
    }

    /**
     * Takes charge of {@code call}: the carrier polls it while it runs or idles, and once
     * {@link PendingCall#isSettled()} it calls {@link PendingCall#fire()} and unparks
     * {@link PendingCall#owner()}. Must not park or block.
     */
    void watch(PendingCall call);

    /**
     * This carrier's own submission and completion context for the engine {@code provider},
     * opened by it on first use (on this carrier's OS thread, which the caller runs on) and
     * kept until the engine closes it or the carrier stops. The caller posts its call there
     * and parks; the carrier submits, reaps and sleeps through it ({@link CarrierContext}).
     * Default null: this carrier takes only {@link #watch}ed calls.
     *
     * @return the context, or null if none could be opened (the caller then waits the
     *         platform way)
     */
    default CarrierContext context(CarrierContext.Provider provider) {
        return null;
    }

    /**
     * The carrier's own OS thread (a platform thread), which the contexts opened for it
     * belong to. On the carrier, {@link Thread#currentThread()} is the green thread mounted on
     * it, which may end long before the carrier does. Default null: a carrier that opens no
     * context need not say.
     */
    default Thread thread() {
        return null;
    }

    /**
     * The CPU this carrier runs on (the one it is pinned to), or -1 if it has none: an engine
     * whose contexts belong to CPUs (KERNEL_MODULE's carrier groups) lends a carrier the one
     * of its CPU. Default -1.
     */
    default int cpu() {
        return -1;
    }
}
