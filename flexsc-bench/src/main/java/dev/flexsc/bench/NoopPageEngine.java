package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.SubmissionScan;
import dev.flexsc.spi.page.ExecutorControl;
import dev.flexsc.spi.page.PageEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * A page engine with no executor thread: the caller, when it waits, runs the posted
 * entries itself, the way {@code flexsc_wait()} does on a single core, and runs no system
 * call: it claims each entry exactly as libflexsc does (exchange of the submit-bitmap word,
 * CAS SUBMITTED -> BUSY), stores {@code ret = pid}, releases DONE and bumps
 * {@code done_seq}. With {@code callerSpin 0} the caller's CPU per call is then the
 * shared-memory mechanism alone (allocate, post, publish, reap, the handles) plus this
 * executor's own few atomics, with no kernel work and no scheduling between threads: an
 * upper bound of what the mechanism costs the application core. The executor's part is
 * timed apart ({@link #executorNanos()}), so the study can also show the application side
 * alone: what a caller pays when a syscall thread on another core runs the entries.
 * For the batch study only.
 */
final class NoopPageEngine extends PageEngine {
    private final CallerRunsEntries executor;

    private NoopPageEngine(FlexscConfig config, MemorySegment mapping, CallerRunsEntries executor) {
        super(Engine.SYSCALL_THREADS, config, mapping, 1, config.pages(), null, executor);
        this.executor = executor;
    }

    static NoopPageEngine open(FlexscConfig config) {
        Arena arena = Arena.ofShared();
        MemorySegment m = arena.allocate(mappingSize(1, config.pages()), PAGE_SIZE);
        return new NoopPageEngine(config, m, new CallerRunsEntries(config, arena, m));
    }

    /**
     * Nanoseconds this engine's waiter spent running the posted entries as their executor
     * (claim, {@code ret}, DONE, {@code done_seq}; timed with two {@code nanoTime} reads per
     * wait, which count in it). Only for the thread that submits: not thread-safe.
     */
    long executorNanos() {
        return executor.executorNanos;
    }

    /** The control plane: the waiting caller runs what is pending, as flexsc_wait() does. */
    private static final class CallerRunsEntries implements ExecutorControl, SubmissionScan.Claimed {
        private final Arena arena;
        private final SubmissionScan scan;
        private final long pid = ProcessHandle.current().pid();
        /**
         * Wall time spent in {@link #runPending()} (the executor's side of each entry, run on the
         * caller's thread), so the study can report the caller's own CPU apart from it. Written
         * and read by the one caller thread of the study.
         */
        private long executorNanos;

        CallerRunsEntries(FlexscConfig config, Arena arena, MemorySegment mapping) {
            this.arena = arena;
            this.scan = new SubmissionScan(mapping, 1, config.pages(), 0);
        }

        /** The executor's loop, once, on the calling thread: every claimed entry returns the pid. */
        private void runPending() {
            if (scan.scan(this) > 0) scan.bumpDoneSeq();
        }

        @Override
        public void claimed(int index, long entry) {
            scan.complete(entry, pid);
        }

        @Override
        public void wakeExecutors(int g) {
            // never asleep
        }

        @Override
        public void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) {
            long t0 = System.nanoTime();
            runPending(); // flexsc_wait: the waiter executes what is pending
            executorNanos += System.nanoTime() - t0;
        }

        @Override
        public void wakeCallers(int g) {
        }

        @Override
        public void cancel(int g, int index) {
        }

        @Override
        public boolean stopExecutors(long timeoutMillis) {
            return true;
        }

        @Override
        public void release(boolean safe) {
            if (safe) arena.close();
        }

        @Override
        public int executorThreads() {
            return 0;
        }
    }
}
