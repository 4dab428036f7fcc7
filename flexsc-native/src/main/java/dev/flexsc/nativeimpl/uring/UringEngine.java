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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.nativeimpl.uring.IoUring.INT;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

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
 * {@code user_data} (request slot + generation) to the waiting {@link PendingCall}.
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
 * <p><b>Schedulers</b> use {@link #submit}, {@link #flush()}, {@link #reapCompletions()} and
 * {@link #awaitCompletions(long)} (docs/engines.md).
 *
 * <p>Thread-safe.
 */
public final class UringEngine implements FlexscEngine, SyscallInvoker {
    private static final VarHandle CALLS = MethodHandles.arrayElementVarHandle(PendingCall[].class);
    private static final VarHandle FREE_WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int ETIME = 62;
    /** How long the completion thread sleeps in the kernel before re-checking its state. */
    private static final long REAPER_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** How often a call whose cancel did not take yet is cancelled again. */
    /** Yields of a waiting caller between its spin and its sleep. */
    private static final int CALLER_YIELDS = 64;
    private static final long RECANCEL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

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
    private final CallGate.Room room = this::hasFreeSlot;

    // ---- request table: slot -> call in flight ----
    private final int slots;
    private final PendingCall[] calls;
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
    private volatile boolean reaperStop;
    private final Arena reaperArena = Arena.ofShared();
    private final MemorySegment reaperScratch = reaperArena.allocate(IoUring.WAIT_SCRATCH_SIZE, 8);
    private final ReentrantLock waitLock = new ReentrantLock();
    private final MemorySegment waitScratch = reaperArena.allocate(IoUring.WAIT_SCRATCH_SIZE, 8);

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
    private final LongAdder[] ringCalls = new LongAdder[SyscallTable.NR_LIMIT];
    private final LongAdder[] fallbackCalls = new LongAdder[SyscallTable.NR_LIMIT];

    private UringEngine(Engine kind, FlexscConfig config, IoUring ring, boolean[] supported) {
        this.kind = kind;
        this.sqpoll = kind == Engine.IO_URING_SQPOLL;
        this.config = config;
        this.ring = ring;
        this.onRing = UringOps.route(supported);
        this.routing = UringOps.describe(onRing);
        this.callerSpin = config.callerSpin();
        this.gate = new CallGate(config.policy(), DirectSyscalls.invoker());
        this.slots = ring.sqEntries + ring.cqEntries;
        this.calls = new PendingCall[slots];
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
        this.reaper = Thread.ofPlatform().daemon().name("flexsc-uring-completions-" + ring.fd).unstarted(this::reapLoop);
        reaper.start();
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
                // they would wait for the busy poller to be preempted (hundreds of microseconds
                // per call measured on two cores). Best effort: Linux < 5.15 has no such knob.
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
                f == null ? null : f.stats());
    }

    // ---- the blocking call (SyscallInvoker) ----

    @Override
    public long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr); // refused calls never reach the ring
        if (closed) throw new EngineClosedException(call.name() + ": the engine is closed"); // volatile read
        long direct = gate.tryDirect(call, room, this, a0, a1, a2, a3, a4, a5); // the call policy
        if (direct != CallGate.POST) return direct;
        PendingCall c = prepare(call, a0, a1, a2, a3, a4, a5);
        if (c == null) {
            return runOnFallback(call, a0, a1, a2, a3, a4, a5);
        }
        enqueue(c);
        if (!sqpoll) flush();
        long total = 0;
        while (true) {
            long r = await(c);
            // A short write or send (a pipe or socket that took part of the data) is continued
            // until the whole buffer is written or an error, as the blocking syscall does; the
            // error after a partial write is dropped in favour of the count, as the kernel does.
            if ((c.opcode == OP_WRITE || c.opcode == OP_SEND) && r > 0 && r < c.len && !c.cancelRequested) {
                total += r;
                c.addr += r;
                c.len -= (int) r;
                if (c.off >= 0 && c.opcode == OP_WRITE) c.off += r;
                c.rearm();
                resubmits.increment();
                enqueue(c);
                if (!sqpoll) flush();
                continue;
            }
            if (total > 0) return r > 0 ? total + r : total;
            return r;
        }
    }

    /** Fills a PendingCall's SQE; null if the call goes to the fallback. */
    private PendingCall prepare(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) {
        int nr = call.nr();
        if (!onRing[nr]) return null;
        PendingCall c = new PendingCall(this, call, Thread.currentThread(), a0, a1, a2, a3, a4, a5);
        if (!UringOps.lookup(nr).prep().fill(c)) return null;
        return c;
    }

    private long runOnFallback(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        if (closed) throw new EngineClosedException(call.name() + ": the engine is closed");
        fallbackCalls[call.nr()].increment();
        return fallback().invoke(call.nr(), a0, a1, a2, a3, a4, a5);
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
                            .policy(CallPolicy.EXCEPTIONLESS).build());
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
     * <p>Blocks only while every slot of the ring is in flight ({@link #maxInFlight()}).
     *
     * @throws dev.flexsc.RefusedCallException if {@code nr} is not allow-listed
     * @throws EngineClosedException if the engine is closed
     */
    public PendingCall submit(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.Call call = SyscallTable.require(nr);
        PendingCall c = prepare(call, a0, a1, a2, a3, a4, a5);
        if (c == null) {
            return PendingCall.completed(this, call, runOnFallback(call, a0, a1, a2, a3, a4, a5));
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
     * {@link PendingCall} and unparks the thread that submitted it. If another thread is
     * draining at this moment, returns 0 at once (it completes those calls).
     *
     * @return completions reaped
     */
    public int reapCompletions() {
        if (!cqBusy.compareAndSet(false, true)) return 0;
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
        } finally {
            cqBusy.set(false);
        }
        return n;
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

    // ---- submission ----

    /** Takes a slot and writes the SQE; blocks only while every slot is in flight. */
    private void enqueue(PendingCall c) throws IOException {
        int slot = allocateSlot(c);
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
            ringCalls[c.call.nr()].increment();
            submitted.increment();
        }
        pushSqe(c);
    }

    /** Copies the SQE into the ring and releases the tail; waits while the SQ is full. */
    private void pushSqe(PendingCall c) throws IOException {
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
            if (sqpoll) {
                wakeSqThreadIfNeeded();
                reapCompletions(); // an overflow backlog stops the polling thread on old kernels
                Thread.yield();
            } else {
                flush();
            }
        }
        if (sqpoll) wakeSqThreadIfNeeded();
    }

    private void writeSqe(PendingCall c, int index) {
        MemorySegment s = ring.sqes;
        long e = (long) index * SQE_SIZE;
        // Plain stores: published by the release store of the tail in pushSqe.
        s.set(ValueLayout.JAVA_BYTE, e + SQE_OPCODE, c.opcode);
        s.set(ValueLayout.JAVA_BYTE, e + SQE_FLAGS, (byte) 0);
        s.set(ValueLayout.JAVA_SHORT, e + SQE_IOPRIO, (short) 0);
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

    private int allocateSlot(PendingCall c) throws IOException {
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
        int slot = (int) userData;
        if (slot < 0 || slot >= slots) return; // not ours (cannot happen: we write every user_data)
        // Acquire: pairs with the volatile store in enqueue, so the call's fields are visible.
        PendingCall c = (PendingCall) CALLS.getAcquire(calls, slot);
        if (c == null || c.userData != userData) return; // a stale CQE of an abandoned slot
        releaseSlot(slot);
        if (c.call != null) completed.increment();
        c.complete(res);
    }

    // ---- waiting ----

    /** Blocks the submitting thread until {@code c} completes; see {@link PendingCall#await()}. */
    long await(PendingCall c) throws IOException {
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
                        callerParks.increment();
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

    private long finish(PendingCall c, boolean interrupted) throws IOException {
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
                resubmits.increment();
                c.rearm();
                enqueue(c);
                if (!sqpoll) flush();
                return await(c);
            }
        }
        return r;
    }

    /** Submits IORING_OP_ASYNC_CANCEL for {@code target}. */
    void cancel(PendingCall target) throws IOException {
        if (target.isDone() || target.slot < 0) return;
        target.cancelRequested = true;
        target.lastCancelNanos = System.nanoTime();
        PendingCall k = new PendingCall(this, null, Thread.currentThread(), 0, 0, 0, 0, 0, 0);
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
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.closeTimeoutMillis());
        try {
            for (int s = 0; s < slots; s++) {
                PendingCall c = (PendingCall) CALLS.getAcquire(calls, s);
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
            PendingCall c = (PendingCall) CALLS.getAcquire(calls, s);
            if (c != null) LockSupport.unpark(c.owner); // they see `abandoned` and fail
        }
        if (clean && !reaper.isAlive()) {
            // Callers whose calls completed may still be in their reap loop: they check
            // ringClosed, and an access racing with the unmap throws IllegalStateException
            // (the shared arena), which reapCompletions swallows once ringClosed is set.
            ringClosed = true;
            while (!cqBusy.compareAndSet(false, true)) Thread.onSpinWait();
            try {
                ring.close();
                reaperArena.close();
            } finally {
                cqBusy.set(false);
            }
        }
        SyscallThreadsEngine f;
        synchronized (fallbackLock) {
            f = fallback;
        }
        if (f != null) f.close();
    }

    /** Counters of one io_uring engine; see {@link #uringStats()}. */
    public record UringStats(Engine engine, Map<String, Long> ringCalls, Map<String, Long> fallbackCalls,
                             long enterCalls, long cqOverflowFlushes, long sqFullWaits, long cancels,
                             long resubmits, int inFlight, EngineStats fallback) {
    }
}
