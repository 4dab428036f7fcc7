package dev.flexsc;

/**
 * A snapshot of an engine's counters. Counters only grow; take two snapshots and
 * subtract for a rate. The syscall side may add its counts ({@code executed}, {@code refused},
 * {@code batches}) after it completed the calls they count (KERNEL_MODULE adds them once per
 * batch), so right after a call returns they may not include it yet.
 *
 * <p>Each counter means the same on SYSCALL_THREADS and KERNEL_MODULE (the page engines).
 * The io_uring engines have no executor threads of their own to count, so four counters
 * count the nearest thing there, as each parameter says; their calls handed to the
 * SYSCALL_THREADS fallback are in that engine's own stats
 * ({@code UringEngine.uringStats().fallback()}).
 *
 * @param engine the engine kind
 * @param submitted calls posted: entries written to the syscall pages; io_uring: SQEs of
 *               calls (a call continued after a short write or a probe counts again)
 * @param executed calls the syscall threads executed (allow-list checked); io_uring: CQEs of
 *               calls reaped
 * @param refused entries the executors refused (not allow-listed or malformed); io_uring: 0
 * @param batches batches the executors claimed (one bitmap word with at least one call);
 *               io_uring: {@code io_uring_enter} calls that submitted SQEs (IO_URING; 0 with
 *               SQPOLL, whose polling thread takes SQEs without a system call)
 * @param executorSleeps times a syscall thread went to sleep for lack of work; io_uring with
 *               SQPOLL: times a submitter found the polling thread asleep (IO_URING: 0)
 * @param wakeups wake-ups submitters had to send to sleeping syscall threads; io_uring with
 *               SQPOLL: {@code IORING_ENTER_SQ_WAKEUP} calls (IO_URING: 0)
 * @param callerParks times a caller stopped spinning and slept (or, on a green thread, parked)
 *               until its completion
 * @param executorThreads syscall threads alive now; io_uring: the SQ polling thread (1 with
 *               SQPOLL) plus the fallback engine's threads
 * @param posted calls the {@linkplain CallPolicy call policy} sent down the exception-less path
 *               (for io_uring engines including those it hands to its fallback engine)
 * @param direct calls the call policy made directly on the calling thread (never posted)
 */
public record EngineStats(Engine engine, long submitted, long executed, long refused, long batches,
                          long executorSleeps, long wakeups, long callerParks, int executorThreads,
                          long posted, long direct) {
}
