package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.page.ExecutorControl;
import dev.flexsc.spi.page.PageEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * A page engine whose executor is a Java thread under the test's control: it claims every
 * entry as libflexsc does (exchange of the submit word, CAS SUBMITTED -> BUSY) and runs it
 * directly ({@link DirectSyscalls#raw}), except the calls {@code hold} selects: those stay
 * BUSY until the test {@linkplain #complete completes} them, and nothing cancels them (a
 * call stuck in the kernel that a signal cannot end, as on FUSE or NFS). Closing the engine
 * while a call is held cannot stop its executor. For the buffer-lifetime tests.
 */
public final class HeldPageEngine extends PageEngine {
    /** A call the executor holds: its number and arguments as posted. */
    public record Held(int index, int nr, long[] args) {}

    private final Executor executor;

    private HeldPageEngine(FlexscConfig config, MemorySegment mapping, Executor executor) {
        super(Engine.SYSCALL_THREADS, config, mapping, 1, config.pages(), null, executor);
        this.executor = executor;
    }

    /**
     * An engine that holds the calls whose number {@code hold} accepts; every call is posted
     * (EXCEPTIONLESS) and close gives up after {@code closeTimeoutMillis}.
     */
    public static HeldPageEngine open(IntPredicate hold, long closeTimeoutMillis) {
        FlexscConfig config = FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(CallPolicy.EXCEPTIONLESS)
                .pages(1).callerSpin(0).closeTimeoutMillis(closeTimeoutMillis).build();
        long size = mappingSize(1, config.pages());
        MemorySegment pages = Arena.global().allocate(size, PAGE_SIZE);
        // The engine's view closes with the engine (later Java accesses throw), the pages stay.
        Arena arena = Arena.ofShared();
        return new HeldPageEngine(config, pages.reinterpret(arena, null), new Executor(config, arena, pages, hold));
    }

    /** Waits until a call is held (up to {@code millis}); null if none came. */
    public Held awaitHeld(long millis) {
        return executor.awaitHeld(millis);
    }

    /** Completes a held call with {@code ret}, as its stuck syscall returning at last. */
    public void complete(Held h, long ret) {
        executor.complete(h, ret);
    }

    /** Calls held now. */
    public int heldCount() {
        return executor.held.size();
    }

    /** Cancels asked for so far (none of them has any effect). */
    public int cancels() {
        return executor.cancels.get();
    }

    /** The control plane: one Java executor thread. */
    private static final class Executor implements ExecutorControl, SubmissionScan.Claimed {
        private final Arena arena;
        /**
         * Over the pages, not the engine's view, which closes with the engine: the pages are
         * never freed, as a native engine leaks pages an executor may still use.
         */
        private final SubmissionScan scan;
        private final IntPredicate hold;
        private final Map<Integer, Held> held = new ConcurrentHashMap<>();
        private final AtomicInteger cancels = new AtomicInteger();
        private final Thread executor;
        /** The monitor callers sleep on until done_seq moves. */
        private final Object sleepers = new Object();
        /** Set by close: the executor leaves once no call is held. */
        private volatile boolean stop;

        Executor(FlexscConfig config, Arena arena, MemorySegment pages, IntPredicate hold) {
            this.arena = arena;
            this.scan = new SubmissionScan(pages, 1, config.pages(), 0);
            this.hold = hold;
            this.executor = Thread.ofPlatform().daemon().name("held-executor").start(this::run);
        }

        private void run() {
            while (!stop || !held.isEmpty()) {
                if (scan.scan(this) == 0) LockSupport.parkNanos(200_000L);
            }
        }

        /** A claimed call: held if {@code hold} selects it, else run directly and completed. */
        @Override
        public void claimed(int index, long entry) {
            int nr = scan.nr(entry);
            long[] a = scan.args(entry);
            if (hold.test(nr)) {
                held.put(index, new Held(index, nr, a));
            } else {
                finish(index, DirectSyscalls.raw(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
            }
        }

        private void finish(int index, long ret) {
            scan.complete(scan.entry(index), ret);
            scan.bumpDoneSeq();
            wakeCallers(0);
        }

        Held awaitHeld(long millis) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() < deadline) {
                for (Held h : held.values()) return h;
                LockSupport.parkNanos(1_000_000L);
            }
            return null;
        }

        void complete(Held h, long ret) {
            if (held.remove(h.index()) == null) throw new IllegalStateException("not held: " + h);
            finish(h.index(), ret);
        }

        @Override
        public void wakeExecutors(int g) {
            LockSupport.unpark(executor);
        }

        @Override
        public void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) {
            long deadline = System.nanoTime() + timeoutNanos;
            synchronized (sleepers) {
                // Acquire: a completion published before done_seq moved is visible to the recheck;
                // finish() bumps done_seq, then notifies under this monitor: no lost wake-up.
                long left;
                while (scan.doneSeq() == seenDoneSeq && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(sleepers, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // the caller's wait sees it
                        return;
                    }
                }
            }
        }

        @Override
        public void wakeCallers(int g) {
            synchronized (sleepers) {
                sleepers.notifyAll();
            }
        }

        @Override
        public void cancel(int g, int index) {
            cancels.incrementAndGet(); // a call stuck in the kernel: nothing to do
        }

        @Override
        public boolean stopExecutors(long timeoutMillis) {
            stop = true;
            LockSupport.unpark(executor);
            return held.isEmpty(); // a held call does not let its executor stop
        }

        @Override
        public void release(boolean safe) {
            arena.close(); // the pages stay: see `scan`
        }

        @Override
        public int executorThreads() {
            return executor.isAlive() ? 1 : 0;
        }
    }
}
