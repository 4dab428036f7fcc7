package dev.flexsc.threads;

import dev.flexsc.jfr.BatchReaped;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.PendingCall;
import org.jctools.queues.MpscUnboundedArrayQueue;
import org.jctools.queues.SpmcArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One kernel-visible thread of the M:N scheduler, pinned to one user CPU. It runs the
 * continuations of virtual threads; when none is runnable it reaps the completions of
 * the FlexSC calls its threads wait for and unparks their owners; then it idles as
 * {@link IdlePolicy} says: spin, yield, and finally sleep in the engine's completion wait
 * (or park when it waits for no call).
 *
 * <p>Queues. {@code local}: single producer (this carrier's OS thread: the carrier itself
 * or a virtual thread mounted on it), many consumers (this carrier, and idle carriers
 * that steal). {@code inbox}: many producers (timers, pollers, other carriers, any thread
 * that starts or unparks a virtual thread), this carrier consumes. Work in the inbox is
 * moved to {@code local} in small batches so that idle carriers can steal it.
 *
 * <p>The pending-call list is carrier-private: it is touched only on this carrier's OS
 * thread (by the carrier, or by a virtual thread mounted on it in {@link #watch}), never
 * concurrently, so it needs no synchronisation.
 */
final class CarrierThread extends Thread implements CallCarrier {
    private static final VarHandle STATE, SLEEP_START, IDLE_NANOS, SLEEPS;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CarrierThread.class, "state", int.class);
            SLEEP_START = MethodHandles.lookup().findVarHandle(CarrierThread.class, "sleepStart", long.class);
            IDLE_NANOS = MethodHandles.lookup().findVarHandle(CarrierThread.class, "idleNanos", long.class);
            SLEEPS = MethodHandles.lookup().findVarHandle(CarrierThread.class, "sleeps", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int RUNNING = 0, SLEEPING = 1;
    private static final int LOCAL_CAPACITY = 1 << 13;
    /** Every 64 dispatches the carrier also looks at its inbox and its pending calls (fairness). */
    private static final int FAIRNESS_MASK = 63;
    /** Inbox items moved to the stealable local queue at a time. */
    private static final int INBOX_BATCH = 32;

    private final FlexscScheduler scheduler;
    private final int cpu;
    private final IdlePolicy idle;
    final SpmcArrayQueue<Runnable> local = new SpmcArrayQueue<>(LOCAL_CAPACITY);
    final MpscUnboundedArrayQueue<Runnable> inbox = new MpscUnboundedArrayQueue<>(1024);

    /** RUNNING or SLEEPING; a waker CASes SLEEPING -> RUNNING. Volatile via STATE. */
    @SuppressWarnings("unused")
    private volatile int state;
    /**
     * The call whose completion word this carrier sleeps on, or null when it parks.
     * Plain: written before the volatile store of SLEEPING, read by a waker after its
     * CAS read SLEEPING.
     */
    private PendingCall sleepingOn;

    // carrier-private (see class comment)
    private PendingCall[] pending = new PendingCall[64];
    private int pendingCount;
    /** Some pending calls complete on another word (engine or group) than pending[0]'s. */
    private boolean mixedWords;
    /**
     * The last full scan: pending[0, scanned) were not settled when checked, and
     * scanSeq was the completion word read (acquire) before it. While the word still
     * reads scanSeq nothing completed since, so only pending[scanned, pendingCount) (newer
     * calls) need a look: a call missed by the scan is published by an increment after it.
     */
    private int scanned;
    private int scanSeq;
    private boolean scanValid;
    /**
     * One watched call per completion word (sleep key) watched since the last flush: when
     * the carrier runs out of runnable threads it calls {@link PendingCall#flush()} once per
     * entry, so a batching engine (IO_URING) submits everything collected in one kernel entry.
     */
    private PendingCall[] unflushed = new PendingCall[4];
    private int unflushedCount;
    private long ticks;

    // ADAPTIVE call policy (postPays): carrier-private, like the pending-call list.
    /**
     * Per system call number: the average, in 1/{@value #SCORE_ONE}ths, of samples "a call
     * with this number, posted two posts ago, was still running (taken up by an executor, not
     * queued: a queued call gives no sample) when the next thread came to its call"
     * (exponential, weight 1/8 per sample). At least half: posting such calls
     * pays on this carrier. Starts at one, FlexSC's premise: a few samples correct it. Per
     * number, because a cheap call (getpid, openat) says nothing about a costly one (a 1 MiB
     * pwrite) made by the same threads.
     */
    private final int[] slowScore = newScores();
    /** The last two calls this carrier watched, if no direct call came between them, and their numbers. */
    private PendingCall lastPost, prevPost;
    private int lastPostNr = -1, prevPostNr = -1;
    /** The number postPays last said to post, for the watch that follows; -1 if none. */
    private int postingNr = -1;
    /** Watches to go before a sample is trusted again (a post woke a sleeping executor). */
    private int settling;
    /** Direct decisions since the last probe; posts left in the current probe. */
    private int sinceProbe, probeLeft;

    /**
     * Cost check (see {@link #costAllowsPost}): per system call number, whether posting calls
     * that the latency samples call worth posting was measured to pay here (a trial):
     * {@link #COST_UNKNOWN}, {@link #COST_PAYS} or {@link #COST_LOSES}.
     */
    private final byte[] postCost = new byte[dev.flexsc.abi.SyscallTable.NR_LIMIT];
    /** Per number: decisions taken under its current verdict; at its life it is tried again. */
    private final int[] verdictAge = new int[dev.flexsc.abi.SyscallTable.NR_LIMIT];
    /**
     * Per number: how many decisions its current verdict holds; 0 before its first trial
     * ({@link #FIRST_VERDICT_LIFE}). A trial that confirms the verdict doubles it, up to
     * {@link #VERDICT_LIFE}; one that reverses it starts again at the first life.
     */
    private final int[] verdictLife = new int[dev.flexsc.abi.SyscallTable.NR_LIMIT];
    /** The number under trial, or -1; its phase (true: posting as the samples say; false: direct). */
    private int trialNr = -1;
    private boolean trialPosting;
    /** Decisions for trialNr in this phase; requests of other numbers since its last one. */
    private int trialDecisions, trialWaiters;
    /** This phase's start (clock, work done); the posting phase's result. */
    private long trialStartNanos, trialStartDone, postPhaseNanos, postPhaseDone;
    /** The trials' clock; tests replace it. Read only during a trial. */
    java.util.function.LongSupplier trialClock = System::nanoTime;
    /** Calls this carrier's threads made directly (postPays said false), for the trials' work count. */
    private long directDecisions;
    /**
     * Trials finished, and how many found posting to lose (statistics, tests). Plain: written
     * by this carrier only; FlexscStats reads them (and postCost) racily, as statistics.
     */
    private long trials, trialsLost;

    static final byte COST_UNKNOWN = 0, COST_PAYS = 1, COST_LOSES = 2;
    /** A trial's phase lasts at least this long (clock read every {@link #TRIAL_CHECK} decisions, during trials only). */
    static final long TRIAL_PHASE_NANOS = 20_000_000L;
    /** Decisions between two clock reads during a trial (a power of two). */
    static final int TRIAL_CHECK = 64;
    /** Requests of other numbers, none of the trial's own between, after which a trial is abandoned. */
    static final int TRIAL_PATIENCE = 1 << 16;
    /** The most decisions under one verdict before the number is tried again (conditions change). */
    static final int VERDICT_LIFE = 1 << 22;
    /**
     * Decisions under a number's first verdict, and under one that reversed the verdict
     * before it. Short, because such a verdict is the least trustworthy: a first trial
     * usually runs while the process warms up, when the posting path (more code than a direct
     * call) may still be interpreted and loading classes during its phase. Not shorter,
     * because every re-trial spends a phase calling directly. At 0.5-2 million decisions a
     * second, 2^18 is 0.1-0.5 s; four confirmations in a row reach {@link #VERDICT_LIFE}
     * (docs/io.md, "Call policies", has the measurements behind both bounds).
     */
    static final int FIRST_VERDICT_LIFE = 1 << 18;

    /** Scale of {@link #slowScore}. */
    static final int SCORE_ONE = 256;
    /**
     * Direct decisions (with other work on the carrier) between two probes. Long, because a
     * probe usually finds the executor asleep and pays a wake-up, after which the executor
     * spins on its CPU for a while: frequent probes cost throughput and learn nothing new
     * (docs/io.md, "Call policies", has the measurement).
     */
    static final int PROBE_PERIOD = 1 << 20;
    /** Posts in a row per probe: the third decision samples the first post. */
    static final int PROBE_POSTS = 3;

    // statistics: written by this carrier only, read racily by stats()
    private long dispatches, reaped, sleeps, steals, spinWakes, samples;
    /** Reaped batches, their sizes in log2 buckets (1, 2-3, 4-7, ..., 128+), and time asleep in block(). */
    private long reapBatches, idleNanos;
    /**
     * nanoTime when the sleep in progress began, 0 when awake: lets {@link #reapCounters()}
     * count a sleep that has not ended yet (an idle carrier may sleep for seconds). Written
     * with release stores by this carrier only, read with acquire by stats readers.
     */
    private long sleepStart;
    static final int REAP_BUCKETS = 8;
    private final long[] reapSizes = new long[REAP_BUCKETS];
    private int pinResult = Integer.MIN_VALUE;

    CarrierThread(FlexscScheduler scheduler, int index, int cpu, IdlePolicy idle, boolean daemon) {
        super(null, null, scheduler.name() + "-carrier-" + index + "-cpu" + cpu, 256 * 1024, false);
        this.scheduler = scheduler;
        this.cpu = cpu;
        this.idle = idle;
        setDaemon(daemon);
    }

    // ---- CallCarrier: called by a virtual thread mounted on this carrier ----

    @Override
    public boolean hasOtherWork() {
        // pendingCount: carrier-private, read on the carrier's own OS thread. A thread parked
        // on a call counts as other work: were the caller to spin instead, and its calls kept
        // completing within the spin, it would never give the carrier back to reap theirs.
        // The queue checks are volatile index loads in JCTools; a hint, stale is fine.
        return pendingCount > 0 || !local.isEmpty() || !inbox.isEmpty();
    }

    /** Runnable work queued on this carrier (not counting parked callers). */
    private boolean hasQueuedWork() {
        return !local.isEmpty() || !inbox.isEmpty();
    }

    /**
     * The ADAPTIVE policy's decision for the green thread mounted here (see
     * {@link CallCarrier#postPays(int)}): post only if another thread can run while the call is
     * out, and calls with its number posted here have recently still been running two thread switches later
     * (the call costs more than what posting it costs the carrier: a park and a resume).
     * While calls keep finishing sooner, the thread calls directly, and every
     * {@value #PROBE_PERIOD} such decisions {@value #PROBE_POSTS} posts in a row take a new
     * sample (they also let the other threads run). Counters only: no clock is read.
     */
    @Override
    public boolean postPays(int nr) {
        // The common case of a lone thread first, small enough to inline into the call path.
        if (pendingCount == 0 && !hasQueuedWork()) {
            return decideDirect();
        }
        return postPaysWithOthers(nr);
    }

    private boolean postPaysWithOthers(int nr) {
        if (!hasQueuedWork()) {
            // Reaping first makes the threads whose calls completed count as work.
            if (pendingCount > 0) pollPending();
            if (!hasQueuedWork()) {
                // Nothing could run while our call is out: the carrier would idle, so the call
                // is made directly, and this thread keeps the carrier until it parks. Calls
                // the carrier holds for its flush (IO_URING) would wait for that as long, which
                // a thread making only direct calls never does: submit them now, as the carrier
                // would on running out of threads. Only here: with other threads queued, this
                // thread's direct call is soon followed by a park, and a flush per direct call
                // would undo the batch (docs/io.md).
                if (unflushedCount > 0) flushUnflushed();
                return decideDirect();
            }
        }
        PendingCall sampled = prevPost;
        if (sampled != null) {
            prevPost = null; // one sample per post
            // A call the carrier fired is settled (its entry may since be reused: do not read it).
            boolean settled = sampled.isFired() || sampled.isSettled();
            // One still queued (no executor took it up yet) measures the syscall side's backlog
            // or its CPU being busy elsewhere, not the call: no sample. The backlog is handled
            // by calling directly when no other thread is runnable (above).
            if (settling == 0 && prevPostNr >= 0 && (settled || sampled.isStarted())) {
                slowScore[prevPostNr] += ((settled ? 0 : SCORE_ONE) - slowScore[prevPostNr]) >> 3;
                samples++;
            }
        }
        if (probeLeft > 0) {
            probeLeft--;
            return decidePost(nr);
        }
        if (slowScore[nr] >= SCORE_ONE / 2) {
            return costAllowsPost(nr) ? decidePost(nr) : decideDirect();
        }
        if (trialNr == nr) dropTrial(nr);
        if (++sinceProbe >= PROBE_PERIOD) {
            sinceProbe = 0;
            probeLeft = PROBE_POSTS - 1;
            return decidePost(nr);
        }
        return decideDirect();
    }

    /**
     * The cost check, for a number whose latency samples say "post": posting such a call frees
     * the carrier while the call runs, but what the call costs the machine (a kernel worker
     * thread, a polling thread, a CPU taken from this carrier, calls held for a batch) shows
     * only in how much work gets done. So the first time (and again after the verdict's life:
     * {@value #FIRST_VERDICT_LIFE} decisions, doubling with each trial that confirms it, up
     * to {@value #VERDICT_LIFE}) the carrier runs a trial: calls of this number are decided by the
     * samples for one phase (FlexSC's premise first), then made directly for another, each at
     * least {@value #TRIAL_PHASE_NANOS} ns, and the calls completed by this carrier's threads
     * per nanosecond (direct calls plus posted calls reaped, all numbers) are compared;
     * posting keeps the number only if its phase did at least as much work. Posted calls
     * still out when the posting phase ends complete in the direct phase and count for it:
     * a bias towards direct calls, the baseline. The clock is read only during a trial, once
     * every {@value #TRIAL_CHECK} decisions of its number; between trials the verdict is one
     * array load and one increment. Carrier-private state (this OS thread only): plain
     * fields, no ordering needed.
     */
    private boolean costAllowsPost(int nr) {
        if (trialNr == nr) return trialStep();
        byte verdict = postCost[nr];
        if (verdict != COST_UNKNOWN && ++verdictAge[nr] < verdictLife(nr)) {
            return verdict == COST_PAYS;
        }
        if (trialNr >= 0 && ++trialWaiters < TRIAL_PATIENCE) {
            // Another number is under trial: one at a time (the work counts are shared). An
            // unknown number posts meanwhile, as the samples say; an expired verdict holds.
            return verdict != COST_LOSES;
        }
        // No trial, or the one running has seen no call of its number for TRIAL_PATIENCE
        // requests of others (its threads moved on): this number's trial starts.
        trialNr = nr;
        trialPosting = true;
        trialDecisions = 0;
        trialWaiters = 0;
        trialStartNanos = trialClock.getAsLong();
        trialStartDone = workDone();
        return true;
    }

    /** One decision of the number under trial: ends a phase when it has lasted long enough. */
    private boolean trialStep() {
        trialWaiters = 0;
        if ((++trialDecisions & (TRIAL_CHECK - 1)) == 0) {
            long now = trialClock.getAsLong();
            long elapsed = now - trialStartNanos;
            if (elapsed >= TRIAL_PHASE_NANOS) {
                long done = workDone() - trialStartDone;
                if (trialPosting) {
                    postPhaseNanos = elapsed;
                    postPhaseDone = done;
                    trialPosting = false;
                    trialDecisions = 0;
                    trialStartNanos = now;
                    trialStartDone = workDone();
                } else {
                    return endTrial(done, elapsed);
                }
            }
        }
        return trialPosting;
    }

    /** Posting pays if its phase completed at least as many calls per ns as the direct phase. */
    private boolean endTrial(long directDone, long directNanos) {
        int nr = trialNr;
        // Cross-multiplied rates (no division): postDone/postNanos >= directDone/directNanos.
        boolean pays = (double) postPhaseDone * directNanos >= (double) directDone * postPhaseNanos;
        byte verdict = pays ? COST_PAYS : COST_LOSES;
        verdictLife[nr] = postCost[nr] == verdict ? Math.min(VERDICT_LIFE, verdictLife(nr) * 2) : FIRST_VERDICT_LIFE;
        postCost[nr] = verdict;
        verdictAge[nr] = 0;
        trials++;
        if (!pays) trialsLost++;
        trialNr = -1;
        return pays;
    }

    /** Decisions the current verdict on {@code nr} holds, in all. */
    int verdictLife(int nr) {
        int life = verdictLife[nr];
        return life == 0 ? FIRST_VERDICT_LIFE : life;
    }

    /** The samples now say "direct" for {@code nr}: a trial of it has nothing left to compare. */
    private void dropTrial(int nr) {
        if (trialNr == nr) trialNr = -1; // its verdict stays as it was (unknown: tried when slow again)
    }

    /** Calls completed by this carrier's threads so far: made directly, or posted and reaped. */
    private long workDone() {
        return directDecisions + reaped;
    }

    private boolean decidePost(int nr) {
        postingNr = nr;
        return true;
    }

    private boolean decideDirect() {
        if (lastPost != null) { // the next sample needs two posts in a row (no store when already so)
            lastPost = prevPost = null;
        }
        postingNr = -1; // a call posted anyway (one that would wait) is not sampled
        directDecisions++;
        return false;
    }

    private static int[] newScores() {
        int[] s = new int[dev.flexsc.abi.SyscallTable.NR_LIMIT];
        java.util.Arrays.fill(s, SCORE_ONE);
        return s;
    }

    @Override
    public void watch(PendingCall call) {
        prevPost = lastPost;
        prevPostNr = lastPostNr;
        lastPost = call;
        lastPostNr = postingNr; // -1: posted without asking (EXCEPTIONLESS), never sampled
        postingNr = -1;
        if (call.wokeExecutor()) {
            // The next samples would measure the executor's wake-up, not the calls: discard
            // them, and end a probe here (it cannot sample; its one post still let others run).
            settling = 3;
            probeLeft = 0;
        } else if (settling > 0) {
            settling--;
        }
        if (pendingCount == pending.length) {
            pending = java.util.Arrays.copyOf(pending, pending.length * 2);
        }
        if (pendingCount > 0 && call.sleepKey() != pending[0].sleepKey()) {
            mixedWords = true;
        }
        if (BatchReaped.enabled()) call.watchedAt(System.nanoTime()); // JFR on: the event's latency
        pending[pendingCount++] = call;
        Object key = call.sleepKey();
        for (int i = 0; i < unflushedCount; i++) {
            if (unflushed[i].sleepKey() == key) return;
        }
        if (unflushedCount == unflushed.length) {
            unflushed = java.util.Arrays.copyOf(unflushed, unflushedCount * 2);
        }
        unflushed[unflushedCount++] = call;
    }

    /** Hands what the watched calls' engines collected to the kernel: one flush per engine (word). */
    private void flushUnflushed() {
        for (int i = 0; i < unflushedCount; i++) {
            unflushed[i].flush();
            unflushed[i] = null;
        }
        unflushedCount = 0;
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
        // Full fence: the offer is visible before we read `state` (Dekker with the
        // carrier's store of SLEEPING then recheck of the inbox in block()).
        VarHandle.fullFence();
        wake();
    }

    boolean isSleeping() {
        return (int) STATE.getVolatile(this) == SLEEPING;
    }

    /** Any thread: wakes this carrier if it sleeps. */
    void wake() {
        if ((int) STATE.getVolatile(this) == SLEEPING && STATE.compareAndSet(this, SLEEPING, RUNNING)) {
            // The CAS read the carrier's volatile store of SLEEPING, which followed its
            // plain store of sleepingOn: the read below sees it.
            PendingCall on = sleepingOn;
            if (on != null) {
                on.wakeSleepers(); // bumps the completion word: its futex wait returns
            }
            LockSupport.unpark(this);
        }
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
                dispatches++;
                try {
                    task.run(); // VirtualThread.runContinuation: mounts, runs until it parks or ends
                } catch (Throwable t) {
                    // The JDK's continuation runner reports a thread's own exceptions; anything
                    // reaching here is a bug, but one thread must not take the carrier down.
                    scheduler.reportCarrierError(this, t);
                }
                continue;
            }
            round = idleRound(round);
        }
        scheduler.carrierExited(this);
    }

    private Runnable next() {
        if ((++ticks & FAIRNESS_MASK) == 0) {
            // Under a steady stream of local work, still let completions and external work in
            // (and submit the calls collected meanwhile, so none waits for the stream to end).
            if (unflushedCount > 0) flushUnflushed();
            pollPending();
            refillFromInbox();
        }
        Runnable t = local.relaxedPoll();
        if (t != null) return t;
        if (refillFromInbox() > 0 && (t = local.relaxedPoll()) != null) return t;
        if (unflushedCount > 0) flushUnflushed(); // out of runnable threads: submit the batch
        if (pendingCount > 0 && pollPending() > 0 && (t = local.relaxedPoll()) != null) return t;
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

    /**
     * Fires the settled pending calls and unparks their owners (onto our local queue).
     * Skips the calls the last full scan saw unsettled while their completion word has not
     * moved (see {@link #scanSeq}): a full scan reads every entry's cache line, which the
     * syscall threads are writing.
     */
    private int pollPending() {
        if (pendingCount == 0) return 0;
        int from = 0;
        int seq = 0;
        if (!mixedWords) {
            seq = pending[0].completionSeq(); // acquire
            if (scanValid && seq == scanSeq) from = scanned;
        }
        int fired = 0;
        PendingCall[] p = pending;
        PendingCall first = null;
        boolean jfr = false; // the event's fields are gathered only while a recording wants them
        long oldest = Long.MAX_VALUE;
        boolean mixedGroups = false;
        int w = from;
        for (int r = from; r < pendingCount; r++) { // stable compaction: newer calls stay at the end
            PendingCall c = p[r];
            if (c.isSettled()) { // acquire load of the entry status
                if (first == null) {
                    first = c;
                    jfr = BatchReaped.enabled(); // once per batch
                } else if (jfr) {
                    mixedGroups |= c.group() != first.group() || c.engine() != first.engine();
                }
                if (jfr) {
                    long at = c.watchedAtNanos(); // 0 if JFR was off at watch()
                    if (at != 0 && at < oldest) oldest = at;
                }
                c.fire();
                LockSupport.unpark(c.owner()); // re-submits its continuation: execute -> pushLocal
                fired++;
            } else {
                p[w++] = c;
            }
        }
        for (int r = w; r < pendingCount; r++) p[r] = null;
        pendingCount = w;
        if (from == 0) { // a full scan: a new snapshot, valid if seq was read from the one word
            boolean seqRead = !mixedWords;
            mixedWords = false;
            for (int i = 1; i < w && !mixedWords; i++) mixedWords = p[i].sleepKey() != p[0].sleepKey();
            scanValid = seqRead && w > 0;
            scanSeq = seq;
        }
        scanned = w; // the calls checked now (after the seq read) are covered by the snapshot
        reaped += fired;
        if (fired > 0) recordBatch(fired, first, jfr, mixedGroups, oldest);
        return fired;
    }

    /** Statistics and the JFR event for one reaped batch (carrier thread only). */
    private void recordBatch(int fired, PendingCall first, boolean jfr, boolean mixedGroups, long oldestWatchedAt) {
        reapBatches++;
        reapSizes[Math.min(REAP_BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(fired))]++; // log2 buckets
        if (jfr) {
            BatchReaped e = new BatchReaped();
            e.engine = first.engine() != null ? first.engine().name() : scheduler.config().engine().name();
            e.group = mixedGroups ? -1 : first.group();
            e.size = fired;
            e.stillPending = pendingCount;
            e.latency = oldestWatchedAt == Long.MAX_VALUE ? 0 : System.nanoTime() - oldestWatchedAt;
            e.commit();
        }
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
                steals++;
                return t;
            }
        }
        return null;
    }

    private int idleRound(int round) {
        switch (idle.phase(round)) {
            case SPIN -> Thread.onSpinWait();
            case YIELD -> Thread.yield();
            case BLOCK -> {
                block();
                return 0;
            }
        }
        return round + 1;
    }

    /** Whether a pending call may have settled since the last scan (then do not sleep). */
    private boolean anySettled(int seqNow) {
        int from = oneWordSnapshot(seqNow) ? scanned : 0;
        for (int i = from; i < pendingCount; i++) {
            if (pending[i].isSettled()) return true;
        }
        return false;
    }

    private boolean oneWordSnapshot(int seqNow) {
        return !mixedWords && scanValid && seqNow == scanSeq;
    }

    /**
     * Sleeps until new work arrives (a waker CASes SLEEPING -> RUNNING and unparks us, or
     * bumps the completion word we sleep on) or one of our pending calls completes.
     */
    private void block() {
        PendingCall on = pendingCount > 0 ? pending[0] : null;
        boolean oneWord = !mixedWords;
        // Read before announcing SLEEPING: a completion or a waker's bump after this read
        // changes the word, so the futex wait below returns at once.
        int seq = on != null ? on.completionSeq() : 0;
        sleepingOn = on; // plain: published by the volatile store below
        STATE.setVolatile(this, SLEEPING);
        // Full fence: SLEEPING is visible before the rechecks below (pairs with the fence
        // in pushExternal between the offer and the read of state).
        VarHandle.fullFence();
        scheduler.sleepers.incrementAndGet();
        try {
            if (!hasQueuedWork() && !anySettled(seq) && !scheduler.isStopping()) {
                long t0 = System.nanoTime(); // idle time: only around the sleep, never on the run path
                // Start, then the count, both released: a reader that sees this sleep counted
                // (acquire in counters()) sees its start too, so no sleep shows without idle
                // time (the MXBean's CarrierSleeps and CarrierIdleNanos).
                SLEEP_START.setRelease(this, t0 == 0 ? 1 : t0);
                SLEEPS.setRelease(this, sleeps + 1);
                if (on != null) {
                    // Calls on several completion words: sleep on one with a short timeout.
                    on.sleepUntilCompletion(seq, oneWord ? idle.blockTimeoutNanos() : idle.multiWordTimeoutNanos());
                } else {
                    LockSupport.park(this);
                }
                // Clear the start before adding the sleep (release): a reader that sees the
                // new total then sees the start cleared, so it never counts one sleep twice
                // (it may miss the ending one for an instant instead).
                SLEEP_START.setRelease(this, 0L);
                IDLE_NANOS.setRelease(this, idleNanos + (System.nanoTime() - t0));
            } else {
                spinWakes++;
            }
        } finally {
            scheduler.sleepers.decrementAndGet();
            STATE.setVolatile(this, RUNNING); // volatile: a waker's CAS then fails harmlessly
            sleepingOn = null;
        }
    }

    /** A snapshot of this carrier's counters (racy plain reads: statistics only). */
    long[] counters() {
        long slept = (long) SLEEPS.getAcquire(this); // pairs with the release in block()
        return new long[] {dispatches, reaped, slept, steals, spinWakes};
    }

    /**
     * Batches reaped, time asleep (ns, including the sleep in progress), then the batch-size
     * buckets (racy plain reads: statistics only).
     */
    long[] reapCounters() {
        long[] r = new long[2 + REAP_BUCKETS];
        r[0] = reapBatches;
        // Acquire of the total first, then of the start (see block()): a total that already
        // holds the ending sleep comes with its start cleared, so no sleep counts twice.
        long idleSoFar = (long) IDLE_NANOS.getAcquire(this);
        long start = (long) SLEEP_START.getAcquire(this);
        if (start != 0) idleSoFar += Math.max(0, System.nanoTime() - start);
        r[1] = idleSoFar;
        System.arraycopy(reapSizes, 0, r, 2, REAP_BUCKETS);
        return r;
    }

    /** ADAPTIVE: call nr's cost verdict ({@link #COST_UNKNOWN}, {@link #COST_PAYS}, {@link #COST_LOSES}). */
    byte postCost(int nr) {
        return postCost[nr];
    }

    /** ADAPTIVE: the number under a cost trial (-1: none), and trials finished / found losing. */
    long[] trialStats() {
        return new long[] {trialNr, trials, trialsLost};
    }

    /** ADAPTIVE: call nr's sample average (0..{@value #SCORE_ONE}) and samples taken (tests, statistics). */
    int slowScore(int nr) {
        return slowScore[nr];
    }

    long adaptiveSamples() {
        return samples;
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
