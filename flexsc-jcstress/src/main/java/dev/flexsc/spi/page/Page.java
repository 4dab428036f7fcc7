package dev.flexsc.spi.page;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * One group of one page in memory of its own per jcstress state, seen two ways: by the
 * production classes the engine posts through ({@link SyscallPage}, {@link Submitter}), called
 * as they are; and by the executor's half of the protocol, which libflexsc (flexsc.c:
 * {@code run_word}, {@code claim_entry}, {@code complete}, {@code executor_idle}) and the
 * kernel module run in C. That half cannot run inside a jcstress actor, so it is written here
 * with the same accesses and the same orderings as the C code, each named below.
 */
final class Page {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** Entry 5 of group 0: not entry 0, so the bit and offset arithmetic is exercised. */
    static final int INDEX = 5;

    private final MemorySegment m = Arena.ofAuto().allocate(mappingSize(1, 1), ENTRY_ALIGN);
    private final long group = groupOffset(0);
    /** The submitter's side: the engine's own page view and submission path. */
    final SyscallPage pages = new SyscallPage(m, 1, 1);
    final Submitter submitter = new Submitter(null, pages, new CountingControl());
    final long entry = pages.entry(0, INDEX);

    /** Executor, claiming work: takes the group's submit bits (flexsc.c: atomic_fetch_and, acquire). */
    long takeBits() {
        return (long) LONG.getAndSetAcquire(m, group + GROUP_SUBMIT_BITS, 0L);
    }

    /** Executor: claims the entry, SUBMITTED -> BUSY (flexsc.c claim_entry: CAS, acquire). */
    boolean claim() {
        return INT.compareAndSet(m, entry + ENTRY_STATUS, STATUS_SUBMITTED, STATUS_BUSY);
    }

    /** Executor, after {@link #claim}: the call's first argument (a plain load, as in C). */
    long arg0() {
        return m.get(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS);
    }

    /** Executor: stores the result and completes the entry, BUSY -> DONE (flexsc.c complete: release). */
    void complete(long ret) {
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_RET, ret);
        INT.setRelease(m, entry + ENTRY_STATUS, STATUS_DONE);
    }

    /**
     * The group's last executor going to sleep (flexsc.c executor_idle): sets NEED_WAKEUP
     * (seq_cst RMW), then looks for submit bits (relaxed load after it). True if it saw work,
     * and would not sleep.
     */
    boolean armNeedWakeupThenLook() {
        INT.getAndBitwiseOr(m, group + GROUP_FLAGS, GROUP_NEED_WAKEUP);
        return (long) LONG.getOpaque(m, group + GROUP_SUBMIT_BITS) != 0;
    }

    /** Sets NEED_WAKEUP, as a sleeping executor left it. */
    void sleeping() {
        INT.getAndBitwiseOr(m, group + GROUP_FLAGS, GROUP_NEED_WAKEUP);
    }

    /** The entry's status now (for arbiters, after the actors ended). */
    int status() {
        return (int) INT.getVolatile(m, entry + ENTRY_STATUS);
    }

    /** The control plane of these tests: a wake-up only counts (the executor is an actor). */
    private static final class CountingControl implements ExecutorControl {
        @Override
        public void wakeExecutors(int g) {
        }

        @Override
        public void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) {
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
        }

        @Override
        public int executorThreads() {
            return 0;
        }
    }
}
