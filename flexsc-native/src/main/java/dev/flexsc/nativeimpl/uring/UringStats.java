package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.EngineStats;

import java.util.Map;

/**
 * Counters of one io_uring engine; see {@link UringEngine#uringStats()}.
 *
 * @param ringCalls     per call name, calls that ran on a ring (once per call, however many SQEs it took)
 * @param directCalls   per call name, calls the engine made directly because the ring has no
 *                      operation for them or would not run their shape as the syscall does
 * @param fallbackCalls per call name, calls that ran on the SYSCALL_THREADS fallback (shapes that may wait without bound)
 * @param enterCalls    io_uring_enter calls of every kind
 * @param inFlight      calls in flight on the carriers' rings now
 * @param submitEnters  io_uring_enter calls that submitted SQEs (IO_URING; a carrier's sleep that also submitted counts)
 * @param waitEnters    io_uring_enter calls that waited for completions (sleeping carriers, waiting platform threads)
 * @param carrierWakes  eventfd writes that woke a carrier sleeping in its ring (or its next sleep)
 * @param carrierRings  carriers' rings open now
 * @param platformRings platform rings set up now (lent and idle)
 * @param machineryFailures io_uring_enter calls that failed unexpectedly (their SQEs went with a later entry)
 */
public record UringStats(Engine engine, Map<String, Long> ringCalls, Map<String, Long> directCalls,
                         Map<String, Long> fallbackCalls, long enterCalls, long cqOverflowFlushes, long sqFullWaits,
                         long cancels, long resubmits, int inFlight, EngineStats fallback, long submitEnters,
                         long waitEnters, long carrierWakes, int carrierRings, int platformRings,
                         long machineryFailures) {
}
