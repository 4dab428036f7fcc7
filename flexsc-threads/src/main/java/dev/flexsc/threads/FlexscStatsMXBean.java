package dev.flexsc.threads;

/**
 * Counters of one FlexSC scheduler and the engine its threads call, as a platform MXBean
 * named {@code dev.flexsc:type=FlexscStats,name=<scheduler name>} (e.g. {@code flexsc-1},
 * {@code flexsc-default}). Registered when the scheduler starts (a {@link FlexscRuntime},
 * {@link FlexscScheduler#open}, or the default scheduler on first use) and unregistered when
 * it closes. Engine attributes are filled once an engine is attached (a {@link FlexscRuntime}
 * attaches its own; a bare scheduler reports {@code "none"} and zeros). Counters only grow;
 * every read is a racy snapshot (statistics, not synchronisation). See docs/observability.md.
 */
public interface FlexscStatsMXBean {
    /** The scheduler's name. */
    String getName();

    /** The attached engine ({@code Engine} name), or {@code "none"}. */
    String getEngine();

    /** Carrier threads (one per user CPU). */
    int getCarriers();

    /** Carriers pinned to their CPU. */
    int getPinnedCarriers();

    /** Virtual threads of this scheduler alive now. */
    long getLiveThreads();

    /**
     * Compensating carriers started so far: each time one green thread held a carrier longer
     * than the monitor's bound (20 ms), another carrier was brought in on its CPU for the
     * carrier's other threads (docs/threads.md).
     */
    long getCompensations();

    // ---- engine (EngineStats) ----

    /** Calls posted to the engine (exception-less submissions). */
    long getCallsPosted();

    /**
     * Calls the engine's call policy made directly on the calling thread instead of posting
     * (EngineStats.direct; 0 under EXCEPTIONLESS).
     */
    long getCallsDirect();

    /** Calls the engine's syscall side executed. */
    long getCallsExecuted();

    /** Entries the engine refused (not allow-listed or malformed). */
    long getCallsRefused();

    /**
     * Batches the syscall side claimed (page engines: bitmap words with at least one call;
     * io_uring: {@code io_uring_enter} calls that submitted; see {@link dev.flexsc.EngineStats}).
     */
    long getExecutorBatches();

    /** Calls executed per claimed batch (0 before the first). */
    double getMeanExecutorBatchSize();

    /** Times a syscall thread went to sleep for lack of work (io_uring SQPOLL: times a submitter found the polling thread asleep). */
    long getExecutorSleeps();

    /** Wake-ups submitters sent to sleeping syscall threads (io_uring SQPOLL: {@code IORING_ENTER_SQ_WAKEUP} calls). */
    long getWakeups();

    /** Times a caller stopped spinning and parked (green threads) or slept (platform threads). */
    long getCallerParks();

    /** Syscall threads alive now. */
    int getExecutorThreads();

    // ---- scheduler (SchedulerStats and the carriers) ----

    /** Continuations run. */
    long getDispatches();

    /** FlexSC calls whose completion a carrier reaped for a parked owner. */
    long getReaped();

    /** Batches of completions reaped (one per carrier poll that found at least one). */
    long getReapBatches();

    /** Completions per reaped batch (0 before the first). */
    double getMeanReapBatchSize();

    /**
     * Reaped batches by size, in log2 buckets: index 0 = 1 call, 1 = 2-3, 2 = 4-7, 3 = 8-15,
     * 4 = 16-31, 5 = 32-63, 6 = 64-127, 7 = 128 or more.
     */
    long[] getReapBatchSizeHistogram();

    /** Times a carrier went to sleep (completion wait or park), counted as the sleep begins. */
    long getCarrierSleeps();

    /**
     * Nanoseconds the carriers spent asleep with nothing to run (summed over carriers),
     * including the sleeps in progress up to now: every sleep counted in
     * {@link #getCarrierSleeps()} read before this shows here.
     */
    long getCarrierIdleNanos();

    /** Continuations a carrier stole from another's queue. */
    long getSteals();

    /** Times a carrier announced sleep but found work on its recheck. */
    long getSpinWakes();

    // ---- ADAPTIVE call policy (the carriers' cost trials; 0 and empty under other policies) ----

    /**
     * Cost trials the carriers finished: for one call number, a phase of posting as the
     * latency samples say, then a phase of direct calls, compared by calls completed per
     * nanosecond (docs/io.md, "A cost trial before trusting post").
     */
    long getAdaptiveTrials();

    /** Finished cost trials in which posting completed fewer calls per nanosecond than direct calls. */
    long getAdaptiveTrialsLost();

    /**
     * The calls (names, e.g. {@code "write"}) whose last cost trial on at least one carrier
     * found posting to lose: ADAPTIVE calls them directly there until the verdict expires.
     */
    String[] getAdaptiveDirectCalls();
}
