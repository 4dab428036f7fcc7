package dev.flexsc.threads;

import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CarrierContext;
import dev.flexsc.spi.PendingCall;
import org.jctools.queues.varhandle.MpscUnboundedVarHandleArrayQueue;
import org.jctools.queues.varhandle.SpmcVarHandleArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One kernel-visible thread of the M:N scheduler, pinned to one user CPU. It runs the
 * continuations of virtual threads; it submits the FlexSC calls its threads posted and reaps
 * their completions itself (its own {@link CarrierContext}s: an io_uring ring of its own),
 * unparking their owners onto its own queue, while it has work (on a budget) and whenever it
 * runs out; with nothing to run it sleeps in the kernel in its primary context. This class
 * is the loop and its queues; the loop's other jobs have a file each: its contexts
 * ({@link CarrierContexts}), the page engines' calls its threads wait for
 * ({@link PendingCalls}), idling and being woken ({@link CarrierIdle}), ADAPTIVE's decision
 * on the page engines ({@link AdaptivePolicy}), counters and events ({@link CarrierStats}).
 *
 * <p>Queues. {@code local}: single producer (this carrier's OS thread: the carrier itself
 * or a virtual thread mounted on it), many consumers (this carrier, and idle carriers
 * that steal). {@code inbox}: many producers (timers, pollers, other carriers, any thread
 * that starts or unparks a virtual thread), this carrier consumes. Work in the inbox is
 * moved to {@code local} in small batches so that idle carriers can steal it.
 *
 * <p>Everything but the queues and the sleep state is carrier-private: touched only on this
 * carrier's OS thread (by the carrier, or by a virtual thread mounted on it through the
 * {@link CallCarrier} methods), never concurrently, so it needs no synchronisation.
 */
final class CarrierThread extends Thread implements CallCarrier {
    private static final VarHandle RUNNING_TASK, INBOX_LOCK;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            RUNNING_TASK = l.findVarHandle(CarrierThread.class, "runningTask", int.class);
            INBOX_LOCK = l.findVarHandle(CarrierThread.class, "inboxLock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int LOCAL_CAPACITY = 1 << 13;
    /**
     * The poll budget, in dispatches: every 64 the carrier also submits and reaps its calls
     * and looks at its inbox, so that a steady stream of runnable threads cannot hold back
     * the calls their predecessors posted, nor completions and external work. (64: the
     * batches of 64 calls per io_uring_enter measured in docs/engines.md; fewer dispatches
     * per poll cost batching, more cost latency.)
     */
    static final int POLL_EVERY_DISPATCHES = 64;
    /**
     * The poll budget, in time: a carrier whose threads run long between parks polls once this
     * much has passed since its last poll, whatever the dispatch count, so that its own I/O
     * waits at most about this long behind them. The clock starts at the first read after the
     * poll ({@link #CLOCK_EVERY_DISPATCHES} dispatches later), not at the poll: a poll reads
     * no clock, and a carrier whose bursts are shorter than that reads none at all (the idle
     * rounds' clock reads were about a tenth of the carrier's own CPU at 10 HTTP connections:
     * docs/threads.md, "The idle rounds").
     */
    static final long POLL_EVERY_NANOS = 250_000L;
    /** Dispatches between two reads of the clock for {@link #POLL_EVERY_NANOS} (a power of two). */
    static final int CLOCK_EVERY_DISPATCHES = 4;
    /** {@link #pollStartNanos} before the first clock read after a poll. */
    private static final long UNSTAMPED = Long.MIN_VALUE;
    /** Inbox items moved to the stealable local queue at a time. */
    private static final int INBOX_BATCH = 32;

    private final FlexscScheduler scheduler;
    private final int cpu;
    final SpmcVarHandleArrayQueue<Runnable> local = new SpmcVarHandleArrayQueue<>(LOCAL_CAPACITY);
    final MpscUnboundedVarHandleArrayQueue<Runnable> inbox = new MpscUnboundedVarHandleArrayQueue<>(1024);
    private final CarrierStats stats;
    private final CarrierContexts contexts;
    private final PendingCalls pending;
    private final CarrierIdle idle;
    private final AdaptivePolicy policy;
    /** Loop iterations that looked for work (carrier-private): where a steal starts. */
    private long ticks;
    /** Dispatches since the carrier last polled its calls (carrier-private): the poll budget's count. */
    private int sincePoll;
    /** The last poll reaped nothing (carrier-private): with no dispatch since, an idle round polls only on a context's sign. */
    private boolean lastPollEmpty;
    /**
     * The first clock read after the last poll, or {@link #UNSTAMPED} (carrier-private): the
     * start of the {@link #POLL_EVERY_NANOS} budget.
     */
    private long pollStartNanos = UNSTAMPED;
    /**
     * 1 while the carrier runs a continuation, 0 otherwise: opaque stores by the carrier (no
     * fence on the dispatch path), opaque loads by the {@link CarrierMonitor}, which with the
     * dispatch count tells a carrier held by one thread.
     */
    @SuppressWarnings("unused")
    private int runningTask;
    /**
     * Set (volatile) by the monitor while one green thread holds this carrier beyond
     * {@link CarrierMonitor#HELD_BOUND_NANOS}: new external work goes elsewhere and a
     * compensating carrier takes the inbox. Cleared by the carrier when the thread gives it back.
     */
    volatile boolean held;
    /** The held carrier this one compensates for, or null for a carrier of the scheduler's own. */
    final CarrierThread compensates;
    /** Set once a compensator's held carrier came back: it takes no new work and exits when it has none. */
    volatile boolean retiring;
    /**
     * The compensator of this carrier while it is held (set by the monitor before the
     * compensator starts, volatile): a thread that pushes into this carrier's inbox wakes it.
     */
    volatile CarrierThread compensator;
    /**
     * Set (volatile) by a compensator as it leaves its loop: from then on a thread that still
     * picked it for external work moves the work on itself ({@link #rehomeInbox}).
     */
    private volatile boolean exited;
    /**
     * 1 while a thread consumes the inbox (the carrier, or its compensator while it is held):
     * the inbox has one consumer at a time. CAS to take, release store to give back.
     */
    @SuppressWarnings("unused")
    private int inboxLock;
    /** The kernel's id of this carrier's OS thread (set as it starts; 0 before), for the monitor's look in /proc. */
    private volatile int tid;
    private int pinResult = Integer.MIN_VALUE;
    /**
     * Carrier-private: the carrier slept since it last told the monitor it runs (true at
     * start): its next dispatch calls {@link CarrierMonitor#carrierStarts()}, which unparks a
     * monitor parked while every carrier slept. One fence per sleep, none per dispatch.
     */
    private boolean sleptSinceStart = true;

    CarrierThread(FlexscScheduler scheduler, int index, int cpu, IdlePolicy idlePolicy, boolean daemon) {
        this(scheduler, scheduler.name() + "-carrier-" + index + "-cpu" + cpu, cpu, idlePolicy, daemon, null);
    }

    /** A compensating carrier for {@code held}, on its CPU (see {@link CarrierMonitor}). */
    CarrierThread(FlexscScheduler scheduler, String name, int cpu, IdlePolicy idlePolicy, boolean daemon,
                  CarrierThread compensates) {
        super(null, null, name, 256 * 1024, false);
        this.scheduler = scheduler;
        this.cpu = cpu;
        this.compensates = compensates;
        this.stats = new CarrierStats(scheduler);
        this.contexts = new CarrierContexts(this);
        this.pending = new PendingCalls(stats);
        this.idle = new CarrierIdle(this, idlePolicy, contexts, pending, stats);
        this.policy = new AdaptivePolicy(stats);
        setDaemon(daemon);
    }

    // ---- CallCarrier: called by a virtual thread mounted on this carrier ----

    @Override
    public boolean hasOtherWork() {
        // Pending calls: carrier-private, read on the carrier's own OS thread. A thread parked
        // on a call counts as other work: were the caller to spin instead, and its calls kept
        // completing within the spin, it would never give the carrier back to reap theirs.
        // The queue checks are volatile index loads in JCTools; a hint, stale is fine.
        return pending.size() > 0 || contexts.hasCalls() || hasQueuedWork();
    }

    /** Runnable work queued on this carrier (not counting parked callers; a hint from other threads). */
    boolean hasQueuedWork() {
        return !local.isEmpty() || !inbox.isEmpty();
    }

    /**
     * The ADAPTIVE policy's decision for the green thread mounted here (see
     * {@link CallCarrier#postPays(int)}). The switch: if no other thread could run while the
     * call is out, the carrier would only idle, so the call is made directly; otherwise
     * {@link AdaptivePolicy#decide} says whether posting this call pays here.
     */
    @Override
    public boolean postPays(int nr) {
        // The common case of a lone thread first, small enough to inline into the call path.
        if (pending.size() == 0 && !hasQueuedWork()) {
            return policy.direct();
        }
        return postPaysWithOthers(nr);
    }

    private boolean postPaysWithOthers(int nr) {
        if (!hasQueuedWork()) {
            // Reaping first makes the threads whose calls completed count as work.
            pending.reap();
            if (!hasQueuedWork()) {
                // Nothing could run while our call is out: the carrier would idle, so the call
                // is made directly, and this thread keeps the carrier until it parks.
                return policy.direct();
            }
        }
        return policy.decide(nr);
    }

    @Override
    public void postedLocally() {
        policy.postedLocally();
    }

    @Override
    public void watch(PendingCall call) {
        policy.watched(call);
        pending.add(call);
    }

    @Override
    public CarrierContext context(CarrierContext.Provider provider) {
        return contexts.context(provider);
    }

    @Override
    public Thread thread() {
        return this;
    }

    // ---- scheduling: called by FlexscScheduler.execute ----

    /** From this carrier's own OS thread: the task goes to the local queue. */
    void pushLocal(Runnable task) {
        if (!local.offer(task)) {
            inbox.offer(task); // local full: the inbox is unbounded and also drained by us
        }
    }

    /** From any other thread: the task goes to the inbox, and the carrier is woken if asleep. */
    void pushExternal(Runnable task) {
        inbox.offer(task);
        // Full fence: the offer is visible before the reads of the sleep state (Dekker with
        // the carrier's store of SLEEPING then recheck of the inbox in CarrierIdle), of the
        // compensator (Dekker with its sleep, which rechecks this inbox: heldInboxWaiting) and
        // of exited (Dekker with a compensator's exit: its store of exited, fence, rehome).
        VarHandle.fullFence();
        idle.wake();
        CarrierThread k = compensator; // volatile read: null unless this carrier is (or was) held
        if (k != null) k.wake();
        if (exited) rehomeInbox(); // a compensator that left: nobody else drains its inbox
    }

    /** Compensator: true while its held carrier's inbox has work for it to take (the sleep recheck). */
    boolean heldInboxWaiting() {
        CarrierThread h = compensates;
        return h != null && !retiring && h.held && !h.inbox.isEmpty();
    }

    /**
     * A compensator that left its loop, or a thread that pushed into its inbox meanwhile:
     * moves what is left in the inbox to carriers still running (the inbox lock keeps each
     * task moved once).
     */
    private void rehomeInbox() {
        while (!inbox.isEmpty()) {
            if (!INBOX_LOCK.compareAndSet(this, 0, 1)) {
                Thread.onSpinWait(); // the other one moves it; wait until it is done
                continue;
            }
            try {
                Runnable t;
                while ((t = inbox.relaxedPoll()) != null) scheduler.executeElsewhere(t);
            } finally {
                INBOX_LOCK.setRelease(this, 0); // release: pairs with the next consumer's CAS
            }
        }
    }

    boolean isSleeping() {
        return idle.isSleeping();
    }

    /** Any thread: wakes this carrier if it sleeps. */
    void wake() {
        idle.wake();
    }

    // ---- the loop ----

    @Override
    public void run() {
        pinResult = LibFlexsc.flexsc_pin_self(cpu);
        tid = (int) dev.flexsc.nativeimpl.DirectSyscalls.raw(dev.flexsc.abi.SyscallTable.GETTID, 0, 0, 0, 0, 0, 0);
        int round = 0;
        while (!scheduler.isStopping()) { // volatile read
            Runnable task = next();
            if (task != null) {
                round = 0;
                stats.dispatches++;
                sincePoll++;
                RUNNING_TASK.setOpaque(this, 1);
                if (sleptSinceStart) {
                    sleptSinceStart = false;
                    scheduler.monitor().carrierStarts(); // after our store of RUNNING (CarrierIdle): see there
                }
                try {
                    task.run(); // VirtualThread.runContinuation: mounts, runs until it parks or ends
                } catch (Throwable t) {
                    // The JDK's continuation runner reports a thread's own exceptions; anything
                    // reaching here is a bug, but one thread must not take the carrier down.
                    scheduler.reportCarrierError(this, t);
                }
                RUNNING_TASK.setOpaque(this, 0);
                if (held) held = false; // the long runner gave the carrier back (volatile read per dispatch)
                continue;
            }
            if (held) held = false; // out of work: nobody holds it (the monitor's mark came late)
            if (retiring && hasNothingLeft()) break; // a compensator whose held carrier is back
            try {
                round = idle.round(round);
                if (round == 0) sleptSinceStart = true; // a sleep ended (round() returns 0 only then)
            } catch (Throwable t) {
                // A failure of the carrier's own machinery (its ring, its queues) is a bug, but
                // the carrier must keep running the threads that depend on it.
                scheduler.reportCarrierError(this, t);
                round = 0;
                sleptSinceStart = true; // it may have slept before it failed
            }
        }
        // Calls its threads posted here must not outlive the carrier's rings unnoticed: cancel
        // what may block, wait (bounded) for the rest, release the rings.
        contexts.closeAll(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(scheduler.config().closeTimeoutMillis()));
        if (compensates != null) {
            exited = true; // volatile, then a full fence: Dekker with pushExternal (see there)
            VarHandle.fullFence();
        }
        scheduler.carrierExited(this); // a compensator leaves the carrier list: external work no longer picks it
        if (compensates != null && !scheduler.isStopping()) rehomeInbox();
    }

    /** A retiring compensator's test: no queued thread, no call of its threads in flight. */
    private boolean hasNothingLeft() {
        return !hasQueuedWork() && pending.size() == 0 && !contexts.hasCalls();
    }

    /** Loop iterations so far (racy plain read from other threads: tests). */
    long ticks() {
        return ticks;
    }

    /** The kernel's id of this carrier's OS thread, or 0 before it started. */
    int tid() {
        return tid;
    }

    /** Monitor: true while a continuation runs on this carrier (an opaque load). */
    boolean runsTask() {
        return (int) RUNNING_TASK.getOpaque(this) == 1;
    }

    private Runnable next() {
        ++ticks;
        CarrierThread h = compensates;
        if (h != null && !retiring && !h.held) retiring = true; // its carrier is back: run down and exit
        int since = sincePoll;
        if (since >= POLL_EVERY_DISPATCHES || (since > 0 && (since & (CLOCK_EVERY_DISPATCHES - 1)) == 0 && pollDue())) {
            // Under a steady stream of local work, still submit the calls collected meanwhile
            // (so none waits for the stream to end), and let completions and external work in.
            pollCalls();
            refillFromInbox();
        } else if (since > 0) {
            // Between the budget's polls: completions ready in the rings are reaped now (a look
            // at their shared words; a system call only for completion work the kernel flagged;
            // the SQ waits for the poll), so that their owners queue behind the threads queued
            // now, not behind those the carrier runs until its next poll.
            int n = contexts.reapPosted();
            if (n > 0) stats.contextReaped(n);
        }
        Runnable t = local.relaxedPoll();
        if (t != null) return t;
        if (refillFromInbox() > 0 && (t = local.relaxedPoll()) != null) return t;
        // Out of runnable threads: submit the round's calls and reap, in one kernel entry at
        // most. An idle round after a poll that found nothing, with no dispatch since, polls
        // again only if a context shows work (no system call, no clock: idleRoundPolls).
        if (idleRoundPolls() && pollCalls() > 0 && (t = local.relaxedPoll()) != null) return t;
        // A compensator takes its held carrier's inbox (its local queue it steals, as any carrier).
        if (h != null && h.held && !retiring && h.drainInboxTo(this) > 0 && (t = local.relaxedPoll()) != null) return t;
        return steal();
    }

    /** True once {@link #POLL_EVERY_NANOS} passed since the first clock read after the last poll (one clock read). */
    private boolean pollDue() {
        long now = System.nanoTime();
        if (pollStartNanos == UNSTAMPED) {
            pollStartNanos = now;
            return false;
        }
        return now - pollStartNanos >= POLL_EVERY_NANOS;
    }

    /**
     * An idle round's test: poll unless the last poll found nothing, no thread ran since (only
     * a dispatched thread posts on this carrier's contexts), and no context shows work
     * ({@link CarrierContexts#needsPoll()}: a few loads of ring words, where a poll takes the
     * ring's use and reads the clock). Page engines' calls and a compensator's held ring are
     * polled every round, as before.
     */
    private boolean idleRoundPolls() {
        return sincePoll > 0 || !lastPollEmpty || pending.size() > 0 || contexts.needsPoll() || reapsForHeld();
    }

    /**
     * Submits what this carrier's threads posted and reaps what completed, on its own contexts
     * and on the page engines' calls it watches; the owners go to the local queue. Returns the
     * calls completed.
     */
    int pollCalls() {
        stats.polls++;
        sincePoll = 0;
        pollStartNanos = UNSTAMPED;
        int n = 0;
        if (contexts.size() > 0) {
            try {
                n = contexts.poll();
            } catch (RuntimeException | Error t) {
                scheduler.reportCarrierError(this, t); // see run(): the carrier goes on
            }
        }
        if (reapsForHeld()) {
            try {
                n += contexts.pollHeld(compensates.contexts);
            } catch (RuntimeException | Error t) {
                scheduler.reportCarrierError(this, t);
            }
        }
        if (n > 0) stats.contextReaped(n);
        if (pending.size() > 0) n += pending.reap();
        lastPollEmpty = n == 0;
        return n;
    }

    /**
     * A compensator whose held carrier is still held, runs a continuation (a carrier marked
     * held just as it went idle serves its ring itself) and has calls in flight on its
     * contexts: this carrier polls them in its stead (see {@link CarrierMonitor}). Racy
     * reads: a hint.
     */
    boolean reapsForHeld() {
        CarrierThread h = compensates;
        return h != null && !retiring && h.held && h.runsTask() && h.contexts.anyCallsInFlight();
    }

    private int refillFromInbox() {
        int n = drainInboxTo(this);
        if (n > 1) {
            scheduler.signalIdleCarrier(this); // more than we run next: let an idle carrier steal
        }
        return n;
    }

    /**
     * Moves up to {@link #INBOX_BATCH} items of this carrier's inbox to {@code to}'s local
     * queue (this carrier's own, or its compensator's while it is held). The inbox has one
     * consumer at a time: an empty inbox costs one load, a non-empty one a CAS.
     */
    int drainInboxTo(CarrierThread to) {
        if (inbox.isEmpty()) return 0;
        // CAS: one consumer at a time (the carrier, or its compensator).
        if (!INBOX_LOCK.compareAndSet(this, 0, 1)) return 0;
        int n = 0;
        try {
            Runnable t;
            while (n < INBOX_BATCH && (t = inbox.relaxedPoll()) != null) {
                to.pushLocal(t);
                n++;
            }
        } finally {
            INBOX_LOCK.setRelease(this, 0); // release: the polls above happen before the next consumer's
        }
        return n;
    }

    private Runnable steal() {
        CarrierThread[] all = scheduler.carrierArray();
        if (all.length == 1) return null;
        int n = all.length, start = (int) (ticks % n);
        for (int k = 0; k < n; k++) {
            CarrierThread victim = all[(start + k) % n];
            if (victim == this) continue;
            Runnable t = victim.local.relaxedPoll(); // SPMC: thieves may consume
            if (t != null) {
                stats.steals++;
                return t;
            }
        }
        return null;
    }

    // ---- for the scheduler, its MXBean and tests ----

    /** This carrier's counters (racy reads from other threads: statistics only). */
    CarrierStats stats() {
        return stats;
    }

    /** This carrier's contexts (carrier-private). */
    CarrierContexts contexts() {
        return contexts;
    }

    /** This carrier's ADAPTIVE state (racy reads from other threads: statistics only). */
    AdaptivePolicy policy() {
        return policy;
    }

    /** The result of sched_setaffinity for this carrier (0, or -errno; MIN_VALUE before start). */
    int pinResult() {
        return pinResult;
    }

    /** The CPU this carrier is pinned to (also when the pinning failed: see {@link #pinResult()}). */
    @Override
    public int cpu() {
        return cpu;
    }

    FlexscScheduler scheduler() {
        return scheduler;
    }
}
