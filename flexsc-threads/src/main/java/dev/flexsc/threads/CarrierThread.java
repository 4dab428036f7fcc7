package dev.flexsc.threads;

import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.PendingCall;
import org.jctools.queues.varhandle.MpscUnboundedVarHandleArrayQueue;
import org.jctools.queues.varhandle.SpmcVarHandleArrayQueue;

/**
 * One kernel-visible thread of the M:N scheduler, pinned to one user CPU. It runs the
 * continuations of virtual threads; when none is runnable it reaps the completions of the
 * FlexSC calls its threads wait for and unparks their owners; then it idles. This class is
 * the loop and its queues; the loop's other jobs have a file each: the calls its threads
 * wait for ({@link PendingCalls}), idling and being woken ({@link CarrierIdle}), ADAPTIVE's
 * decision ({@link AdaptivePolicy}), counters and events ({@link CarrierStats}).
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
    private static final int LOCAL_CAPACITY = 1 << 13;
    /** Every 64 dispatches the carrier also looks at its inbox and its pending calls (fairness). */
    private static final int FAIRNESS_MASK = 63;
    /** Inbox items moved to the stealable local queue at a time. */
    private static final int INBOX_BATCH = 32;

    private final FlexscScheduler scheduler;
    private final int cpu;
    final SpmcVarHandleArrayQueue<Runnable> local = new SpmcVarHandleArrayQueue<>(LOCAL_CAPACITY);
    final MpscUnboundedVarHandleArrayQueue<Runnable> inbox = new MpscUnboundedVarHandleArrayQueue<>(1024);
    private final CarrierStats stats;
    private final PendingCalls pending;
    private final CarrierIdle idle;
    private final AdaptivePolicy policy;
    /** Loop iterations that looked for work (carrier-private): the fairness tick and the steal start. */
    private long ticks;
    private int pinResult = Integer.MIN_VALUE;

    CarrierThread(FlexscScheduler scheduler, int index, int cpu, IdlePolicy idlePolicy, boolean daemon) {
        super(null, null, scheduler.name() + "-carrier-" + index + "-cpu" + cpu, 256 * 1024, false);
        this.scheduler = scheduler;
        this.cpu = cpu;
        this.stats = new CarrierStats(scheduler);
        this.pending = new PendingCalls(stats);
        this.idle = new CarrierIdle(this, idlePolicy, pending, stats);
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
        return pending.size() > 0 || hasQueuedWork();
    }

    /** Runnable work queued on this carrier (not counting parked callers). */
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
                // is made directly, and this thread keeps the carrier until it parks. Calls
                // the carrier holds for its flush (IO_URING) would wait for that as long, which
                // a thread making only direct calls never does: submit them now, as the carrier
                // would on running out of threads. Only here: with other threads queued, this
                // thread's direct call is soon followed by a park, and a flush per direct call
                // would undo the batch (docs/io.md).
                if (pending.hasUnflushed()) pending.flush();
                return policy.direct();
            }
        }
        return policy.decide(nr);
    }

    @Override
    public void watch(PendingCall call) {
        policy.watched(call);
        pending.add(call);
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
        idle.wake(); // a full fence, then the read of the sleep state (SleepState.claimWake)
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
        int round = 0;
        while (!scheduler.isStopping()) { // volatile read
            Runnable task = next();
            if (task != null) {
                round = 0;
                stats.dispatches++;
                try {
                    task.run(); // VirtualThread.runContinuation: mounts, runs until it parks or ends
                } catch (Throwable t) {
                    // The JDK's continuation runner reports a thread's own exceptions; anything
                    // reaching here is a bug, but one thread must not take the carrier down.
                    scheduler.reportCarrierError(this, t);
                }
                continue;
            }
            round = idle.round(round);
        }
        scheduler.carrierExited(this);
    }

    private Runnable next() {
        if ((++ticks & FAIRNESS_MASK) == 0) {
            // Under a steady stream of local work, still let completions and external work in
            // (and submit the calls collected meanwhile, so none waits for the stream to end).
            if (pending.hasUnflushed()) pending.flush();
            pending.reap();
            refillFromInbox();
        }
        Runnable t = local.relaxedPoll();
        if (t != null) return t;
        if (refillFromInbox() > 0 && (t = local.relaxedPoll()) != null) return t;
        if (pending.hasUnflushed()) pending.flush(); // out of runnable threads: submit the batch
        if (pending.size() > 0 && pending.reap() > 0 && (t = local.relaxedPoll()) != null) return t;
        return steal();
    }

    private int refillFromInbox() {
        int n = 0;
        Runnable t;
        while (n < INBOX_BATCH && (t = inbox.relaxedPoll()) != null) {
            pushLocal(t);
            n++;
        }
        if (n > 1) {
            scheduler.signalIdleCarrier(this); // more than we run next: let an idle carrier steal
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

    /** This carrier's ADAPTIVE state (racy reads from other threads: statistics only). */
    AdaptivePolicy policy() {
        return policy;
    }

    /** The result of sched_setaffinity for this carrier (0, or -errno; MIN_VALUE before start). */
    int pinResult() {
        return pinResult;
    }

    int cpu() {
        return cpu;
    }

    FlexscScheduler scheduler() {
        return scheduler;
    }
}
