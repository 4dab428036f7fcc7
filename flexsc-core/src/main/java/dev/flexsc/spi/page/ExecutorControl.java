package dev.flexsc.spi.page;

import java.io.IOException;

/**
 * The control plane of a {@link PageEngine}: the executors that run its entries (libflexsc's
 * pthreads, the kernel module's SERVE threads, a test's Java thread) and the sleeps and
 * wake-ups around them. The engine's data plane is plain Java over the pages; everything that
 * needs the executors' own machinery (a futex, an ioctl, a signal) goes through here. An
 * engine supplies one at construction (composition: the data plane never depends on which).
 *
 * <p>Called from any thread; implementations are thread-safe. Methods that may fail after a
 * call was posted ({@link #wakeExecutors}, {@link #awaitCompletions}) have their failures
 * counted by the engine and waited out, never thrown to a caller that has a call in flight.
 */
public interface ExecutorControl {
    /** Wakes the sleeping executors of group g (NEED_WAKEUP was seen set). */
    void wakeExecutors(int g) throws IOException;

    /**
     * Sleeps until group g's done_seq differs from {@code seenDoneSeq}, the timeout passes, or
     * a spurious wake-up; returns promptly in every case once the executors are stopped. The
     * caller registered in done_waiters first.
     */
    void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) throws IOException;

    /** Wakes every caller sleeping in {@link #awaitCompletions} on group g. */
    void wakeCallers(int g) throws IOException;

    /** Interrupts the executor running entry {@code index} of group g, if any (best effort; repeated by the caller). */
    void cancel(int g, int index);

    /** Stops every executor; true if all stopped within the timeout. */
    boolean stopExecutors(long timeoutMillis);

    /**
     * Frees the mapping and the native resources; {@code safe} is false if an executor may
     * still touch the pages (they must then stay mapped). The engine's own view of the
     * mapping is closed here, which makes later Java accesses through it throw.
     */
    void release(boolean safe);

    /** Executor threads alive now. */
    int executorThreads();

    /**
     * Whether a submitter that sees NEED_WAKEUP clears it before waking (true: one wake-up
     * per sleep, libflexsc's protocol). Executors that own the flag return false: the kernel
     * module keeps NEED_WAKEUP set exactly while no syscall thread holds its run token, so
     * every submitter that sees it set wakes until a thread takes the token (as io_uring's
     * IORING_SQ_NEED_WAKEUP works).
     */
    default boolean submitterClearsNeedWakeup() {
        return true;
    }

    /**
     * Whether the group's done_waiters word counts every sleeper in {@link #awaitCompletions}
     * exactly, so that a waker may skip {@link #wakeCallers} when it reads 0. False for the
     * kernel module, whose own copy of the count (written for information) and the Java
     * sleepers' increments share the word: a waker then always calls it.
     */
    default boolean countsDoneWaiters() {
        return true;
    }

    /**
     * Why the executors stopped without the engine's close (the kernel module's stop
     * reason), for the messages of the calls that then fail; null (the default) when only
     * close stops them.
     */
    default String stopCause() {
        return null;
    }
}
