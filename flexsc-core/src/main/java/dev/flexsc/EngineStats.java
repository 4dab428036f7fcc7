package dev.flexsc;

/**
 * A snapshot of an engine's counters. Counters only grow; take two snapshots and
 * subtract for a rate. The syscall side may add its counts ({@code executed}, {@code refused},
 * {@code batches}) after it completed the calls they count (KERNEL_MODULE adds them once per
 * batch), so right after a call returns they may not include it yet.
 *
 * @param engine the engine kind
 * @param submitted calls posted to the syscall pages
 * @param executed calls the syscall threads executed (allow-list checked)
 * @param refused entries the executors refused (not allow-listed or malformed)
 * @param batches batches the executors claimed (one bitmap word with at least one call)
 * @param executorSleeps times a syscall thread went to sleep for lack of work
 * @param wakeups wake-ups submitters had to send to sleeping syscall threads
 * @param callerParks times a caller stopped spinning and slept until its completion
 * @param executorThreads syscall threads alive now
 * @param posted calls the {@linkplain CallPolicy call policy} sent down the exception-less path
 *               (for io_uring engines including those it hands to its fallback engine)
 * @param direct calls the call policy made directly on the calling thread (never posted)
 */
public record EngineStats(Engine engine, long submitted, long executed, long refused, long batches,
                          long executorSleeps, long wakeups, long callerParks, int executorThreads,
                          long posted, long direct) {
}
