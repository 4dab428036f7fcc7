package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.EngineStats;

import java.util.Map;

/**
 * Counters of one io_uring engine; see {@link UringEngine#uringStats()}.
 *
 * @param ringCalls    per call name, calls that ran on the ring (once per call, however many SQEs it took)
 * @param fallbackCalls per call name, calls that ran on the SYSCALL_THREADS fallback
 * @param enterCalls   io_uring_enter calls of every kind
 * @param submitEnters io_uring_enter calls that submitted SQEs (IO_URING; a carrier's sleep that also submitted counts)
 * @param waitEnters   io_uring_enter calls that waited for completions (the completion thread, sleeping carriers)
 * @param wakeNops     NOPs posted to wake a carrier sleeping in io_uring_enter (IO_URING)
 */
public record UringStats(Engine engine, Map<String, Long> ringCalls, Map<String, Long> fallbackCalls,
                         long enterCalls, long cqOverflowFlushes, long sqFullWaits, long cancels,
                         long resubmits, int inFlight, EngineStats fallback, long submitEnters,
                         long waitEnters, long wakeNops) {
}
