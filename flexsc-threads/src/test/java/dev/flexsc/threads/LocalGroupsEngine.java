package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.spi.page.ExecutorControl;
import dev.flexsc.spi.page.LocalExecution;
import dev.flexsc.spi.page.PageEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * A page engine with carrier groups, whose control plane is a Java model of the kernel
 * module's: group 0 has a Java executor thread (SERVE), groups 1.. are carrier groups, one
 * per CPU it is opened with, each lent to the carrier of its CPU and run only by its
 * {@link LocalExecution#executeAndWait} (the module's WAIT with EXECUTE: claim, run, DONE,
 * done_seq; then sleep while done_seq is unchanged), and {@link #wakeCallers} bumps done_seq
 * and wakes the sleepers (WAKE_WAITERS). The carrier-local data plane and the scheduler then
 * run on any host; the module itself runs in the guest (ModuleCarrierTest).
 */
final class LocalGroupsEngine extends PageEngine {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private final Control control;

    private LocalGroupsEngine(FlexscConfig config, MemorySegment view, Control control, int[] carrierCpus) {
        super(Engine.SYSCALL_THREADS, config, view, control.groups, config.pages(), DirectSyscalls.invoker(), control,
                carrierCpus);
        this.control = control;
    }

    /** Every call posted (EXCEPTIONLESS), one page per group, one carrier group for CPU 0. */
    static LocalGroupsEngine open() {
        return open(CallPolicy.EXCEPTIONLESS, 0);
    }

    /** One page per group, a carrier group for each of {@code carrierCpus} (in that order: groups 1..). */
    static LocalGroupsEngine open(CallPolicy policy, int... carrierCpus) {
        FlexscConfig config = FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(policy)
                .pages(1).callerSpin(0).closeTimeoutMillis(5_000).build();
        int groups = 1 + carrierCpus.length;
        MemorySegment pages = Arena.global().allocate(mappingSize(groups, config.pages()), PAGE_SIZE);
        Arena arena = Arena.ofShared(); // the engine's view closes with it; the pages stay
        return new LocalGroupsEngine(config, pages.reinterpret(arena, null), new Control(config, arena, pages, groups),
                carrierCpus);
    }

    /** Holds the syscall thread (group 0) off its entries while {@code paused}: they stay SUBMITTED. */
    void pauseServe(boolean paused) {
        control.paused = paused;
        LockSupport.unpark(control.serve);
    }

    /** The carrier group that thread {@code carrier} last ran in its own kernel entry, or -1 if none. */
    int groupRunBy(Thread carrier) {
        return control.ranBy.getOrDefault(carrier, -1);
    }

    /** Calls the SERVE thread of group 0 ran. */
    long servedCalls() {
        return control.served.get();
    }

    /** The control plane: a SERVE thread for group 0, WAIT with EXECUTE for group 1. */
    private static final class Control implements ExecutorControl, LocalExecution {
        private final Arena arena;
        private final MemorySegment m;
        private final int pages;
        private final int groups;
        /** The carrier group each thread last ran in executeAndWait (the test's view of which group a carrier got). */
        private final java.util.concurrent.ConcurrentHashMap<Thread, Integer> ranBy = new java.util.concurrent.ConcurrentHashMap<>();
        private final Object sleepers = new Object();
        private final Thread serve;
        private final AtomicLong served = new AtomicLong();
        private volatile boolean stop;
        private volatile boolean paused;

        Control(FlexscConfig config, Arena arena, MemorySegment pages, int groups) {
            this.arena = arena;
            this.m = pages;
            this.pages = config.pages();
            this.groups = groups;
            this.serve = Thread.ofPlatform().daemon().name("local-groups-serve").start(this::serve);
        }

        private void serve() {
            while (!stop) {
                if (paused) {
                    LockSupport.parkNanos(100_000L);
                    continue;
                }
                int n = runPending(0);
                served.addAndGet(n);
                if (n == 0) LockSupport.parkNanos(100_000L);
            }
        }

        /** Claims group g's submitted entries (exchange of each word, CAS SUBMITTED -> BUSY) and runs them. */
        private int runPending(int g) {
            int done = 0;
            long bits = groupOffset(g) + GROUP_SUBMIT_BITS, entries = groupPagesOffset(groups, pages, g);
            for (int w = 0; w < entries(pages) / 64; w++) {
                // Acquire exchange: claims the word; pairs with the submitter's volatile OR.
                long v = (long) LONG.getAndSetAcquire(m, bits + w * 8L, 0L);
                while (v != 0) {
                    long e = entries + (long) (w * 64 + Long.numberOfTrailingZeros(v)) * ENTRY_SIZE;
                    v &= v - 1;
                    if (!INT.compareAndSet(m, e + ENTRY_STATUS, STATUS_SUBMITTED, STATUS_BUSY)) continue;
                    long[] a = new long[ARGS];
                    for (int i = 0; i < ARGS; i++) a[i] = m.get(ValueLayout.JAVA_LONG, e + ENTRY_ARGS + 8L * i);
                    long ret = DirectSyscalls.raw(m.get(ValueLayout.JAVA_INT, e + ENTRY_SYSNR), a[0], a[1], a[2], a[3], a[4], a[5]);
                    m.set(ValueLayout.JAVA_LONG, e + ENTRY_RET, ret);
                    INT.setRelease(m, e + ENTRY_STATUS, STATUS_DONE); // pairs with the owner's acquire
                    bump(g);
                    done++;
                }
            }
            return done;
        }

        /** done_seq += 1 (a volatile RMW), then the sleepers are woken under the monitor. */
        private void bump(int g) {
            INT.getAndAdd(m, groupOffset(g) + GROUP_DONE_SEQ, 1);
            synchronized (sleepers) {
                sleepers.notifyAll();
            }
        }

        @Override
        public int executeAndWait(int g, int seenDoneSeq, long timeoutNanos) {
            if (stop) return 0;
            ranBy.put(Thread.currentThread(), g);
            int n = runPending(g);
            if (n == 0 && timeoutNanos != 0) awaitCompletions(g, seenDoneSeq, timeoutNanos);
            return n;
        }

        @Override
        public void wakeExecutors(int g) {
            LockSupport.unpark(serve);
        }

        @Override
        public void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) {
            long deadline = System.nanoTime() + Math.min(timeoutNanos, TimeUnit.SECONDS.toNanos(60));
            synchronized (sleepers) {
                // Acquire: pairs with bump()'s RMW, which then notifies under this monitor.
                long left;
                while (!stop && (int) INT.getAcquire(m, groupOffset(g) + GROUP_DONE_SEQ) == seenDoneSeq
                        && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(sleepers, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        @Override
        public void wakeCallers(int g) {
            bump(g); // as WAKE_WAITERS
        }

        @Override
        public boolean countsDoneWaiters() {
            return false;
        }

        @Override
        public void cancel(int g, int index) {
            // runs only calls that do not block
        }

        @Override
        public boolean stopExecutors(long timeoutMillis) {
            stop = true;
            LockSupport.unpark(serve);
            synchronized (sleepers) {
                sleepers.notifyAll();
            }
            try {
                serve.join(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return !serve.isAlive();
        }

        @Override
        public void release(boolean safe) {
            arena.close();
        }

        @Override
        public int executorThreads() {
            return serve.isAlive() ? 1 : 0;
        }
    }
}
