package dev.flexsc.threads;

/**
 * A snapshot of a {@link FlexscScheduler}'s counters, summed over its carriers.
 *
 * @param carriers     carrier threads
 * @param pinned       carriers whose sched_setaffinity to their user CPU succeeded
 * @param liveThreads  virtual threads created by its factories and not yet ended
 * @param dispatches   continuations run (thread starts, resumptions after park or yield)
 * @param reaped       FlexSC calls whose completion a carrier reaped for a parked owner
 * @param sleeps       times a carrier slept (completion wait or park)
 * @param steals       continuations taken from another carrier's queue
 * @param spinWakes    times a carrier announced sleep but found work on the recheck
 */
public record SchedulerStats(int carriers, int pinned, long liveThreads, long dispatches, long reaped,
                             long sleeps, long steals, long spinWakes) {}
