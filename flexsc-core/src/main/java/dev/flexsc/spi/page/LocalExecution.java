package dev.flexsc.spi.page;

/**
 * The control plane's part of the carrier-local mode ({@link CarrierGroups}): a carrier runs
 * its own group's pending entries in its own thread, in one kernel entry, and sleeps there.
 * Implemented by the kernel module's control plane (its WAIT with EXECUTE); an engine whose
 * executors cannot do this has no carrier groups.
 */
public interface LocalExecution {
    /**
     * Runs group g's pending entries in the calling thread (calls that may block are left to
     * the group's syscall threads), then, if it ran none and the group's done_seq still reads
     * {@code seenDoneSeq}, sleeps until done_seq moves (a completion, or {@link
     * ExecutorControl#wakeCallers}), {@code timeoutNanos} pass (0: never sleeps), a signal, or
     * the stop. One kernel entry in every case.
     *
     * @return the entries it ran; 0 once the executors are stopped (or refused this thread,
     *         which stops them: the callers then see the stop)
     */
    int executeAndWait(int g, int seenDoneSeq, long timeoutNanos);
}
