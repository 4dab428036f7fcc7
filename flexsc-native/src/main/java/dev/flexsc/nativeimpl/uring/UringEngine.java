package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.CallPolicy;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import dev.flexsc.spi.BatchInvoker;
import dev.flexsc.spi.CallBatch;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.GreenThreads;
import dev.flexsc.spi.PostingRule;
import dev.flexsc.spi.CallGate;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;
import static dev.flexsc.Errno.ETIME;

/**
 * The io_uring engines: {@link Engine#IO_URING_SQPOLL} (a kernel thread polls the SQ on a
 * syscall CPU: submitting is a few stores, no system call while it is awake) and
 * {@link Engine#IO_URING} (the calls queued by every thread are submitted with one
 * {@code io_uring_enter} per batch, on the caller's core).
 *
 * <p><b>Data plane.</b> SQEs, the SQ tail, CQEs and the CQ head are read and written from
 * Java over {@link MemorySegment} views of the rings, with acquire/release accesses paired
 * with the kernel's (see the comment at each). Producers serialise on a short lock (64
 * bytes of stores and a release of the tail); the CQ is drained by whoever gets there first
 * (a caller, the completion thread, or a scheduler) and each CQE is matched by its
 * {@code user_data} (request slot + generation) to the waiting {@link UringCall}.
 *
 * <p><b>Calls io_uring has no operation for</b> (getpid, lseek, fstat, ...) and calls the
 * ring would not run identically (see {@link UringOps}) go to a {@link SyscallThreadsEngine}
 * opened on first use in the same engine. {@link #uringStats()} counts which went where.
 *
 * <p><b>Waiting.</b> A platform-thread caller spins {@link FlexscConfig#callerSpin()}
 * iterations reaping the CQ itself, then sleeps; a completion thread of the engine sleeps in
 * {@code io_uring_enter(GETEVENTS)} while any caller sleeps, and unparks callers as their
 * CQEs arrive. Blocking calls (a read on an empty pipe, accept) are handled asynchronously
 * by the kernel and stall nothing. An interrupt cancels such a call with
 * IORING_OP_ASYNC_CANCEL; it then fails with {@link java.io.InterruptedIOException}.
 *
 * <p><b>Call policy.</b> {@link #invoke} first applies {@link FlexscConfig#policy()}
 * ({@link CallGate}): a call made directly never reaches the ring. {@link #submit} always
 * posts.
 *
 * <p><b>Green threads</b> of the M:N scheduler hand their calls to their carrier
 * ({@link dev.flexsc.spi.PendingCall}): the carrier submits what it collected in one
 * io_uring_enter when it runs out of runnable threads, reaps, and idles in the kernel
 * (IO_URING) or on the engine's completion word (SQPOLL); see {@code carrierSleep}. Other
 * schedulers may use {@link #submit}, {@link #flush()}, {@link #reapCompletions()} and
 * {@link #awaitCompletions(long)} (docs/engines.md).
 *
 * <p>Thread-safe.
 */
public final class UringEngine implements FlexscEngine, SyscallInvoker, BatchInvoker {
    /** How long the completion thread sleeps in the kernel before re-checking its state. */
    private static final long REAPER_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Yields of a waiting caller between its spin and its sleep. */
    private static final int CALLER_YIELDS = 64;
    /** How often a call whose cancel did not take yet is cancelled again. */
    private static final long RECANCEL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** user_data of the engine's wake-up NOPs: no slot, never matched to a call. */
    static final long WAKE_USER_DATA = -1L;

    private final Engine kind;
    private final boolean sqpoll;
    private final FlexscConfig config;
    private final IoUring ring;
    private final boolean[] onRing;
    private final String routing;
    private final Syscalls syscalls;
    private final int callerSpin;
    /** The call policy, applied first in {@link #invoke}. */
    private final CallGate gate;
    /** ADAPTIVE posts only while a request slot is free (a hint: the volatile count of calls in flight). */
    private final CallGate.Room room;

    // ---- the ring's roles ----
    private final UringCounters counters = new UringCounters();
    private final RequestTable table;
    private final SubmissionQueue sq;
    private final CompletionQueue cq;
    /** The table's capacity (SQ + CQ entries). */
    private final int slots;

    // ---- completion thread ----
    private final Thread reaper;
    private final AtomicInteger sleepers = new AtomicInteger();
    private volatile boolean reaperIdle;
    /**
     * Set by the completion thread while it parks because another thread holds the CQ
     * ({@link CompletionQueue#tryAcquire}); whoever lets go of the CQ then unparks it ({@link #releaseCq()}).
     */
    private volatile boolean reaperWaitsForCq;
    private volatile boolean reaperStop;
    private final Arena reaperArena = Arena.ofShared();
    private final MemorySegment reaperScratch = reaperArena.allocate(IoUring.WAIT_SCRATCH_SIZE, 8);
    private final ReentrantLock waitLock = new ReentrantLock();
    private final MemorySegment waitScratch = reaperArena.allocate(IoUring.WAIT_SCRATCH_SIZE, 8);

    // ---- green threads: carriers of the M:N scheduler that idle on this engine ----
    /**
     * The carriers' completion word: incremented (volatile RMW) after every reap that
     * completed calls, and by {@link #wakeCarrierSleepers()}. A carrier that read it
     * unchanged knows that no call completed in between.
     */
    private final AtomicInteger completionWord = new AtomicInteger();
    /** Carriers parked on {@link #completionWord} (followers, and every carrier with SQPOLL). */
    private final ConcurrentLinkedQueue<Thread> wordSleepers = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wordSleeperCount = new AtomicInteger();
    /**
     * IO_URING: a carrier sleeps in io_uring_enter(GETEVENTS) while holding the CQ, so the CQ head cannot move under its wait; a waker then posts
     * {@link #wakeNop}, whose CQE ends the wait.
     */
    private volatile boolean leaderSleeping;
    /** The leader's io_getevents_arg + timespec (one leader at a time: it holds the CQ). */
    private final MemorySegment leaderScratch;
    /** A prebuilt IORING_OP_NOP whose CQE carries {@link #WAKE_USER_DATA} (ignored by dispatch). */
    private final UringCall wakeNop;
    /** Linux 6.10+: IORING_ACCEPT_DONTWAIT (probed at open). */
    private final boolean acceptDontwait;

    // ---- fallback ----
    private final Object fallbackLock = new Object();
    private volatile SyscallThreadsEngine fallback;

    // ---- life cycle ----
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    /** Set when close() gave up on calls still in flight: their callers fail. */
    private volatile boolean abandoned;
    /** Set just before the rings are unmapped: nothing touches them after. */
    private volatile boolean ringClosed;

    private UringEngine(Engine kind, FlexscConfig config, IoUring ring, boolean[] supported) {
        this.kind = kind;
        this.sqpoll = kind == Engine.IO_URING_SQPOLL;
        this.config = config;
        this.ring = ring;
        this.onRing = UringOps.route(supported);
        this.routing = UringOps.describe(onRing);
        this.callerSpin = config.callerSpin();
        // No direct try of recvfrom/sendto before posting them: here a post is one more SQE in
        // the carrier's next io_uring_enter (docs/io.md, point 6, has the measurements).
        this.gate = new CallGate(config.policy(), DirectSyscalls.invoker(), PostingRule.Post.RING_ENTRY);
        this.slots = ring.sqEntries + ring.cqEntries;
        this.table = new RequestTable(slots);
        this.sq = new SubmissionQueue(ring, sqpoll, counters);
        this.cq = new CompletionQueue(ring, counters);
        this.room = table::hasFreeSlot;
        this.syscalls = new Syscalls(this);
        this.leaderScratch = reaperArena.allocate(IoUring.WAIT_SCRATCH_SIZE, 8);
        this.wakeNop = new UringCall(this, null, null, 0, 0, 0, 0, 0, 0);
        wakeNop.opcode = (byte) OP_NOP;
        wakeNop.fd = -1;
        wakeNop.userData = WAKE_USER_DATA;
        this.reaper = Thread.ofPlatform().daemon().name("flexsc-uring-completions-" + ring.fd).unstarted(this::reapLoop);
        reaper.start();
        this.acceptDontwait = probeAcceptDontwait();
    }

    /**
     * Whether this kernel knows IORING_ACCEPT_DONTWAIT (6.10): an accept with the flag on
     * descriptor -1 fails with EBADF where it is known and EINVAL (flag check in the
     * preparation) where not.
     */
    private boolean probeAcceptDontwait() {
        try {
            UringCall c = new UringCall(this, null, Thread.currentThread(), 0, 0, 0, 0, 0, 0);
            c.opcode = (byte) OP_ACCEPT;
            c.fd = -1;
            c.ioprio = (short) ACCEPT_DONTWAIT;
            enqueue(c);
            return await(c) == -Errno.EBADF;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Opens an io_uring engine: one ring of {@code pages x 64} SQ entries (the syscall-page
     * capacity of one syscall CPU) and {@link FlexscConfig#uringCqEntries()} CQ entries
     * (default twice the SQ). With SQPOLL the polling thread is bound to the first syscall
     * CPU and sleeps after {@link FlexscConfig#sqThreadIdleMillis()} without work.
     *
     * @param kind {@link Engine#IO_URING_SQPOLL} or {@link Engine#IO_URING}
     * @throws ErrnoException if io_uring_setup, mmap or the probe fail (the message names the call)
     */
    public static UringEngine open(Engine kind, FlexscConfig config) throws IOException {
        if (kind != Engine.IO_URING && kind != Engine.IO_URING_SQPOLL) {
            throw new IllegalArgumentException("not an io_uring engine: " + kind);
        }
        String why = UringAvailability.unavailabilityCause(kind);
        if (why != null) throw new dev.flexsc.EngineUnavailableException(kind, why);
        int sq = config.pages() * 64;
        int flags = 0;
        int cpu = 0;
        if (kind == Engine.IO_URING_SQPOLL) {
            flags |= SETUP_SQPOLL;
            int[] cpus = config.syscallCpus();
            if (cpus.length > 0 && cpus[0] < Runtime.getRuntime().availableProcessors()) {
                flags |= SETUP_SQ_AFF;
                cpu = cpus[0];
            }
        }
        IoUring ring = IoUring.setup(sq, config.uringCqEntries(), flags, cpu, config.sqThreadIdleMillis());
        try {
            boolean[] supported = ring.probeOpcodes();
            if ((flags & SETUP_SQ_AFF) != 0) {
                // Keep the io-wq workers (blocking work) off the polling thread's CPU: there
                // they would wait for the busy poller to be preempted, for every call that
                // blocks. Best effort: Linux < 5.15 has no such knob.
                int[] others = java.util.stream.IntStream.range(0, Runtime.getRuntime().availableProcessors())
                        .filter(c -> c != cpu0(config)).toArray();
                if (others.length > 0) ring.registerIoWqAffinity(others);
            }
            return new UringEngine(kind, config, ring, supported);
        } catch (IOException | RuntimeException e) {
            ring.close();
            throw e;
        }
    }

    private static int cpu0(FlexscConfig config) {
        return config.syscallCpus()[0];
    }

    // ---- FlexscEngine ----

    @Override
    public Engine engine() {
        return kind;
    }

    @Override
    public FlexscConfig config() {
        return config;
    }

    @Override
    public Syscalls syscalls() {
        return syscalls;
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    /** SQ entries of the ring (as the kernel sized it). */
    public int sqEntries() {
        return ring.sqEntries;
    }

    /** CQ entries of the ring (as the kernel sized it). */
    public int cqEntries() {
        return ring.cqEntries;
    }

    /** Calls that may be in flight on the ring at once (SQ + CQ entries). */
    public int maxInFlight() {
        return slots;
    }

    /**
     * True if allow-listed call {@code nr} has an io_uring operation on this kernel (its
     * arguments may still send one particular call to the fallback: see {@link UringOps}).
     */
    public boolean routesToRing(int nr) {
        return nr >= 0 && nr < onRing.length && onRing[nr];
    }

    /** Which calls run on the ring and which on the fallback, in one line. */
    public String routing() {
        return routing;
    }

    /**
     * The counters: {@code submitted}/{@code executed} are SQEs and CQEs of calls on the
     * ring; {@code batches} the io_uring_enter calls that submitted (IO_URING);
     * {@code executorSleeps} the times a submitter found the SQ polling thread asleep and
     * {@code wakeups} the IORING_ENTER_SQ_WAKEUP calls that woke it; {@code executorThreads}
     * the SQ polling thread (1 with SQPOLL) plus the fallback's threads. Per-call routing:
     * {@link #uringStats()}.
     */
    @Override
    public EngineStats stats() {
        SyscallThreadsEngine fb = fallback;
        int threads = (sqpoll && !closed ? 1 : 0) + (fb != null && fb.isOpen() ? fb.stats().executorThreads() : 0);
        UringCounters k = counters;
        return new EngineStats(kind, k.submitted.sum(), k.completed.sum(), 0, k.submitEnters.sum(), k.sqThreadSleeps.sum(),
                k.sqWakeups.sum(), k.callerParks.sum(), threads, gate.posted(), gate.direct());
    }

    /** Engine-specific counters, with which calls ran on the ring and which on the fallback. */
    public UringStats uringStats() {
        UringCounters k = counters;
        SyscallThreadsEngine f = fallback;
        return new UringStats(kind, k.ringCalls(), k.fallbackCalls(), k.submitEnters.sum() + k.waitEnters.sum()
                + k.sqWakeups.sum(), k.overflowFlushes.sum(), k.sqFullWaits.sum(), k.cancels.sum(), k.resubmits.sum(),
                table.inFlight(), f == null ? null : f.stats(), k.submitEnters.sum(), k.waitEnters.sum(), k.wakeNops.sum());
    }

    // ---- the blocking call (SyscallInvoker) ----

    @Override
    public long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr); // refused calls never reach the ring
        if (closed) throw new EngineClosedException(call.name() + ": the engine is closed"); // volatile read
        long direct = gate.tryDirect(call, room, this, a0, a1, a2, a3, a4, a5); // the call policy
        if (direct != CallGate.POST) return direct;
        UringCall c = prepare(call, a0, a1, a2, a3, a4, a5);
        if (c == null) {
            return runOnFallback(call, a0, a1, a2, a3, a4, a5);
        }
        return runOnRing(c);
    }

    /**
     * Submits a prepared call and waits for it, continuing it where the syscall would
     * ({@link TransferRules}: probes, short reads and writes).
     */
    private long runOnRing(UringCall c) throws IOException {
        enqueue(c);
        return awaitResult(c);
    }

    /** Waits for a submitted call's result, continuing it where the syscall would ({@link TransferRules}). */
    private long awaitResult(UringCall c) throws IOException {
        return TransferRules.awaitWhole(c, rules);
    }

    /** What {@link TransferRules} needs of this engine: the wait, and a resubmission. */
    private final TransferRules.Ring rules = new TransferRules.Ring() {
        @Override
        public long await(UringCall c) throws IOException {
            return UringEngine.this.await(c);
        }

        @Override
        public void resubmit(UringCall c) throws IOException {
            counters.resubmits.increment();
            enqueue(c);
        }
    };

    /** Fills a UringCall's SQE; null if the call goes to the fallback. */
    private UringCall prepare(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) {
        int nr = call.nr();
        if (!onRing[nr]) return null;
        UringCall c = new UringCall(this, call, Thread.currentThread(), a0, a1, a2, a3, a4, a5);
        if (!UringOps.lookup(nr).prep().fill(c)) return null;
        return c;
    }

    private long runOnFallback(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        if (closed) throw new EngineClosedException(call.name() + ": the engine is closed");
        counters.ranOnFallback(call.nr());
        return fallback().invoke(call.nr(), a0, a1, a2, a3, a4, a5);
    }

    /**
     * How long the fallback's executors spin for more work before they sleep: as configured,
     * except on a machine of at most {@link Engine#FEW_CPUS} CPUs, where they sleep at once.
     * There the spinning executor takes the CPU that the ring's completion thread, the JIT,
     * the GC and the rest of the machine share, for the few calls the ring does not run
     * (fstat, sendfile, getpid...), and a call handed to a sleeping executor costs only a
     * futex wake-up (docs/engines.md, "AUTO on few CPUs", has the measurements).
     */
    static int fallbackSpin(int configured, int cpus) {
        return cpus <= Engine.FEW_CPUS ? 0 : configured;
    }

    /** The fallback engine if it was opened (it opens with the first call the ring does not run). */
    SyscallThreadsEngine fallbackIfOpen() {
        return fallback;
    }

    private SyscallThreadsEngine fallback() throws IOException {
        SyscallThreadsEngine f = fallback;
        if (f == null) {
            synchronized (fallbackLock) {
                f = fallback;
                if (f == null) {
                    if (closed) throw new EngineClosedException("the engine is closed");
                    // EXCEPTIONLESS: this engine's policy already chose to post the calls it hands over.
                    f = SyscallThreadsEngine.open(config.toBuilder().engine(Engine.SYSCALL_THREADS)
                            .policy(CallPolicy.EXCEPTIONLESS)
                            .executorSpin(fallbackSpin(config.executorSpin(), Runtime.getRuntime().availableProcessors()))
                            .build());
                    fallback = f;
                }
            }
        }
        return f;
    }

    // ---- the scheduler's hooks ----

    /**
     * Posts allow-listed call {@code nr} without waiting: the SQE is in the ring when this
     * returns. With IO_URING it reaches the kernel at the next {@link #flush()} (or
     * {@link #awaitCompletions}, or another thread's call); with IO_URING_SQPOLL the polling
     * thread picks it up (woken here if it sleeps). The thread that submits is unparked when
     * the call completes. A call the ring does not run ({@link #routesToRing}) is executed
     * at once on the fallback engine, blocking, and returned complete.
     *
     * <p>The result is the raw one of a single operation: a short write is not continued.
     * A read, receive or accept on an O_NONBLOCK descriptor fails with EAGAIN as the syscall
     * does (one fcntl here decides it).
     *
     * <p>Blocks only while every slot of the ring is in flight ({@link #maxInFlight()}).
     *
     * @throws dev.flexsc.RefusedCallException if {@code nr} is not allow-listed
     * @throws EngineClosedException if the engine is closed
     */
    public UringCall submit(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr);
        UringCall c = prepare(call, a0, a1, a2, a3, a4, a5);
        if (c == null) {
            return UringCall.completed(this, call, runOnFallback(call, a0, a1, a2, a3, a4, a5));
        }
        if (c.nowaitProbe) {
            // Nobody will look at an EAGAIN before the caller does: decide now, with the
            // descriptor's O_NONBLOCK, whether the call waits (as the syscall) or not.
            if (FdKinds.waitsWhenNotReady(c.fd)) c.clearNowait();
            else c.nowaitProbe = false;
        }
        enqueue(c);
        return c;
    }

    /**
     * Hands everything queued to the kernel: with IO_URING one {@code io_uring_enter} that
     * submits every SQE posted since the last flush, by any thread; with IO_URING_SQPOLL
     * a wake-up of the polling thread if it sleeps (no system call otherwise). Never blocks.
     *
     * @return SQEs submitted by this call (IO_URING), or 0
     */
    public int flush() throws IOException {
        if (ringClosed) return 0;
        if (sqpoll) {
            wakeSqThreadIfNeeded();
            return 0;
        }
        while (true) {
            int pending;
            try {
                pending = sq.unconsumed();
            } catch (IllegalStateException unmapped) {
                if (ringClosed) return 0;
                throw unmapped;
            }
            if (pending <= 0) return 0;
            long r = ring.enter(pending, 0, 0);
            counters.submitEnters.increment();
            if (r >= 0) return (int) r;
            if (r == -Errno.EINTR) continue;
            if (r == -Errno.EBUSY || r == -Errno.EAGAIN) {
                // CQ overflow backlog (old kernels) or no memory for requests: make room, retry.
                reapCompletions();
                Thread.yield();
                continue;
            }
            throw new ErrnoException("io_uring_enter(to_submit=" + pending + ")", (int) -r);
        }
    }

    /**
     * Drains the completion queue without blocking: every CQE completes its
     * {@link UringCall} and unparks the thread that submitted it. If another thread is
     * draining at this moment, returns 0 at once (it completes those calls).
     *
     * @return completions reaped
     */
    public int reapCompletions() {
        if (!cq.tryAcquire()) return 0;
        int n;
        try {
            n = drainLocked();
        } finally {
            releaseCq();
        }
        afterReap(n);
        return n;
    }

    /**
     * Lets go of the CQ and unparks the completion thread if it waits for that. Volatile
     * store of the CQ's busy flag, then volatile load of reaperWaitsForCq; the completion
     * thread stores reaperWaitsForCq, then loads the busy flag: one of the two sees the other, so
     * the completion thread never parks on a CQ that nobody holds.
     */
    private void releaseCq() {
        cq.release();
        if (reaperWaitsForCq) LockSupport.unpark(reaper);
    }

    /** Drains the CQ; the caller holds it. Returns the CQEs reaped. */
    private int drainLocked() {
        try {
            if (ringClosed) return 0;
            return cq.drain(this::dispatch);
        } catch (IllegalStateException unmapped) {
            if (!ringClosed) throw unmapped; // else: close() unmapped the rings under a late reaper
            return 0;
        }
    }

    /**
     * After a drain, with the CQ released: publishes completions to the carriers
     * (the completion word) and lets parked carriers in, one of which may now hold the CQ.
     */
    private void afterReap(int n) {
        if (n > 0) {
            // Volatile RMW (full fence): after the release stores of DONE in dispatch, and
            // before the load of wordSleeperCount (Dekker with carrierSleep's registration
            // then re-read of the word: one of the two sees the other).
            completionWord.incrementAndGet();
        }
        // Volatile load after the volatile store releasing the CQ: a follower that saw the CQ
        // held registered first, so it is counted here and unparked to take the CQ over.
        if (wordSleeperCount.get() > 0) unparkWordSleepers();
    }

    private void unparkWordSleepers() {
        for (Thread t : wordSleepers) LockSupport.unpark(t);
    }

    /**
     * Waits in the kernel ({@code io_uring_enter} with IORING_ENTER_GETEVENTS, submitting
     * what is queued in the same call with IO_URING) until at least one completion arrives
     * or {@code timeoutNanos} pass, then reaps. For a scheduler's carrier with nothing to
     * run. Returns at once if completions are already waiting. Not interruptible: bound the
     * timeout. Only one thread waits at a time; others return 0 at once.
     *
     * @return completions reaped
     */
    public int awaitCompletions(long timeoutNanos) throws IOException {
        int n = reapCompletions();
        if (n > 0) return n;
        if (!sqpoll) flush();
        else wakeSqThreadIfNeeded();
        if (!waitLock.tryLock()) return 0;
        try {
            if (ringClosed) return 0;
            long r = ring.enterWait(0, 1, Math.max(1, timeoutNanos), waitScratch);
            counters.waitEnters.increment();
            if (r < 0 && r != -ETIME && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN) {
                throw new ErrnoException("io_uring_enter(GETEVENTS)", (int) -r);
            }
        } finally {
            waitLock.unlock();
        }
        return reapCompletions();
    }

    // ---- green threads: the caller parks, its carrier batches, reaps and idles ----

    /** Linux 6.10+: whether accept4 can be probed with IORING_ACCEPT_DONTWAIT. */
    boolean acceptDontwait() {
        return acceptDontwait;
    }

    /**
     * Waits for {@code c} on behalf of a green thread. Alone on its carrier, the thread
     * submits at once and spins as a platform caller would; otherwise (and after the spin)
     * it hands the call to the carrier and parks: with IO_URING its SQE then waits in the
     * ring until the carrier runs out of runnable threads and flushes every call it
     * collected in one io_uring_enter. The carrier fires the call once its CQE was reaped.
     * Interrupt of a call that may block cancels it (IORING_OP_ASYNC_CANCEL), as on the
     * platform path.
     */
    private long awaitOnCarrier(CallCarrier carrier, UringCall c) throws IOException {
        if (!carrier.hasOtherWork()) {
            if (!sqpoll) flush();
            for (int i = 0; i < callerSpin && !carrier.hasOtherWork(); i++) {
                if (c.isDone()) return finish(c, false);
                if ((i & 7) == 0) reapCompletions();
                Thread.onSpinWait();
            }
        }
        CarrierCall pending = new CarrierCall(this, c);
        carrier.watch(pending);
        counters.callerParks.increment();
        boolean interrupted = false;
        try {
            while (!pending.isFired()) { // acquire: pairs with the carrier's fire()
                if (Thread.interrupted()) interrupted = true;
                if (interrupted && c.call != null && c.call.mayBlock() && !c.isDone()
                        && (!c.cancelRequested || System.nanoTime() - c.lastCancelNanos > RECANCEL_NANOS)) {
                    cancel(c); // submits the cancel at once, also with IO_URING
                }
                if (interrupted) {
                    LockSupport.parkNanos(this, 2_000_000L); // re-cancel until the call completes
                } else {
                    LockSupport.park(this); // the carrier unparks us after fire()
                }
            }
            if (!c.isDone()) { // fired because close() gave up on the call
                throw new EngineClosedException(c.name() + ": the engine was closed while the call was in"
                        + " flight and the kernel did not complete it in time; the result is lost");
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
        return finish(c, interrupted);
    }

    /** For CarrierCall: complete, or never will be (close gave up); reaps what the CQ holds first. */
    boolean carrierSettled(UringCall c) {
        if (c.isDone() || abandoned) return true; // acquire of DONE; volatile read of abandoned
        reapIfPending();
        return c.isDone();
    }

    /** Reaps only if the CQ holds CQEs: two acquire loads when it is empty. */
    private void reapIfPending() {
        if (ringClosed) return;
        try {
            if (cq.hasCqes()) reapCompletions();
        } catch (IllegalStateException unmapped) {
            // closed meanwhile: the calls are settled through `abandoned` or their CQEs
        }
    }

    /** For CarrierCall: the completion word, after reaping what is there. */
    int carrierCompletionWord() {
        reapIfPending();
        return completionWord.get(); // volatile: read after the reap it may reflect
    }

    /** For CarrierCall: IO_URING submits everything queued (one io_uring_enter); SQPOLL wakes the poller if it sleeps. */
    void carrierFlush() {
        try {
            flush();
        } catch (IOException | RuntimeException failed) {
            // The SQEs stay in the ring: the next flush, a sleeping carrier's io_uring_enter or
            // any caller's submits them.
        }
    }

    /**
     * For CarrierCall: a carrier with nothing to run sleeps until a completion is published
     * after {@code seenSeq} was read, {@link #wakeCarrierSleepers()}, or the timeout.
     *
     * <p>IO_URING: the first carrier takes the CQ, drains it, and unless
     * the word moved, announces itself ({@code leaderSleeping}) and sleeps in one
     * io_uring_enter that submits what is queued and waits for one CQE (GETEVENTS). While it
     * holds the CQ nobody else moves the CQ head, so the kernel's wait ("one CQE beyond the
     * head") ends at the first CQE posted after its drain: a completion, or the NOP a waker
     * posts. Other carriers park on the completion word meanwhile and are unparked when the
     * CQ is let go (one of them then takes it) or the word moves.
     *
     * <p>SQPOLL: every carrier parks on the completion word, and the engine's completion
     * thread sleeps in io_uring_enter(GETEVENTS) for them and publishes what it reaps.
     */
    void carrierSleep(int seenSeq, long timeoutNanos) {
        if (closed) {
            // Closing: calls settle as close() cancels and reaps them; rescan soon.
            LockSupport.parkNanos(this, Math.min(timeoutNanos, 1_000_000L));
            return;
        }
        if (!sqpoll && cq.tryAcquire()) {
            int n = 0;
            try {
                n = drainLocked();
                if (n == 0 && completionWord.get() == seenSeq) {
                    leaderSleeping = true;
                    try {
                        // Volatile load after the volatile store above (Dekker with
                        // wakeCarrierSleepers: increment of the word, then load of leaderSleeping).
                        if (completionWord.get() == seenSeq && !closed) {
                            int toSubmit = sq.unconsumed();
                            long r = ring.enterWait(Math.max(0, toSubmit), 1, Math.max(1, timeoutNanos), leaderScratch);
                            if (toSubmit > 0) counters.submitEnters.increment();
                            counters.waitEnters.increment();
                            if (r < 0 && r != -ETIME && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN) {
                                LockSupport.parkNanos(this, 1_000_000L); // unexpected: do not spin on it
                            }
                            n = drainLocked();
                        }
                    } finally {
                        leaderSleeping = false;
                    }
                }
            } catch (IllegalStateException unmapped) {
                // closed under us: the carrier rescans and finds its calls settled
            } finally {
                releaseCq();
            }
            afterReap(n);
            return;
        }
        Thread me = Thread.currentThread();
        if (sqpoll) {
            // The completion thread reaps for us: volatile RMW then volatile load of
            // reaperIdle, paired with its store of reaperIdle then load of sleepers.
            sleepers.incrementAndGet();
            if (reaperIdle) LockSupport.unpark(reaper);
        }
        wordSleepers.add(me);
        // Volatile RMW (full fence): registered before the re-reads below; pairs with
        // afterReap and wakeCarrierSleepers (word, then count).
        wordSleeperCount.incrementAndGet();
        try {
            if (completionWord.get() == seenSeq && !closed && (sqpoll || cq.isHeld())) {
                // IO_URING: someone holds the CQ and unparks us when it lets go (afterReap).
                LockSupport.parkNanos(this, timeoutNanos);
            }
        } finally {
            wordSleeperCount.decrementAndGet();
            wordSleepers.remove(me);
            if (sqpoll) sleepers.decrementAndGet();
        }
    }

    /**
     * Any thread: wakes every carrier sleeping on this engine (a carrier got new work, or
     * close() began). The word moves first, so a carrier about to sleep sees it; a carrier
     * in io_uring_enter is woken by a NOP's CQE. Never blocks on the kernel's completions.
     */
    void wakeCarrierSleepers() {
        // Volatile RMW (full fence): ordered before the loads of wordSleeperCount and
        // leaderSleeping (Dekker with the sleepers' registration then re-read of the word).
        completionWord.incrementAndGet();
        if (wordSleeperCount.get() > 0) unparkWordSleepers();
        if (leaderSleeping) postWakeNop();
    }

    /** Posts the wake-up NOP: the sleeping leader holds the CQ, so its CQE ends the wait. */
    private void postWakeNop() {
        if (ringClosed) return;
        try {
            counters.wakeNops.increment();
            pushSqe(wakeNop);
            flush(); // IO_URING: submits it with everything queued before it (FIFO)
        } catch (IOException | RuntimeException closedOrFull) {
            // The leader's timeout bounds its sleep; a closed ring has no sleeper left.
        }
    }

    /**
     * A green thread's call, as its carrier sees it (the spi's PendingCall). All calls of
     * one engine share one completion word: the engine is the sleep key.
     */
    private static final class CarrierCall extends dev.flexsc.spi.PendingCall {
        private final UringEngine engine;
        private final UringCall call;

        CarrierCall(UringEngine engine, UringCall call) {
            super(call.owner);
            this.engine = engine;
            this.call = call;
        }

        @Override
        public boolean isSettled() {
            return engine.carrierSettled(call);
        }

        @Override
        public Engine engine() {
            return engine.engine();
        }

        @Override
        public Object sleepKey() {
            return engine;
        }

        @Override
        public int completionWord() {
            return engine.carrierCompletionWord();
        }

        @Override
        public void sleepUntilCompletion(int seenWord, long timeoutNanos) {
            engine.carrierSleep(seenWord, timeoutNanos);
        }

        @Override
        public void wakeSleepers() {
            engine.wakeCarrierSleepers();
        }

        @Override
        public void flush() {
            engine.carrierFlush();
        }
    }

    // ---- submission ----

    /** Takes a slot and writes the SQE; blocks only while every slot is in flight. */
    private void enqueue(UringCall c) throws IOException {
        register(c, allocateSlot(c));
        pushSqe(c);
    }

    /** Enters {@code c} in the request table under {@code slot} (taken by the caller). */
    private void register(UringCall c, int slot) throws IOException {
        table.register(c, slot);
        // The table's volatile store of the call orders the load of `closed` below after it:
        // close() writes closed then scans the table, so it sees the call or we see closed.
        if (closed && c.call != null) {
            table.release(slot);
            throw new EngineClosedException(c.name() + ": the engine is closed");
        }
        if (c.call != null) {
            if (!c.counted) { // a call once, however many SQEs it takes (probe, short write)
                c.counted = true;
                counters.ranOnRing(c.call.nr());
            }
            counters.submitted.increment();
        }
    }

    /** Copies the SQE into the ring and releases the tail; waits while the SQ is full. */
    private void pushSqe(UringCall c) throws IOException {
        sq.push(c, this::makeRoomInSq);
    }

    /** A producer's round while the SQ is full: IO_URING submits; SQPOLL wakes the poller, reaps and yields. */
    private void makeRoomInSq() throws IOException {
        if (sqpoll) {
            wakeSqThreadIfNeeded();
            reapCompletions(); // an overflow backlog stops the polling thread on old kernels
            Thread.yield();
        } else {
            flush();
        }
    }

    /** SQPOLL: wake the polling thread if it went to sleep (see {@link SubmissionQueue#wakeSqThreadIfNeeded}). */
    private void wakeSqThreadIfNeeded() throws ErrnoException {
        if (ringClosed) return;
        sq.wakeSqThreadIfNeeded();
    }

    // ---- slots ----

    private int allocateSlot(UringCall c) throws IOException {
        for (int spins = 0; ; spins++) {
            if (closed && c.call != null) throw new EngineClosedException(c.name() + ": the engine is closed");
            int s = table.tryTake();
            if (s >= 0) return s;
            // Every slot in flight: completions free them; reap, and push queued SQEs out.
            reapCompletions();
            if (!sqpoll) flush();
            if (spins < 100) Thread.onSpinWait();
            else if (spins < 200) Thread.yield();
            else LockSupport.parkNanos(100_000L);
        }
    }

    /** One CQE: find the call by slot and generation, free the slot, publish the result. */
    private void dispatch(long userData, int res) {
        if (userData == WAKE_USER_DATA) return; // a carrier wake-up: its work is in completionWord
        UringCall c = table.complete(userData);
        if (c == null) return; // a stale CQE of an abandoned slot
        if (c.call != null) counters.completed.increment();
        c.complete(res);
    }

    // ---- waiting ----

    /** Blocks the submitting thread until {@code c} completes; see {@link UringCall#await()}. */
    long await(UringCall c) throws IOException {
        if (c.owner == Thread.currentThread()) {
            CallCarrier carrier = GreenThreads.currentCarrier();
            if (carrier != null) {
                return awaitOnCarrier(carrier, c);
            }
        }
        if (!sqpoll) flush(); // IO_URING: a platform thread submits its own call
        for (int i = 0; i < callerSpin; i++) {
            if (c.isDone()) return finish(c, false);
            if ((i & 7) == 0) reapCompletions();
            Thread.onSpinWait();
        }
        // Then yield: the kernel work that completes the call (an io-wq worker, task work)
        // may need this very core, and a spinning caller would keep it off until preempted.
        for (int i = 0; i < CALLER_YIELDS; i++) {
            reapCompletions();
            if (c.isDone()) return finish(c, false);
            Thread.yield();
        }
        boolean interrupted = false;
        sleepers.incrementAndGet(); // volatile RMW: pairs with the reaper's idle check (reapLoop)
        try {
            while (!c.isDone()) {
                if (reaperIdle) LockSupport.unpark(reaper);
                reapCompletions();
                if (c.isDone()) break;
                if (Thread.interrupted()) interrupted = true;
                if (abandoned) {
                    throw new EngineClosedException(c.name() + ": the engine was closed while the call was in"
                            + " flight and the kernel did not complete it in time; the result is lost");
                }
                if (interrupted && c.call != null && c.call.mayBlock()
                        && (!c.cancelRequested || System.nanoTime() - c.lastCancelNanos > RECANCEL_NANOS)) {
                    c.cancelRequested = true;
                    cancel(c);
                }
                c.setParked(true);
                try {
                    // Re-check after announcing the sleep: complete() stores DONE then reads parked.
                    if (!c.isDone()) {
                        counters.callerParks.increment();
                        LockSupport.parkNanos(this, interrupted ? 2_000_000L : 100_000_000L);
                    }
                } finally {
                    c.setParked(false);
                }
            }
        } finally {
            sleepers.decrementAndGet();
            if (interrupted) Thread.currentThread().interrupt();
        }
        return finish(c, interrupted);
    }

    private long finish(UringCall c, boolean interrupted) throws IOException {
        long r = c.result();
        if (r == -Errno.ECANCELED && c.call != null) {
            if (c.cancelledByClose) {
                throw new EngineClosedException(c.name() + ": cancelled because the engine was closed");
            }
            if (interrupted || Thread.currentThread().isInterrupted()) {
                return -Errno.EINTR; // Syscalls turns this into InterruptedIOException, as with SYSCALL_THREADS
            }
            if (!c.cancelRequested && !closed) {
                // Cancelled by the kernel, not by us (the io-wq of a thread that submitted it
                // exited): the operation did not run; submit it again.
                counters.resubmits.increment();
                c.rearm();
                enqueue(c);
                return await(c);
            }
        }
        return r;
    }

    /** Submits IORING_OP_ASYNC_CANCEL for {@code target}. */
    void cancel(UringCall target) throws IOException {
        if (target.isDone() || target.slot < 0) return;
        target.cancelRequested = true;
        target.lastCancelNanos = System.nanoTime();
        UringCall k = new UringCall(this, null, Thread.currentThread(), 0, 0, 0, 0, 0, 0);
        k.opcode = (byte) OP_ASYNC_CANCEL;
        k.fd = -1;
        k.addr = target.userData;
        counters.cancels.increment();
        enqueue(k);
        if (!sqpoll) flush();
    }

    /**
     * The completion thread: while any caller sleeps, it sleeps in io_uring_enter(GETEVENTS)
     * and reaps; otherwise it parks. A caller increments {@code sleepers} and then reads
     * {@code reaperIdle}; this thread writes {@code reaperIdle} and then reads
     * {@code sleepers} (all volatile): one of the two sees the other, so a sleeping caller
     * always has a reaper.
     */
    private void reapLoop() {
        while (!reaperStop) {
            try {
                reapCompletions();
                if (sleepers.get() == 0) {
                    reaperIdle = true;
                    if (sleepers.get() == 0 && !reaperStop) LockSupport.park(this);
                    reaperIdle = false;
                    continue;
                }
                if (cq.isHeld()) {
                    // A carrier holds the CQ (it sleeps in io_uring_enter as the leader, or
                    // drains): it reaps every CQE and unparks their owners, sleeping callers
                    // included. Waiting in the kernel meanwhile would return at once for each
                    // CQE it has not drained yet, over and over (docs/engines.md); park until
                    // it lets go (releaseCq) instead.
                    reaperWaitsForCq = true;
                    // Volatile store above, volatile load here (Dekker with releaseCq).
                    if (cq.isHeld() && !reaperStop) LockSupport.parkNanos(this, REAPER_WAIT_NANOS);
                    reaperWaitsForCq = false;
                    continue;
                }
                long r = ring.enterWait(0, 1, REAPER_WAIT_NANOS, reaperScratch);
                counters.waitEnters.increment();
                if (r < 0 && r != -ETIME && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN) {
                    LockSupport.parkNanos(1_000_000L); // unexpected: do not spin on it
                }
            } catch (IllegalStateException ringGone) {
                return;
            }
        }
    }

    // ---- batches (BatchInvoker) ----

    /** As the call policy says ({@link dev.flexsc.spi.PostingRule#postsBatches()}). */
    @Override
    public boolean postsBatches() {
        return gate.postsBatches();
    }

    /**
     * Fills one SQE per ring call of the batch and hands them to the kernel together: one
     * release of the SQ tail (more only if the SQ fills up), then one {@code io_uring_enter}
     * (IO_URING) or at most one wake-up of the polling thread (SQPOLL). Calls the ring does
     * not run go to the fallback engine as one batch of their own while the ring works. The
     * caller then waits once, for the last of its completions (the completer that brings the
     * count to zero unparks it); short writes and kernel-side cancellations are then
     * continued one by one exactly as for single calls.
     */
    @Override
    public void invokeBatch(CallBatch b) throws IOException {
        int n = b.size();
        if (n == 0) return;
        UringCall[] onRingCalls = new UringCall[n];
        int[] fbPos = null;
        int fbCount = 0;
        for (int i = 0; i < n; i++) {
            SyscallTable.Call call = b.call(i);
            UringCall c = prepare(call, b.arg(i, 0), b.arg(i, 1), b.arg(i, 2), b.arg(i, 3), b.arg(i, 4), b.arg(i, 5));
            if (c == null) {
                if (fbPos == null) fbPos = new int[n - i];
                fbPos[fbCount++] = i;
            } else {
                onRingCalls[i] = c;
            }
        }
        BatchLatch latch = new BatchLatch(Thread.currentThread());
        postBatch(b, onRingCalls, latch);
        if (fbCount > 0) runBatchOnFallback(b, fbPos, fbCount);
        awaitBatch(b, onRingCalls, latch);
        for (int i = 0; i < n; i++) {
            UringCall c = onRingCalls[i];
            if (c == null || b.isSettled(i)) continue;
            try {
                // Done (or abandoned by close) after the wait: returns at once unless the call
                // is continued (short write) or resubmitted (cancelled by the kernel).
                b.complete(i, awaitResult(c));
            } catch (EngineClosedException e) {
                b.fail(i, e);
            }
        }
    }

    /** Registers the ring calls and pushes their SQEs with as few tail releases as the SQ allows. */
    private void postBatch(CallBatch b, UringCall[] cs, BatchLatch latch) throws IOException {
        UringCall[] unpushed = new UringCall[Math.min(cs.length, ring.sqEntries)];
        int count = 0;
        for (int i = 0; i < cs.length; i++) {
            UringCall c = cs[i];
            if (c == null) continue;
            int slot = table.tryTake();
            if (slot < 0 || count == unpushed.length) {
                // Never wait for a slot while holding SQEs that are not in the ring: push them first.
                pushSqes(unpushed, count);
                count = 0;
                if (!sqpoll) flush();
            }
            c.batch = latch; // plain: published by the volatile store of the call into the table
            latch.add();
            try {
                register(c, slot >= 0 ? slot : allocateSlot(c));
            } catch (EngineClosedException e) {
                // register() gave the slot back (allocateSlot took none)
                latch.countDown(); // never registered: no completion will come
                cs[i] = null;
                b.fail(i, e);
                continue;
            }
            unpushed[count++] = c;
        }
        pushSqes(unpushed, count);
        if (!sqpoll) flush();
        latch.countDown(); // the guard count: completions may now bring it to zero
    }

    /** Copies SQEs into the ring; one release of the tail per lock hold; waits while the SQ is full. */
    private void pushSqes(UringCall[] cs, int count) throws IOException {
        sq.pushAll(cs, count, this::makeRoomInSq);
    }

    private void runBatchOnFallback(CallBatch b, int[] pos, int count) throws IOException {
        CallBatch sub = new CallBatch(count);
        for (int k = 0; k < count; k++) {
            int i = pos[k];
            sub.add(b.call(i), b.arg(i, 0), b.arg(i, 1), b.arg(i, 2), b.arg(i, 3), b.arg(i, 4), b.arg(i, 5));
        }
        if (closed) {
            for (int k = 0; k < count; k++) b.fail(pos[k], new EngineClosedException(b.call(pos[k]).name() + ": the engine is closed"));
            return;
        }
        for (int k = 0; k < count; k++) counters.ranOnFallback(b.call(pos[k]).nr());
        fallback().invokeBatch(sub);
        for (int k = 0; k < count; k++) {
            if (sub.failure(k) != null) b.fail(pos[k], sub.failure(k));
            else b.complete(pos[k], sub.result(k));
        }
    }

    /** One wait for the whole batch: spin reaping, then sleep until the latch reaches zero. */
    private void awaitBatch(CallBatch b, UringCall[] cs, BatchLatch latch) throws IOException {
        for (int i = 0; i < callerSpin && !latch.isDone(); i++) {
            if ((i & 7) == 0) reapCompletions();
            Thread.onSpinWait();
        }
        if (latch.isDone()) return;
        boolean interrupted = false;
        sleepers.incrementAndGet(); // volatile RMW: pairs with the reaper's idle check (reapLoop)
        try {
            while (!latch.isDone() && !abandoned) {
                if (reaperIdle) LockSupport.unpark(reaper);
                reapCompletions();
                if (latch.isDone()) break;
                if (Thread.interrupted()) interrupted = true;
                if (interrupted) {
                    long now = System.nanoTime();
                    for (UringCall c : cs) {
                        if (c != null && c.call.mayBlock() && !c.isDone()
                                && (!c.cancelRequested || now - c.lastCancelNanos > RECANCEL_NANOS)) {
                            cancel(c);
                        }
                    }
                }
                latch.setParked(true);
                try {
                    // Re-check after announcing the sleep: countDown() decrements then reads parked.
                    if (!latch.isDone()) {
                        counters.callerParks.increment();
                        LockSupport.parkNanos(this, interrupted ? 2_000_000L : 100_000_000L);
                    }
                } finally {
                    latch.setParked(false);
                }
            }
        } finally {
            sleepers.decrementAndGet();
            if (interrupted) Thread.currentThread().interrupt(); // finish() turns -ECANCELED into -EINTR
        }
    }

    // ---- close ----

    /**
     * Cancels the calls that may block without bound, waits for every call in flight to
     * complete (bounded by {@link FlexscConfig#closeTimeoutMillis()}), stops the completion
     * thread, unmaps the rings, closes the ring and the fallback engine. A call cancelled
     * here fails with {@link EngineClosedException}; one that did not complete in time too
     * (and the rings are then left mapped, since the kernel may still complete it). Idempotent.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        closed = true; // volatile: see enqueue()
        wakeCarrierSleepers(); // no carrier sleeps in the kernel from here on (carrierSleep checks closed)
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.closeTimeoutMillis());
        try {
            for (int s = 0; s < slots; s++) {
                UringCall c = table.at(s);
                if (c != null && c.call != null && c.call.mayBlock() && !c.isDone()) {
                    c.cancelledByClose = true;
                    try {
                        cancel(c);
                    } catch (IOException | RuntimeException ignored) {
                        // the wait below reports what did not complete
                    }
                }
            }
            while (table.inFlight() > 0 && System.nanoTime() < deadline) {
                if (!sqpoll) flush();
                else wakeSqThreadIfNeeded();
                reapCompletions();
                if (table.inFlight() > 0) LockSupport.parkNanos(200_000L);
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through to the teardown
        }
        boolean clean = table.inFlight() == 0;
        if (!clean) abandoned = true;
        reaperStop = true;
        LockSupport.unpark(reaper);
        try {
            reaper.join(TimeUnit.NANOSECONDS.toMillis(REAPER_WAIT_NANOS) * 5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int s = 0; s < slots; s++) {
            UringCall c = table.at(s);
            if (c != null) LockSupport.unpark(c.owner); // they see `abandoned` and fail
        }
        if (clean && !reaper.isAlive()) {
            // Callers whose calls completed may still be in their reap loop: they check
            // ringClosed, and an access racing with the unmap throws IllegalStateException
            // (the shared arena), which reapCompletions swallows once ringClosed is set.
            ringClosed = true;
            sq.markClosed();
            cq.acquire();
            try {
                ring.close();
                reaperArena.close();
            } finally {
                cq.release();
            }
        }
        SyscallThreadsEngine f;
        synchronized (fallbackLock) {
            f = fallback;
        }
        if (f != null) f.close();
    }
}
