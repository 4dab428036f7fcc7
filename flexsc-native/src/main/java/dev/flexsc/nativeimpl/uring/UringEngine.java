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
import dev.flexsc.spi.CancelScope;
import dev.flexsc.spi.GreenThreads;
import dev.flexsc.spi.OwnedFds;
import dev.flexsc.spi.PostingRule;
import dev.flexsc.spi.CallGate;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.nativeimpl.uring.IoUring.INT;
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
 * <p><b>Calls in flight are waited for.</b> Once a call's SQE is in the ring, its caller
 * gets it back only with its CQE: an {@code io_uring_enter} that fails (submitting, or
 * waking the SQ polling thread) is counted and retried while the caller waits, never
 * thrown past the wait, since the kernel may take the SQE at any time; and when close gives
 * up on calls still in flight, their callers go on waiting (reaping the CQ themselves; the
 * rings then stay mapped) and get each call's result when it ends. So the memory a call
 * was given stays the caller's until the kernel is done with it (docs/engines.md).
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
    private static final VarHandle CALLS = MethodHandles.arrayElementVarHandle(UringCall[].class);
    private static final VarHandle FREE_WORD = MethodHandles.arrayElementVarHandle(long[].class);
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
    /** The ring descriptor, refused as an argument of calls through this engine. */
    private final OwnedFds ownedFds;
    private final boolean[] onRing;
    private final String routing;
    private final Syscalls syscalls;
    private final int callerSpin;
    /** The call policy, applied first in {@link #invoke}. */
    private final CallGate gate;
    /** ADAPTIVE posts only while a request slot is free (a hint: the volatile count of calls in flight). */
    private final CallGate.Room room = this::hasFreeSlot;

    // ---- request table: slot -> call in flight ----
    private final int slots;
    private final UringCall[] calls;
    private final int[] generation;
    /** 1 bit = slot free. */
    private final long[] freeSlots;
    private final AtomicInteger inFlight = new AtomicInteger();

    // ---- SQ producer (guarded by sqLock) ----
    private final ReentrantLock sqLock = new ReentrantLock();
    private int sqTail;
    /** The tail last released to the kernel (volatile copy for flush and diagnostics). */
    private volatile int publishedTail;

    // ---- CQ consumer (guarded by cqBusy) ----
    private final AtomicBoolean cqBusy = new AtomicBoolean();
    private int cqHead;

    // ---- completion thread ----
    private final Thread reaper;
    private final AtomicInteger sleepers = new AtomicInteger();
    private volatile boolean reaperIdle;
    /**
     * Set by the completion thread while it parks because another thread holds the CQ
     * ({@code cqBusy}); whoever lets go of the CQ then unparks it ({@link #releaseCq()}).
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
     * IO_URING: a carrier sleeps in io_uring_enter(GETEVENTS) while holding the CQ
     * ({@code cqBusy}), so the CQ head cannot move under its wait; a waker then posts
     * {@link #wakeNop}, whose CQE ends the wait.
     */
    private volatile boolean leaderSleeping;
    /** The leader's io_getevents_arg + timespec (one leader at a time: it holds cqBusy). */
    private final MemorySegment leaderScratch;
    /** A prebuilt IORING_OP_NOP whose CQE carries {@link #WAKE_USER_DATA} (ignored by dispatch). */
    private final UringCall wakeNop;
    private final LongAdder wakeNops = new LongAdder();
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

    // ---- statistics ----
    private final LongAdder submitted = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final LongAdder submitEnters = new LongAdder();
    private final LongAdder waitEnters = new LongAdder();
    private final LongAdder sqThreadSleeps = new LongAdder();
    private final LongAdder sqWakeups = new LongAdder();
    private final LongAdder callerParks = new LongAdder();
    private final LongAdder overflowFlushes = new LongAdder();
    private final LongAdder sqFullWaits = new LongAdder();
    private final LongAdder cancels = new LongAdder();
    private final LongAdder resubmits = new LongAdder();
    /** io_uring_enter calls that failed while a call's SQE was in the ring (retried while it waited). */
    private final LongAdder machineryFailures = new LongAdder();
    private final LongAdder[] ringCalls = new LongAdder[SyscallTable.NR_LIMIT];
    private final LongAdder[] fallbackCalls = new LongAdder[SyscallTable.NR_LIMIT];

    private UringEngine(Engine kind, FlexscConfig config, IoUring ring, boolean[] supported) {
        this.kind = kind;
        this.sqpoll = kind == Engine.IO_URING_SQPOLL;
        this.config = config;
        this.ring = ring;
        this.ownedFds = OwnedFds.of("the io_uring ring of this " + kind + " engine", ring.fd);
        this.onRing = UringOps.route(supported);
        this.routing = UringOps.describe(onRing);
        this.callerSpin = config.callerSpin();
        // No direct try of recvfrom/sendto before posting them: here a post is one more SQE in
        // the carrier's next io_uring_enter (docs/io.md, point 6, has the measurements).
        this.gate = new CallGate(config.policy(), DirectSyscalls.invoker(), PostingRule.Post.RING_ENTRY);
        this.slots = ring.sqEntries + ring.cqEntries;
        this.calls = new UringCall[slots];
        this.generation = new int[slots];
        this.freeSlots = new long[(slots + 63) / 64];
        for (int w = 0; w < freeSlots.length; w++) {
            int n = Math.min(64, slots - w * 64);
            freeSlots[w] = n == 64 ? -1L : (1L << n) - 1;
        }
        for (SyscallTable.Call c : SyscallTable.all().values()) {
            ringCalls[c.nr()] = new LongAdder();
            fallbackCalls[c.nr()] = new LongAdder();
        }
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

    @Override
    public OwnedFds ownedFds() {
        return ownedFds;
    }

    /** io_uring_enter calls that failed while a call's SQE was in the ring; the callers waited on. */
    public long machineryFailures() {
        return machineryFailures.sum();
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
        return new EngineStats(kind, submitted.sum(), completed.sum(), 0, submitEnters.sum(), sqThreadSleeps.sum(),
                sqWakeups.sum(), callerParks.sum(), threads, gate.posted(), gate.direct());
    }

    /** Engine-specific counters, with which calls ran on the ring and which on the fallback. */
    public UringStats uringStats() {
        Map<String, Long> ring = new LinkedHashMap<>(), fb = new LinkedHashMap<>();
        for (SyscallTable.Call c : SyscallTable.all().values()) {
            long r = ringCalls[c.nr()].sum(), f = fallbackCalls[c.nr()].sum();
            if (r > 0) ring.put(c.name(), r);
            if (f > 0) fb.put(c.name(), f);
        }
        SyscallThreadsEngine f = fallback;
        return new UringStats(kind, ring, fb, submitEnters.sum() + waitEnters.sum() + sqWakeups.sum(),
                overflowFlushes.sum(), sqFullWaits.sum(), cancels.sum(), resubmits.sum(), inFlight.get(),
                f == null ? null : f.stats(), submitEnters.sum(), waitEnters.sum(), wakeNops.sum());
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
     * Submits a prepared call and waits for it, continuing where the syscall would: a short
     * write or send on a blocking descriptor is continued until the whole buffer is written
     * or an error, as the blocking syscall does (the error after a partial write is dropped
     * in favour of the count, as the kernel does); on an O_NONBLOCK descriptor the short
     * count is returned. A call prepared with a "do not wait" probe (see {@link UringOps})
     * that got EAGAIN is returned as is only if the descriptor is O_NONBLOCK (the syscall
     * would have failed too); otherwise it is submitted again to wait for readiness.
     */
    private long runOnRing(UringCall c) throws IOException {
        enqueue(c);
        return awaitResult(c);
    }

    /** Waits for a submitted call's result, continuing it where the syscall would (see runOnRing). */
    private long awaitResult(UringCall c) throws IOException {
        long total = 0;
        int blocking = -1; // -1 not checked yet, 0 O_NONBLOCK, 1 blocking
        int readKind = -1; // -1 not checked yet, else FdKinds.shortReads of the descriptor
        while (true) {
            long r = await(c);
            if (c.nowaitProbe && r == -Errno.EOPNOTSUPP) {
                // The file refuses the probe itself (RWF_NOWAIT on a FIFO opened with open(2)
                // on this kernel): the syscall has no such flag and would wait, or fail with
                // EAGAIN if O_NONBLOCK, exactly what io_uring does without it.
                c.clearNowait();
                c.rearm();
                resubmits.increment();
                enqueue(c);
                continue;
            }
            if (c.nowaitProbe && r == -Errno.EAGAIN) {
                if (blocking < 0) blocking = FdKinds.waitsWhenNotReady(c.fd) ? 1 : 0;
                if (blocking == 1) {
                    c.clearNowait(); // the syscall would wait: so do we (io_uring arms a poll)
                    c.rearm();
                    resubmits.increment();
                    enqueue(c);
                    continue;
                }
            }
            if (c.opcode == OP_READ && r > 0 && r < c.len && !c.cancelRequested) {
                // A read that may not wait stops early where read(2) reads on: RWF_NOWAIT (the
                // probe of read) at a buffered file's first page not in the cache; any read the
                // ring tries without waiting, at each page of /dev/zero or /dev/urandom when a
                // reschedule is due. Go on from where it stopped: a file once (without the probe
                // io_uring reads it to the end), a memory device until it is all read.
                if (readKind < 0) readKind = FdKinds.shortReads(c.fd);
                boolean onFile = readKind == FdKinds.PAGE_CACHE && c.nowaitProbe;
                if (onFile || readKind == FdKinds.MEMORY_DEVICE) {
                    total += r;
                    c.addr += r;
                    c.len -= (int) r;
                    if (c.off >= 0) c.off += r; // pread64: the next bytes
                    c.clearNowait();
                    c.rearm();
                    resubmits.increment();
                    enqueue(c);
                    continue;
                }
            }
            if ((c.opcode == OP_WRITE || c.opcode == OP_SEND) && r > 0 && r < c.len && !c.cancelRequested) {
                if (blocking < 0) blocking = FdKinds.waitsWhenNotReady(c.fd) ? 1 : 0;
                if (blocking == 1) {
                    total += r;
                    c.addr += r;
                    c.len -= (int) r;
                    if (c.off >= 0 && c.opcode == OP_WRITE) c.off += r;
                    c.clearNowait();
                    c.rearm();
                    resubmits.increment();
                    enqueue(c);
                    continue;
                }
            }
            if (total > 0) return r > 0 ? total + r : total;
            return r;
        }
    }

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
        fallbackCalls[call.nr()].increment();
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
     * @throws dev.flexsc.RefusedCallException if {@code nr} is not allow-listed, or names the
     *         ring descriptor as a descriptor argument
     * @throws EngineClosedException if the engine is closed
     */
    public UringCall submit(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr);
        ownedFds.check(call, a0, a1, a2, a3, a4, a5);
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
                // Acquire load of the kernel's sq head: pairs with its release after consuming SQEs.
                pending = publishedTail - (int) INT.getAcquire(ring.ring, ring.sqHeadOff);
            } catch (IllegalStateException unmapped) {
                if (ringClosed) return 0;
                throw unmapped;
            }
            if (pending <= 0) return 0;
            long r = ring.enter(pending, 0, 0);
            submitEnters.increment();
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
        if (!cqBusy.compareAndSet(false, true)) return 0;
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
     * Lets go of the CQ ({@code cqBusy}) and unparks the completion thread if it waits for
     * that. Volatile store of cqBusy, then volatile load of reaperWaitsForCq; the completion
     * thread stores reaperWaitsForCq, then loads cqBusy: one of the two sees the other, so
     * the completion thread never parks on a CQ that nobody holds.
     */
    private void releaseCq() {
        cqBusy.set(false);
        if (reaperWaitsForCq) LockSupport.unpark(reaper);
    }

    /** Drains the CQ; the caller holds {@code cqBusy}. Returns the CQEs reaped. */
    private int drainLocked() {
        int n = 0;
        try {
            if (ringClosed) return 0;
            MemorySegment r = ring.ring;
            while (true) {
                // Acquire load of the CQ tail: pairs with the kernel's release store after it
                // wrote the CQEs, so the CQE fields read below are the complete ones.
                int tail = (int) INT.getAcquire(r, ring.cqTailOff);
                int head = cqHead;
                if (head == tail) {
                    // Overflowed CQEs (IORING_FEAT_NODROP keeps them in the kernel) come back only
                    // with io_uring_enter(GETEVENTS): flush them now that the CQ has room.
                    // Acquire load of sq flags: the kernel sets CQ_OVERFLOW with a plain store
                    // under its lock; acquire keeps our later CQ reads after it.
                    if (((int) INT.getAcquire(r, ring.sqFlagsOff) & SQ_CQ_OVERFLOW) != 0) {
                        overflowFlushes.increment();
                        ring.enter(0, 0, ENTER_GETEVENTS);
                        if ((int) INT.getAcquire(r, ring.cqTailOff) != head) continue;
                    }
                    break;
                }
                while (head != tail) {
                    long e = ring.cqesOff + (long) (head & ring.cqMask) * CQE_SIZE;
                    long ud = r.get(ValueLayout.JAVA_LONG, e + CQE_USER_DATA);
                    int res = r.get(ValueLayout.JAVA_INT, e + CQE_RES);
                    head++;
                    dispatch(ud, res);
                    n++;
                }
                cqHead = head;
                // Release store of the CQ head: our reads of those CQEs happen before the kernel
                // may reuse their slots (it reads the head with acquire before posting).
                INT.setRelease(r, ring.cqHeadOff, head);
            }
        } catch (IllegalStateException unmapped) {
            if (!ringClosed) throw unmapped; // else: close() unmapped the rings under a late reaper
        }
        return n;
    }

    /**
     * After a drain, with {@code cqBusy} released: publishes completions to the carriers
     * (the completion word) and lets parked carriers in, one of which may now hold the CQ.
     */
    private void afterReap(int n) {
        if (n > 0) {
            // Volatile RMW (full fence): after the release stores of DONE in dispatch, and
            // before the load of wordSleeperCount (Dekker with carrierSleep's registration
            // then re-read of the word: one of the two sees the other).
            completionWord.incrementAndGet();
        }
        // Volatile load after the volatile store releasing cqBusy: a follower that saw the CQ
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
            waitEnters.increment();
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
            if (!sqpoll) kick();
            for (int i = 0; i < callerSpin && !carrier.hasOtherWork(); i++) {
                if (c.isDone()) return finish(c, false);
                if ((i & 7) == 0) reapCompletions();
                Thread.onSpinWait();
            }
        }
        CarrierCall pending = new CarrierCall(this, c);
        carrier.watch(pending);
        callerParks.increment();
        boolean interrupted = false;
        try {
            while (!pending.isFired()) { // acquire: pairs with the carrier's fire()
                if (Thread.interrupted()) interrupted = true;
                // A cancel for an interrupt, or for a channel's close (CancelScope).
                boolean mayBlock = c.call != null && c.call.mayBlock();
                boolean cancelWanted = mayBlock && (interrupted || CancelScope.requested());
                if (cancelWanted && !c.isDone()
                        && (!c.cancelRequested || System.nanoTime() - c.lastCancelNanos > RECANCEL_NANOS)) {
                    cancelQuietly(c); // submits the cancel at once, also with IO_URING
                }
                if (cancelWanted) {
                    LockSupport.parkNanos(this, 2_000_000L); // re-cancel until the call completes
                } else {
                    pending.parkUntilFired(this, mayBlock);
                }
            }
            if (!c.isDone()) { // fired because close() gave up on the call: it may still run
                interrupted |= awaitAbandoned(c);
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
        return finish(c, interrupted);
    }

    /**
     * Waits for a call that close() gave up on (its carrier no longer watches it): the call
     * may still be running in the kernel, so its memory stays the caller's until its CQE is
     * reaped, here, since the completion thread has stopped. Returns true if interrupted.
     */
    private boolean awaitAbandoned(UringCall c) {
        boolean interrupted = false;
        long pause = 1_000_000L;
        while (true) {
            reapCompletions();
            if (c.isDone()) return interrupted;
            if (Thread.interrupted()) interrupted = true;
            if ((interrupted || CancelScope.requested()) && c.call != null && c.call.mayBlock()
                    && (!c.cancelRequested || System.nanoTime() - c.lastCancelNanos > RECANCEL_NANOS)) {
                cancelQuietly(c);
            }
            kick();
            LockSupport.parkNanos(this, pause);
            pause = Math.min(pause * 2, 50_000_000L);
        }
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
            MemorySegment r = ring.ring;
            // Acquire loads of the kernel's CQ tail and our released head: a difference means
            // CQEs to reap (a stale answer only delays them to the next look).
            if ((int) INT.getAcquire(r, ring.cqTailOff) != (int) INT.getAcquire(r, ring.cqHeadOff)) {
                reapCompletions();
            }
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
     * <p>IO_URING: the first carrier takes the CQ ({@code cqBusy}), drains it, and unless
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
        if (!sqpoll && cqBusy.compareAndSet(false, true)) {
            int n = 0;
            try {
                n = drainLocked();
                if (n == 0 && completionWord.get() == seenSeq) {
                    leaderSleeping = true;
                    try {
                        // Volatile load after the volatile store above (Dekker with
                        // wakeCarrierSleepers: increment of the word, then load of leaderSleeping).
                        if (completionWord.get() == seenSeq && !closed) {
                            // Acquire load of the kernel's sq head: pairs with its release after consuming SQEs.
                            int toSubmit = publishedTail - (int) INT.getAcquire(ring.ring, ring.sqHeadOff);
                            long r = ring.enterWait(Math.max(0, toSubmit), 1, Math.max(1, timeoutNanos), leaderScratch);
                            if (toSubmit > 0) submitEnters.increment();
                            waitEnters.increment();
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
            if (completionWord.get() == seenSeq && !closed && (sqpoll || cqBusy.get())) {
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
            wakeNops.increment();
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
        int gen = ++generation[slot]; // the slot is ours: plain, published by the lock below
        c.slot = slot;
        c.userData = ((long) gen << 32) | slot;
        // Release store of the call into the table: a reaper that finds this slot sees the
        // fully built call. Volatile, so the load of `closed` below cannot move before it:
        // close() writes closed then scans the table, so it sees the call or we see closed.
        CALLS.setVolatile(calls, slot, c);
        inFlight.incrementAndGet();
        if (closed && c.call != null) {
            releaseSlot(slot);
            throw new EngineClosedException(c.name() + ": the engine is closed");
        }
        if (c.call != null) {
            if (!c.counted) { // a call once, however many SQEs it takes (probe, short write)
                c.counted = true;
                ringCalls[c.call.nr()].increment();
            }
            submitted.increment();
        }
    }

    /**
     * Copies the SQE into the ring and releases the tail; waits while the SQ is full. Once the
     * tail is released the SQE is the kernel's: nothing after that throws. Before, a full SQ
     * that cannot be drained (io_uring_enter failing) is retried until close gives up, and
     * then the call fails unsubmitted (its slot is freed).
     */
    private void pushSqe(UringCall c) throws IOException {
        long pause = 0;
        while (true) {
            sqLock.lock();
            try {
                MemorySegment r = ring.ring;
                // Acquire load of the kernel's sq head: the kernel has finished reading every
                // SQE before it, so those slots may be overwritten (pairs with its release).
                int head = (int) INT.getAcquire(r, ring.sqHeadOff);
                if (sqTail - head < ring.sqEntries) {
                    writeSqe(c, sqTail & ring.sqMask);
                    sqTail++;
                    // Release store of the SQ tail: the SQE stores above are visible before the
                    // tail that exposes them; pairs with the kernel's acquire load of the tail.
                    INT.setRelease(r, ring.sqTailOff, sqTail);
                    publishedTail = sqTail;
                    break;
                }
            } finally {
                sqLock.unlock();
            }
            // SQ full: every slot of the ring holds an SQE the kernel has not consumed yet.
            sqFullWaits.increment();
            pause = drainFullSq(pause);
            if (pause < 0) {
                if (c.slot >= 0) releaseSlot(c.slot); // never in the ring: no completion will come
                throw new EngineClosedException(c.name() + ": the engine was closed while its submission queue was full");
            }
        }
        if (sqpoll) kick();
    }

    /**
     * One round of waiting for room in a full SQ: SQPOLL wakes the polling thread, IO_URING
     * submits what is queued. An io_uring_enter that fails is retried after a pause that
     * grows (returned, for the next round) up to 10 ms; once close gave up on the calls in
     * flight ({@code abandoned}), returns -1: the caller gives up on an SQE not yet in the ring.
     */
    private long drainFullSq(long pause) {
        try {
            if (sqpoll) {
                wakeSqThreadIfNeeded();
                reapCompletions(); // an overflow backlog stops the polling thread on old kernels
                Thread.yield();
            } else {
                flush();
            }
            return 0;
        } catch (IOException | RuntimeException failed) {
            machineryFailures.increment();
            if (abandoned) return -1; // volatile read
            long p = Math.min(Math.max(pause * 2, 100_000L), 10_000_000L);
            LockSupport.parkNanos(this, p);
            return p;
        }
    }

    private void writeSqe(UringCall c, int index) {
        MemorySegment s = ring.sqes;
        long e = (long) index * SQE_SIZE;
        // Plain stores: published by the release store of the tail in pushSqe.
        s.set(ValueLayout.JAVA_BYTE, e + SQE_OPCODE, c.opcode);
        s.set(ValueLayout.JAVA_BYTE, e + SQE_FLAGS, (byte) 0);
        s.set(ValueLayout.JAVA_SHORT, e + SQE_IOPRIO, c.ioprio);
        s.set(ValueLayout.JAVA_INT, e + SQE_FD, c.fd);
        s.set(ValueLayout.JAVA_LONG, e + SQE_OFF, c.off);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR, c.addr);
        s.set(ValueLayout.JAVA_INT, e + SQE_LEN, c.len);
        s.set(ValueLayout.JAVA_INT, e + SQE_OP_FLAGS, c.opFlags);
        s.set(ValueLayout.JAVA_LONG, e + SQE_USER_DATA, c.userData);
        s.set(ValueLayout.JAVA_LONG, e + SQE_BUF_INDEX, 0L); // buf_index, personality
        s.set(ValueLayout.JAVA_INT, e + SQE_SPLICE_FD_IN, c.spliceFdIn);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR3, 0L);
        s.set(ValueLayout.JAVA_LONG, e + SQE_ADDR3 + 8, 0L);
    }

    /**
     * SQPOLL: wake the polling thread if it went to sleep. The full fence orders our release
     * store of the SQ tail before the load of the flags; the kernel thread sets NEED_WAKEUP,
     * issues a full barrier and re-reads the tail before sleeping. So either it sees our
     * tail, or we see its flag (liburing's sq_ring_needs_enter does the same).
     */
    private void wakeSqThreadIfNeeded() throws ErrnoException {
        if (ringClosed) return;
        VarHandle.fullFence();
        int flags;
        try {
            flags = (int) INT.getVolatile(ring.ring, ring.sqFlagsOff);
        } catch (IllegalStateException unmapped) {
            if (ringClosed) return;
            throw unmapped;
        }
        if ((flags & SQ_NEED_WAKEUP) != 0) {
            sqThreadSleeps.increment();
            long r = ring.enter(0, 0, ENTER_SQ_WAKEUP);
            sqWakeups.increment();
            if (r < 0 && r != -Errno.EINTR) throw new ErrnoException("io_uring_enter(IORING_ENTER_SQ_WAKEUP)", (int) -r);
        }
    }

    // ---- slots ----

    private int allocateSlot(UringCall c) throws IOException {
        for (int spins = 0; ; spins++) {
            if (closed && c.call != null) throw new EngineClosedException(c.name() + ": the engine is closed");
            int s = tryAllocateSlot();
            if (s >= 0) return s;
            // Every slot in flight: completions free them; reap, and push queued SQEs out.
            reapCompletions();
            if (!sqpoll) flush();
            if (spins < 100) Thread.onSpinWait();
            else if (spins < 200) Thread.yield();
            else LockSupport.parkNanos(100_000L);
        }
    }

    private boolean hasFreeSlot() {
        return inFlight.get() < slots;
    }

    private int tryAllocateSlot() {
        int words = freeSlots.length;
        int start = words == 1 ? 0 : (int) (Thread.currentThread().threadId() % words);
        for (int k = 0; k < words; k++) {
            int w = (start + k) % words;
            long v = (long) FREE_WORD.getVolatile(freeSlots, w);
            while (v != 0) {
                long bit = Long.lowestOneBit(v);
                // CAS: exactly one thread takes the bit.
                if (FREE_WORD.compareAndSet(freeSlots, w, v, v & ~bit)) {
                    return w * 64 + Long.numberOfTrailingZeros(bit);
                }
                v = (long) FREE_WORD.getVolatile(freeSlots, w);
            }
        }
        return -1;
    }

    private void releaseSlot(int slot) {
        CALLS.setRelease(calls, slot, null);
        inFlight.decrementAndGet();
        // Volatile RMW: the slot is free for the next allocation.
        FREE_WORD.getAndBitwiseOr(freeSlots, slot >>> 6, 1L << (slot & 63));
    }

    /** One CQE: find the call by slot and generation, free the slot, publish the result. */
    private void dispatch(long userData, int res) {
        if (userData == WAKE_USER_DATA) return; // a carrier wake-up: its work is in completionWord
        int slot = (int) userData;
        if (slot < 0 || slot >= slots) return; // not ours (cannot happen: we write every user_data)
        // Acquire: pairs with the volatile store in enqueue, so the call's fields are visible.
        UringCall c = (UringCall) CALLS.getAcquire(calls, slot);
        if (c == null || c.userData != userData) return; // a stale CQE of an abandoned slot
        releaseSlot(slot);
        if (c.call != null) completed.increment();
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
        if (!sqpoll) kick(); // IO_URING: a platform thread submits its own call
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
                reapCompletions(); // also after close gave up on the call: nobody else reaps then
                if (c.isDone()) break;
                if (Thread.interrupted()) interrupted = true;
                // A cancel for an interrupt, or for a channel's close (CancelScope).
                boolean mayBlock = c.call != null && c.call.mayBlock();
                boolean cancelWanted = mayBlock && (interrupted || CancelScope.requested());
                if (cancelWanted && (!c.cancelRequested || System.nanoTime() - c.lastCancelNanos > RECANCEL_NANOS)) {
                    c.cancelRequested = true;
                    cancelQuietly(c);
                }
                kick(); // an enter that failed earlier: the SQE is in the ring, hand it over again
                c.setParked(true);
                CancelScope scope = mayBlock ? CancelScope.parking() : null;
                try {
                    // Re-check after announcing the sleep: complete() stores DONE then reads parked;
                    // and the scope's flag after registering (Dekker with CancelScope.cancel()).
                    if (!c.isDone()) {
                        callerParks.increment();
                        boolean soon = cancelWanted || (scope != null && scope.isCancelled());
                        // Volatile read of abandoned: close gave up and the completion thread stopped.
                        LockSupport.parkNanos(this, soon ? 2_000_000L : abandoned ? 10_000_000L : 100_000_000L);
                    }
                } finally {
                    c.setParked(false);
                    if (scope != null) scope.unparked();
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
            if (interrupted || Thread.currentThread().isInterrupted() || CancelScope.requested()) {
                // Syscalls turns this into InterruptedIOException (or, for a channel's close,
                // the channel into AsynchronousCloseException), as with SYSCALL_THREADS.
                return -Errno.EINTR;
            }
            if (!c.cancelRequested && !closed) {
                // Cancelled by the kernel, not by us (the io-wq of a thread that submitted it
                // exited): the operation did not run; submit it again.
                resubmits.increment();
                c.rearm();
                enqueue(c);
                return await(c);
            }
        }
        return r;
    }

    /** {@link #cancel} from a wait: a failure is counted, not thrown (the wait cancels again later). */
    private void cancelQuietly(UringCall target) {
        try {
            cancel(target);
        } catch (IOException | RuntimeException failed) {
            machineryFailures.increment();
        }
    }

    /**
     * Hands the SQEs in the ring to the kernel, from a caller whose SQE is in it: IO_URING
     * submits (one io_uring_enter if any SQE waits), SQPOLL wakes the polling thread if it
     * sleeps while SQEs wait. A failure is counted, not thrown: the kernel may take the SQEs
     * at any time, so the caller must go on waiting, and calls this again.
     */
    private void kick() {
        try {
            if (!sqpoll) {
                flush();
            } else if (publishedTail != (int) INT.getAcquire(ring.ring, ring.sqHeadOff)) {
                // Acquire load of the kernel's sq head (pairs with its release): SQEs wait.
                wakeSqThreadIfNeeded();
            }
        } catch (IOException | RuntimeException failed) {
            if (!ringClosed) machineryFailures.increment();
        }
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
        cancels.increment();
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
                if (cqBusy.get()) {
                    // A carrier holds the CQ (it sleeps in io_uring_enter as the leader, or
                    // drains): it reaps every CQE and unparks their owners, sleeping callers
                    // included. Waiting in the kernel meanwhile would return at once for each
                    // CQE it has not drained yet, over and over (docs/engines.md); park until
                    // it lets go (releaseCq) instead.
                    reaperWaitsForCq = true;
                    // Volatile store above, volatile load here (Dekker with releaseCq).
                    if (cqBusy.get() && !reaperStop) LockSupport.parkNanos(this, REAPER_WAIT_NANOS);
                    reaperWaitsForCq = false;
                    continue;
                }
                long r = ring.enterWait(0, 1, REAPER_WAIT_NANOS, reaperScratch);
                waitEnters.increment();
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
        if (fbCount > 0) {
            try {
                runBatchOnFallback(b, fbPos, fbCount);
            } catch (IOException | RuntimeException failed) {
                // The ring's calls are posted: wait for them whatever happened to the others.
                IOException e = failed instanceof IOException io ? io
                        : new IOException("the SYSCALL_THREADS fallback failed: " + failed, failed);
                for (int k = 0; k < fbCount; k++) {
                    if (!b.isSettled(fbPos[k])) b.fail(fbPos[k], e);
                }
            }
        }
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
            int slot = tryAllocateSlot();
            if (slot < 0 || count == unpushed.length) {
                // Never wait for a slot while holding SQEs that are not in the ring: push them first.
                pushSqes(unpushed, count);
                count = 0;
                if (!sqpoll) kick();
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
        if (!sqpoll) kick();
        latch.countDown(); // the guard count: completions may now bring it to zero
    }

    /**
     * Copies SQEs into the ring; one release of the tail per lock hold; waits while the SQ is
     * full (as {@link #pushSqe}: the calls that never get into the ring because close gave up
     * complete as cancelled by close).
     */
    private void pushSqes(UringCall[] cs, int count) {
        int i = 0;
        long pause = 0;
        while (i < count) {
            sqLock.lock();
            try {
                MemorySegment r = ring.ring;
                // Acquire load of the kernel's sq head: pairs with its release after consuming
                // SQEs; the slots before it may be overwritten.
                int head = (int) INT.getAcquire(r, ring.sqHeadOff);
                int start = i;
                while (i < count && sqTail - head < ring.sqEntries) {
                    writeSqe(cs[i++], sqTail & ring.sqMask);
                    sqTail++;
                }
                if (i > start) {
                    // Release store of the SQ tail, once for all the SQEs written above: they are
                    // visible before the tail that exposes them (pairs with the kernel's acquire).
                    INT.setRelease(r, ring.sqTailOff, sqTail);
                    publishedTail = sqTail;
                }
            } finally {
                sqLock.unlock();
            }
            if (i < count) {
                sqFullWaits.increment();
                pause = drainFullSq(pause);
                if (pause < 0) {
                    // Never in the ring: their calls complete with -ECANCELED as cancelled by close.
                    for (int j = i; j < count; j++) {
                        UringCall c = cs[j];
                        c.cancelledByClose = true;
                        releaseSlot(c.slot);
                        c.complete(-Errno.ECANCELED);
                    }
                    break;
                }
            }
        }
        java.util.Arrays.fill(cs, 0, count, null);
        if (sqpoll && count > 0) kick();
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
        for (int k = 0; k < count; k++) fallbackCalls[b.call(pos[k]).nr()].increment();
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
            while (!latch.isDone()) {
                if (reaperIdle) LockSupport.unpark(reaper);
                reapCompletions(); // also after close gave up on calls: nobody else reaps then
                if (latch.isDone()) break;
                if (Thread.interrupted()) interrupted = true;
                if (interrupted) {
                    long now = System.nanoTime();
                    for (UringCall c : cs) {
                        if (c != null && c.call.mayBlock() && !c.isDone()
                                && (!c.cancelRequested || now - c.lastCancelNanos > RECANCEL_NANOS)) {
                            cancelQuietly(c);
                        }
                    }
                }
                kick(); // an enter that failed while posting: the SQEs are in the ring
                latch.setParked(true);
                try {
                    // Re-check after announcing the sleep: countDown() decrements then reads parked.
                    if (!latch.isDone()) {
                        callerParks.increment();
                        // Volatile read of abandoned: close gave up and the completion thread stopped.
                        LockSupport.parkNanos(this, interrupted ? 2_000_000L : abandoned ? 10_000_000L : 100_000_000L);
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
                UringCall c = (UringCall) CALLS.getAcquire(calls, s);
                if (c != null && c.call != null && c.call.mayBlock() && !c.isDone()) {
                    c.cancelledByClose = true;
                    try {
                        cancel(c);
                    } catch (IOException | RuntimeException ignored) {
                        // the wait below reports what did not complete
                    }
                }
            }
            while (inFlight.get() > 0 && System.nanoTime() < deadline) {
                if (!sqpoll) flush();
                else wakeSqThreadIfNeeded();
                reapCompletions();
                if (inFlight.get() > 0) LockSupport.parkNanos(200_000L);
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through to the teardown
        }
        boolean clean = inFlight.get() == 0;
        if (!clean) abandoned = true;
        reaperStop = true;
        LockSupport.unpark(reaper);
        try {
            reaper.join(TimeUnit.NANOSECONDS.toMillis(REAPER_WAIT_NANOS) * 5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int s = 0; s < slots; s++) {
            UringCall c = (UringCall) CALLS.getAcquire(calls, s);
            if (c != null) LockSupport.unpark(c.owner); // they see `abandoned` and fail
        }
        if (clean && !reaper.isAlive()) {
            // Callers whose calls completed may still be in their reap loop: they check
            // ringClosed, and an access racing with the unmap throws IllegalStateException
            // (the shared arena), which reapCompletions swallows once ringClosed is set.
            ringClosed = true;
            while (!cqBusy.compareAndSet(false, true)) Thread.onSpinWait();
            // waitLock: a scheduler in awaitCompletions passes waitScratch to io_uring_enter
            // under it; it returns within its timeout (the ring's close would also end it).
            waitLock.lock();
            try {
                ring.close();
                reaperArena.close();
            } finally {
                waitLock.unlock();
                cqBusy.set(false);
            }
        }
        SyscallThreadsEngine f;
        synchronized (fallbackLock) {
            f = fallback;
        }
        if (f != null) f.close();
    }

    /**
     * Counters of one io_uring engine; see {@link #uringStats()}.
     *
     * @param submitEnters io_uring_enter calls that submitted SQEs (IO_URING; a carrier's sleep that also submitted counts)
     * @param waitEnters   io_uring_enter calls that waited for completions (the completion thread, sleeping carriers)
     * @param wakeNops     NOPs posted to wake a carrier sleeping in io_uring_enter (IO_URING)
     */
    public record UringStats(Engine engine, Map<String, Long> ringCalls, Map<String, Long> fallbackCalls,
                             long enterCalls, long cqOverflowFlushes, long sqFullWaits, long cancels,
                             long resubmits, int inFlight, EngineStats fallback, long submitEnters,
                             long waitEnters, long wakeNops) {
    }
}
