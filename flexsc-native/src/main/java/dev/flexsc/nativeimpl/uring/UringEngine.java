package dev.flexsc.nativeimpl.uring;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import dev.flexsc.spi.AbstractEngine;
import dev.flexsc.spi.CallBatch;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CarrierContext;
import dev.flexsc.spi.GreenThreads;
import dev.flexsc.spi.PostingRule;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * The io_uring engines: {@link Engine#IO_URING} (a ring per carrier, whose calls the carrier
 * submits and reaps itself in the same {@code io_uring_enter} that puts it to sleep) and
 * {@link Engine#IO_URING_SQPOLL} (the same rings, attached to one kernel thread that polls
 * them all from a syscall CPU: submitting is a few stores, no system call while it is awake).
 *
 * <p><b>Where a call goes.</b> {@link #invoke} (the shared prologue of {@link AbstractEngine})
 * first applies {@link FlexscConfig#policy()}: under the default ADAPTIVE a call is posted
 * only if it would wait. A posted call from a green thread of the M:N scheduler goes into its carrier's own ring
 * ({@link CarrierRing}, a {@link CarrierContext} of the carrier) and the thread parks; the
 * carrier submits, reaps and unparks it ({@link RingWaits}). From any other thread it goes
 * into a ring lent for the call ({@link PlatformRings}), on which that thread submits and
 * waits in one kernel entry. Calls io_uring has no operation for (getpid, fstat, lseek,
 * sendfile...) and call shapes it would not run as the syscall does ({@link UringOps}) are
 * made directly on the calling thread; only the shapes that may then wait without bound go
 * to a {@link SyscallThreadsEngine} opened on first use. {@link #uringStats()} counts which
 * went where.
 *
 * <p><b>One owner per ring.</b> Nothing here locks a ring: a carrier's ring is touched only
 * on its carrier's OS thread, a platform ring only by its borrower. Other threads reach a
 * carrier's ring through its wake-up (an eventfd write), a cancel request, or close.
 *
 * <p><b>Semantics.</b> The ring's operations are made to return what their system calls
 * return ({@link UringOps}, {@link TransferRules}); an interrupt of a call that may block
 * cancels it with IORING_OP_ASYNC_CANCEL, after which it fails with
 * {@link java.io.InterruptedIOException}.
 *
 * <p>Thread-safe.
 */
public final class UringEngine extends AbstractEngine implements CarrierContext.Provider {
    /** SQ entries of a platform ring: a call or a batch in parts of this size (the SQ is submitted when full). */
    static final int PLATFORM_SQ_ENTRIES = 64;

    private final boolean sqpoll;
    private final RingSetup setup;
    /** SQPOLL: the ring whose polling thread every ring of this engine shares (ATTACH_WQ); else null. */
    private final IoUring base;
    private final boolean[] onRing;
    private final String routing;
    /** What the descriptors it owns are, for the refusal of a call that names one. */
    private final String ownedWhat;
    /** Its machinery failures are the engine's ({@link #machineryFailures()}). */
    private final UringCounters counters = new UringCounters(machineryFailureCounter());
    /*
     * The rings' lists are lock-free queues, and nothing on the way from a carrier's ring being
     * set up or released to the engine's bookkeeping blocks: a green thread does both on its
     * carrier's OS thread (openContext, and a close it finishes in RingWaits), and a green
     * thread that blocked there (a contended monitor, even a ConcurrentHashMap bin's) could
     * resume on another carrier in the middle of that carrier-private work.
     */
    private final Queue<CarrierRing> carrierRings = new ConcurrentLinkedQueue<>();
    /** Every ring of this engine that is set up now: carriers', platform, the first (for {@link #ownedFds}). */
    private final Queue<ConfinedRing> allRings = new ConcurrentLinkedQueue<>();
    /** Bumped (volatile RMW) whenever allRings changes or the engine closes: see {@link #updateOwnedFds}. */
    private final java.util.concurrent.atomic.AtomicLong ringsVersion = new java.util.concurrent.atomic.AtomicLong();
    private final PlatformRings platform;
    private final RingWaits waits;
    private final UringBatch batches;
    /** Linux 6.10+: IORING_ACCEPT_DONTWAIT (probed at open). */
    private final boolean acceptDontwait;
    /** IORING_OP_POLL_ADD (Linux 5.1, probed at open): the readiness wait ({@link #awaitReady}) runs on the rings. */
    private final boolean pollOnRing;

    private final Object fallbackLock = new Object();
    private volatile SyscallThreadsEngine fallback;

    private UringEngine(Engine kind, FlexscConfig config, RingSetup setup, IoUring base, boolean[] supported,
                        boolean acceptDontwait) {
        // A post is one more SQE in the caller's carrier's own ring: the rule tries the calls
        // that may wait without waiting first, and posts only what would wait.
        super(kind, config, DirectSyscalls.invoker(), PostingRule.Post.RING_ENTRY);
        this.sqpoll = kind == Engine.IO_URING_SQPOLL;
        this.ownedWhat = "an io_uring ring of this " + kind + " engine (or one of its carriers' wake-up eventfds)";
        this.setup = setup;
        this.base = base;
        this.onRing = UringOps.route(supported);
        this.routing = UringOps.describe(onRing) + "; " + UringOps.describeReadiness(supported) + "; " + setup.describe();
        this.acceptDontwait = acceptDontwait;
        this.pollOnRing = supported[OP_POLL_ADD];
        this.platform = new PlatformRings(this::newPlatformRing);
        platform.reserve(); // one platform ring from the start (PlatformRings.borrow: out of descriptors)
        this.waits = new RingWaits(this, platform, config.callerSpin());
        this.batches = new UringBatch(this, waits, platform);
        updateOwnedFds();
    }

    /**
     * Opens an io_uring engine. Its rings are set up as they are needed: one per carrier of the
     * M:N scheduler whose green threads call through it, with {@code pages x 64} SQ entries
     * and {@link FlexscConfig#uringCqEntries()} CQ entries (default twice the SQ), and a pool
     * of small ones for other threads. With SQPOLL every ring attaches to one polling thread,
     * bound to the first syscall CPU, which sleeps after {@link FlexscConfig#sqThreadIdleMillis()}
     * without work.
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
        // The first ring: the probes (operations, accept's DONTWAIT), and with SQPOLL the
        // polling thread the carrier and platform rings attach to.
        IoUring first = IoUring.setup(PLATFORM_SQ_ENTRIES, 0, flags, cpu, config.sqThreadIdleMillis());
        try {
            boolean[] supported = first.probeOpcodes();
            if ((flags & SETUP_SQ_AFF) != 0) {
                // Keep the io-wq workers (blocking work) off the polling thread's CPU: there
                // they would wait for the busy poller to be preempted, for every call that
                // blocks. Best effort: Linux < 5.15 has no such knob.
                int poller = cpu;
                int[] others = java.util.stream.IntStream.range(0, Runtime.getRuntime().availableProcessors())
                        .filter(c -> c != poller).toArray();
                if (others.length > 0) first.registerIoWqAffinity(others);
            }
            boolean dontwait = supported[OP_ACCEPT] && probeAcceptDontwait(first, flags != 0);
            IoUring base = kind == Engine.IO_URING_SQPOLL ? first : null;
            if (base == null) first.close();
            return new UringEngine(kind, config, RingSetup.of(kind), base, supported, dontwait);
        } catch (IOException | RuntimeException e) {
            first.close();
            throw e;
        }
    }

    /**
     * Whether this kernel knows IORING_ACCEPT_DONTWAIT (6.10): an accept with the flag on
     * descriptor -1 fails with EBADF where it is known and EINVAL (flag check in the
     * preparation) where not.
     */
    private static boolean probeAcceptDontwait(IoUring r, boolean sqpoll) {
        ConfinedRing ring = new ConfinedRing(r, sqpoll, false, new UringCounters());
        UringCall c = new UringCall(null, null, Thread.currentThread(), 0, 0, 0, 0, 0, 0);
        c.opcode = (byte) OP_ACCEPT;
        c.fd = -1;
        c.ioprio = (short) ACCEPT_DONTWAIT;
        if (!ring.post(c)) return false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!c.isDone() && System.nanoTime() < deadline) {
            ring.submitAndWait(10_000_000L);
            ring.reap();
        }
        return c.isDone() && c.result() == -Errno.EBADF;
    }

    /**
     * A ring was set up or released, or the engine closed: the owned descriptors (the rings'
     * and the carriers' eventfds, {@link #ownDescriptors}) are taken again. None once the
     * engine is closed: its calls then fail with EngineClosedException,
     * never a refusal that names a number another file may hold by then (the check comes
     * before the engine's in Syscalls and SyscallBatch). Lock-free (see carrierRings): each
     * updater bumped ringsVersion after its change; it stores a set computed from a version,
     * then reads the version again (volatile) and computes again if it moved. So the last
     * store to land was computed after the last change (close()'s bump comes after its store
     * of closed: the last word is NONE).
     */
    private void updateOwnedFds() {
        long v;
        do {
            v = ringsVersion.get();
            ownDescriptors(ownedWhat, isClosed() ? new int[0] : currentOwnedFds()); // a volatile store
        } while (ringsVersion.get() != v);
    }

    private int[] currentOwnedFds() {
        java.util.List<Integer> fds = new java.util.ArrayList<>();
        if (base != null) fds.add(base.fd);
        for (ConfinedRing r : allRings) {
            if (r.isReleased()) continue;
            fds.add(r.ring.fd);
            if (r instanceof CarrierRing c) fds.add(c.wakeFd());
        }
        return fds.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A ring of this engine was set up. */
    void ringOpened(ConfinedRing r) {
        allRings.add(r);
        ringsVersion.incrementAndGet();
        updateOwnedFds();
    }

    /** A ring of this engine was released (or left to the kernel). */
    void ringReleased(ConfinedRing r) {
        allRings.remove(r);
        ringsVersion.incrementAndGet();
        updateOwnedFds();
    }

    /** SQ entries of each carrier's ring (before the kernel rounds them up to a power of two). */
    public int sqEntries() {
        return config().pages() * 64;
    }

    /**
     * True if allow-listed call {@code nr} has an io_uring operation on this kernel (its
     * arguments may still have one particular call made directly: see {@link UringOps}).
     */
    public boolean routesToRing(int nr) {
        return nr >= 0 && nr < onRing.length && onRing[nr];
    }

    /** Which calls run on the ring and which are made directly, and how the rings are set up, in one line. */
    public String routing() {
        return routing;
    }

    /**
     * The counters: {@code submitted}/{@code executed} are SQEs and CQEs of calls on the
     * rings; {@code posted} the calls that went down the exception-less path (a ring, or the
     * fallback) and {@code direct} those made on the calling thread, by the call policy or
     * because the ring has no operation for them; {@code batches} the io_uring_enter calls
     * that submitted (IO_URING);
     * {@code executorSleeps} the times a submitter found the SQ polling thread asleep and
     * {@code wakeups} the IORING_ENTER_SQ_WAKEUP calls that woke it; {@code executorThreads}
     * the SQ polling thread (1 with SQPOLL) plus the fallback's threads. Per-call routing:
     * {@link #uringStats()}.
     */
    @Override
    public EngineStats stats() {
        SyscallThreadsEngine fb = fallback;
        int threads = (sqpoll && !isClosed() ? 1 : 0) + (fb != null && fb.isOpen() ? fb.stats().executorThreads() : 0);
        UringCounters k = counters;
        long noOp = k.directTotal.sum(); // the policy posted them; the engine made them directly
        return stats(k.submitted.sum(), k.completed.sum(), 0, k.submitEnters.sum(), k.sqThreadSleeps.sum(),
                k.sqWakeups.sum(), k.callerParks.sum(), threads, noOp);
    }

    /** Engine-specific counters: which calls ran on the rings, which directly, which on the fallback. */
    public UringStats uringStats() {
        UringCounters k = counters;
        SyscallThreadsEngine f = fallback;
        int inFlight = 0;
        for (CarrierRing r : carrierRings) inFlight += r.inFlight();
        return new UringStats(engine(), k.ringCalls(), k.directCalls(), k.fallbackCalls(),
                k.submitEnters.sum() + k.waitEnters.sum() + k.sqWakeups.sum(), k.overflowFlushes.sum(),
                k.sqFullWaits.sum(), k.cancels.sum(), k.resubmits.sum(), inFlight, f == null ? null : f.stats(),
                k.submitEnters.sum(), k.waitEnters.sum(), k.carrierWakes.sum(), carrierRings.size(),
                platform.lent() + platform.idle(), k.machineryFailures.sum());
    }

    UringCounters counters() {
        return counters;
    }

    // ---- the blocking call (AbstractEngine's call path) ----

    /** A carrier-local post waits for no shared resource: the call policy need not ask for room. */
    @Override
    protected boolean hasRoom() {
        return true;
    }

    @Override
    protected long post(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        return postOnRing(call, false, a0, a1, a2, a3, a4, a5);
    }

    /** The call policy found it would wait (or moved part of it): the ring need not probe it again. */
    @Override
    protected long postWouldWait(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        return postOnRing(call, true, a0, a1, a2, a3, a4, a5);
    }

    /**
     * The readiness wait. A green thread of the M:N scheduler writes a one-shot
     * IORING_OP_POLL_ADD entry for {@code fd} into its carrier's own ring and parks, and the
     * carrier's next kernel entry (its idle sleep, when it has nothing else to run) submits it
     * and reaps its completion: no other thread takes part, and a waiter that stays unready (a
     * slow client) holds nothing but the entry. A timeout is a deadline after which the waiter
     * cancels its entry (IORING_OP_ASYNC_CANCEL): -ECANCELED then reads as 0, and a completion
     * that won the race is returned as it came; an interrupt or the close of the channel
     * (its {@link dev.flexsc.spi.CancelScope}) cancels it as it cancels a ring read. A
     * descriptor that is not open completes with -EBADF, returned as poll(2) returns it:
     * POLLNVAL. Any other thread makes poll(2) directly, in slices ({@link SlicedPoll}, which
     * says why not a ring).
     *
     * <p>Made as poll(2) instead ({@link SyscallInvoker#awaitReady}'s default: directly, or
     * on the fallback) where the kernel has no POLL_ADD, under {@link CallPolicy#DIRECT}, and
     * for a timeout of 0, which never waits.
     *
     * @return the ready events (POLLERR, POLLHUP, POLLNVAL included), 0 on timeout, or
     *         {@code -errno} ({@code -EINTR} when an interrupt or a cancelled scope ended it)
     * @throws EngineClosedException if the engine is closed or closes while the thread waits
     */
    @Override
    public long awaitReady(int fd, int events, int timeoutMs) throws IOException {
        if (isClosed()) throw closedException(POLL_CALL, "the engine is closed"); // volatile read
        if (!pollOnRing || timeoutMs == 0 || config().policy() == CallPolicy.DIRECT) {
            return super.awaitReady(fd, events, timeoutMs);
        }
        if (currentCarrierRing() == null) {
            counters.madeDirectly(SyscallTable.POLL);
            return SlicedPoll.await(this, fd, events, timeoutMs);
        }
        UringCall c = new UringCall(this, POLL_CALL, Thread.currentThread(), fd, events, timeoutMs, 0, 0, 0);
        c.opcode = (byte) OP_POLL_ADD;
        c.fd = fd;
        c.opFlags = events & 0xFFFF; // poll32_events; off, addr, len (no IORING_POLL_ADD_MULTI): 0
        // A deadline of 0 means none: nudged off it in the one nanosecond where it would be 0.
        if (timeoutMs > 0) c.deadlineNanos = (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs)) | 1;
        long r = waits.run(c);
        if (r == -Errno.ECANCELED && c.deadlineNanos != 0) return 0; // cancelled at its deadline
        if (r == -Errno.EBADF) return dev.flexsc.PollFlags.POLLNVAL;
        return r;
    }

    private static final SyscallTable.Call POLL_CALL = SyscallTable.require(SyscallTable.POLL);

    /**
     * Posts {@code call} from the calling thread and waits for its result. {@code wouldWait}:
     * the call policy tried it without waiting and it would wait; on an O_NONBLOCK descriptor
     * the syscall fails with EAGAIN at once instead, otherwise the ring waits for it, unprobed.
     */
    private long postOnRing(SyscallTable.Call call, boolean wouldWait, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        if (wouldWait && !FdKinds.waitsWhenNotReady(a0)) return -Errno.EAGAIN;
        UringCall c = prepare(call, wouldWait, a0, a1, a2, a3, a4, a5);
        if (c == null) return elsewhere(call, a0, a1, a2, a3, a4, a5);
        return waits().run(c);
    }

    /**
     * Fills a UringCall's SQE; null if the ring has no operation for the call or declines it.
     * {@code waits}: the caller found it would wait (the preparation then adds no probe).
     */
    UringCall prepare(SyscallTable.Call call, boolean waits, long a0, long a1, long a2, long a3, long a4, long a5) {
        int nr = call.nr();
        if (!onRing[nr]) return null;
        UringCall c = new UringCall(this, call, Thread.currentThread(), a0, a1, a2, a3, a4, a5);
        c.waits = waits;
        return UringOps.lookup(nr).prep().fill(c) ? c : null;
    }

    /**
     * A call the ring does not run: made directly on the calling thread, except one that may
     * wait without bound, which the fallback runs: a shape the ring declined
     * ({@link UringOps#declinedMayWait}), or a readiness wait with a timeout
     * ({@link UringOps#waitsForReadiness}: poll, epoll_wait; a green thread that made it
     * directly would hold its carrier, and no interrupt or close could end the wait).
     */
    long elsewhere(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        int nr = call.nr();
        if (onRing[nr] ? UringOps.declinedMayWait(call, a1, a2, a3, a4, a5) : UringOps.waitsForReadiness(nr, a2, a3)) {
            return runOnFallback(call, a0, a1, a2, a3, a4, a5);
        }
        counters.ranDirectly(nr);
        return DirectSyscalls.raw(nr, a0, a1, a2, a3, a4, a5);
    }

    private long runOnFallback(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
        if (isClosed()) throw closedException(call, "the engine is closed");
        counters.ranOnFallback(call.nr());
        return fallback().invoke(call.nr(), a0, a1, a2, a3, a4, a5);
    }

    /**
     * How long the fallback's executors spin for more work before they sleep: as configured,
     * except on a machine of at most {@link Engine#FEW_CPUS} CPUs, where they sleep at once
     * (docs/engines.md, "AUTO's order"): the rare calls they run do not pay for a
     * spinning CPU there.
     */
    static int fallbackSpin(int configured, int cpus) {
        return cpus <= Engine.FEW_CPUS ? 0 : configured;
    }

    /** The fallback engine if it was opened (it opens with the first call that needs it). */
    SyscallThreadsEngine fallbackIfOpen() {
        return fallback;
    }

    SyscallThreadsEngine fallback() throws IOException {
        SyscallThreadsEngine f = fallback;
        if (f == null) {
            synchronized (fallbackLock) {
                f = fallback;
                if (f == null) {
                    if (isClosed()) throw new EngineClosedException("the engine is closed");
                    // EXCEPTIONLESS: this engine's policy already chose to post the calls it hands over.
                    f = SyscallThreadsEngine.open(config().toBuilder().engine(Engine.SYSCALL_THREADS)
                            .policy(CallPolicy.EXCEPTIONLESS)
                            .executorSpin(fallbackSpin(config().executorSpin(), Runtime.getRuntime().availableProcessors()))
                            .build());
                    fallback = f;
                }
            }
        }
        return f;
    }

    // ---- rings ----

    /** Linux 6.10+: whether accept4 can be probed with IORING_ACCEPT_DONTWAIT. */
    boolean acceptDontwait() {
        return acceptDontwait;
    }

    RingWaits waits() {
        return waits;
    }

    /**
     * The calling carrier's ring, opened now on its OS thread if it has none (the scheduler
     * asks: {@link CallCarrier#context}).
     *
     * @throws EngineClosedException if the engine is closed
     * @throws ErrnoException if the kernel refuses the ring
     */
    @Override
    public CarrierContext openContext(CallCarrier carrier) throws IOException {
        if (isClosed()) throw new EngineClosedException("the engine is closed");
        // The ring belongs to the carrier's OS thread, not to the green thread that asks for it
        // (which may end while the carrier goes on using the ring: see closeOrphan).
        Thread owner = carrier.thread();
        if (owner == null) throw new IllegalArgumentException("a carrier that names no thread of its own: " + carrier);
        IoUring r = IoUring.setup(config().pages() * 64, config().uringCqEntries(),
                setup.carrierFlags() | (sqpoll ? SETUP_SQPOLL | SETUP_ATTACH_WQ : 0), 0,
                config().sqThreadIdleMillis(), sqpoll ? base.fd : -1);
        CarrierRing ring = CarrierRing.open(this, owner, r, sqpoll, setup.taskrunFlag());
        carrierRings.add(ring);
        ringOpened(ring);
        // Volatile read after the add: close() sets closed, then asks every ring it finds to
        // close; a ring added after its scan sees closed here and is asked by us.
        if (isClosed()) ring.requestClose();
        return ring;
    }

    /**
     * The descriptor of a platform ring, set up now if none is idle; the next platform-thread
     * call gets this ring (tests that must name the ring a call will use).
     */
    int platformRingFd() throws IOException {
        ConfinedRing r = platform.borrow("platformRingFd");
        try {
            return r.ring.fd;
        } finally {
            platform.giveBack(r);
        }
    }

    /** The calling green thread's carrier's ring for this engine, or null (a platform thread, or none could be opened). */
    CarrierRing currentCarrierRing() {
        if (!Thread.currentThread().isVirtual()) return null;
        CallCarrier carrier = GreenThreads.currentCarrier();
        return carrier != null && carrier.context(this) instanceof CarrierRing r ? r : null;
    }

    /**
     * A carrier's ring was given up with {@code inFlight} calls still in flight (see
     * {@link CarrierRing}): it stays mapped and its descriptors owned; the engine stops
     * waiting for it.
     */
    void ringAbandoned(CarrierRing r, int inFlight) {
        carrierRings.remove(r);
        System.getLogger(UringEngine.class.getName()).log(System.Logger.Level.WARNING,
                "{0}: a carrier''s ring was given up with {1} call(s) still in flight in the kernel;"
                        + " it stays mapped so that they may complete", engine(), inFlight);
    }

    /** A carrier's ring closes itself (before its descriptors close): forget it. */
    void ringClosed(CarrierRing r) {
        carrierRings.remove(r);
        ringReleased(r);
    }

    /** One more ring for the platform pool (not SINGLE_ISSUER: its borrowers change). */
    private ConfinedRing newPlatformRing() {
        try {
            int flags = setup.platformFlags() | (sqpoll ? SETUP_SQPOLL | SETUP_ATTACH_WQ : 0);
            IoUring r = IoUring.setup(PLATFORM_SQ_ENTRIES, 0, flags, 0, config().sqThreadIdleMillis(), sqpoll ? base.fd : -1);
            ConfinedRing ring = new ConfinedRing(r, sqpoll, (flags & SETUP_TASKRUN_FLAG) != 0, counters) {
                @Override
                void releasing() {
                    ringReleased(this);
                }
            };
            ringOpened(ring);
            return ring;
        } catch (ErrnoException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- batches ----

    /**
     * Posts the batch's ring calls together (one SQE each, submitted with one kernel entry)
     * and waits once for all of them; see {@link UringBatch}.
     */
    @Override
    protected void postBatch(CallBatch b) throws IOException {
        batches.invoke(b);
    }

    // ---- close ----

    /**
     * Closes the engine: new calls fail with {@link EngineClosedException}; every carrier is
     * asked to close its ring (it cancels the calls that may block without bound, whose
     * callers then fail with {@link EngineClosedException}, lets the others complete, and
     * releases the ring); platform threads waiting on a ring do the same within their next
     * wait slice. Waits up to {@link FlexscConfig#closeTimeoutMillis()} for that, then closes
     * the fallback engine. A ring whose carrier is busy past the timeout is closed by the
     * carrier when it next polls. Idempotent.
     */
    @Override
    public void close() {
        if (!beginClose()) return;
        markClosed(); // volatile: see openContext() and the waits
        ringsVersion.incrementAndGet(); // after closed: every updater still in updateOwnedFds stores NONE last
        updateOwnedFds(); // none from now on
        for (CarrierRing r : carrierRings) r.requestClose();
        platform.close();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config().closeTimeoutMillis());
        while ((!carrierRings.isEmpty() || platform.lent() > 0) && System.nanoTime() < deadline) {
            for (CarrierRing r : carrierRings) r.closeOrphan(); // rings of carriers that have exited
            LockSupport.parkNanos(CLOSE_POLL_NANOS);
        }
        if (base != null) base.close(); // attached rings keep the polling thread until they close
        SyscallThreadsEngine f;
        synchronized (fallbackLock) {
            f = fallback;
        }
        if (f != null) f.close();
    }
}
