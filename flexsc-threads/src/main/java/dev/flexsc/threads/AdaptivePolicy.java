package dev.flexsc.threads;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.PendingCall;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * {@link dev.flexsc.CallPolicy#ADAPTIVE} on one carrier: whether a green thread's call, with
 * other threads runnable on the carrier, is posted or made directly. The carrier asks
 * {@link #decide(int)} only when another thread could run while the call is out, and
 * {@link #direct()} when none could (see {@link CarrierThread#postPays(int)}: the switch).
 *
 * <p>The decision, per system call number, from three sources:
 * <ol>
 * <li><b>Latency samples</b> ({@link #watched}, then the decision after next): a call posted
 *     two posts ago that was still running (taken up by an executor, not queued) when the
 *     next thread came to its call cost more than posting it costs the carrier (a park and a
 *     resume). A number posts while at least half of its recent samples say so.</li>
 * <li><b>Probes</b>: while a number goes direct, every {@value #PROBE_PERIOD} decisions
 *     {@value #PROBE_POSTS} posts in a row take a new sample (they also let the others run).</li>
 * <li><b>Cost trials</b> ({@link #costAllowsPost}): for a number the samples say to post,
 *     posting must also get at least as much work done on this carrier as calling directly.</li>
 * </ol>
 * A number whose posts go into the carrier's own group (KERNEL_MODULE's carrier-local mode:
 * {@link #postedLocally}) is judged by its cost trials alone: the carrier runs such a call in
 * its own next kernel entry, never while it runs other threads, so a latency sample would
 * say nothing; what posting it can win is the batching (a round of calls in one kernel
 * entry), and the trials measure exactly that.
 *
 * <p>Carrier-private: touched only on its carrier's OS thread (by the carrier, or by a
 * virtual thread mounted on it), never concurrently, so plain fields suffice. Counters only
 * on the decision path: no clock is read outside a trial, nothing is allocated.
 * {@link FlexscStats} reads the statistics racily.
 */
final class AdaptivePolicy {
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
    /** Watches whose samples are discarded after a post that woke a sleeping executor. */
    private static final int SETTLING_WATCHES = 3;

    /** Calls this carrier's threads posted and the carrier reaped: the trials' other half of "work done". */
    private final CarrierStats stats;

    /**
     * Per system call number: the average, in 1/{@value #SCORE_ONE}ths, of samples "a call
     * with this number, posted two posts ago, was still running (taken up by an executor, not
     * queued: a queued call gives no sample) when the next thread came to its call"
     * (exponential, weight 1/8 per sample). At least half: posting such calls pays on this
     * carrier. Starts at one, FlexSC's premise: a few samples correct it. Per number, because
     * a cheap call (getpid, openat) says nothing about a costly one (a 1 MiB pwrite) made by
     * the same threads.
     */
    private final int[] slowScore = newScores();
    /** The last two calls this carrier watched, if no direct call came between them, and their numbers. */
    private PendingCall lastPost, prevPost;
    private int lastPostNr = -1, prevPostNr = -1;
    /** The number {@link #decide} last said to post, for the watch that follows; -1 if none. */
    private int postingNr = -1;
    /** Watches to go before a sample is trusted again (a post woke a sleeping executor). */
    private int settling;
    /** Per system call number: its posts went into the carrier's own group ({@link #postedLocally}). */
    private final boolean[] local = new boolean[SyscallTable.NR_LIMIT];
    /** Posts into the carrier's own group (statistics, tests). */
    private long localPosts;
    /** Direct decisions since the last probe; posts left in the current probe. */
    private int sinceProbe, probeLeft;

    /**
     * Cost check (see {@link #costAllowsPost}): per system call number, whether posting calls
     * that the latency samples call worth posting was measured to pay here (a trial):
     * {@link #COST_UNKNOWN}, {@link #COST_PAYS} or {@link #COST_LOSES}.
     */
    private final byte[] postCost = new byte[SyscallTable.NR_LIMIT];
    /** Per number: decisions taken under its current verdict; at its life it is tried again. */
    private final int[] verdictAge = new int[SyscallTable.NR_LIMIT];
    /**
     * Per number: how many decisions its current verdict holds; 0 before its first trial
     * ({@link #FIRST_VERDICT_LIFE}). A trial that confirms the verdict doubles it, up to
     * {@link #VERDICT_LIFE}; one that reverses it starts again at the first life.
     */
    private final int[] verdictLife = new int[SyscallTable.NR_LIMIT];
    /** The number under trial, or -1; its phase (true: posting as the samples say; false: direct). */
    private int trialNr = -1;
    private boolean trialPosting;
    /** Decisions for trialNr in this phase; requests of other numbers since its last one. */
    private int trialDecisions, trialWaiters;
    /** This phase's start (clock, work done); the posting phase's result. */
    private long trialStartNanos, trialStartDone, postPhaseNanos, postPhaseDone;
    /** The trials' clock; tests replace it. Read only during a trial. */
    LongSupplier trialClock = System::nanoTime;
    /** Calls this carrier's threads made directly ({@link #direct()}), for the trials' work count. */
    private long directDecisions;
    /** Trials finished, those that found posting to lose, and samples taken (statistics, tests). */
    private long trials, trialsLost, samples;

    AdaptivePolicy(CarrierStats stats) {
        this.stats = stats;
    }

    /**
     * The decision when nothing else could run on the carrier while the call is out: direct
     * (the carrier would only idle). Also breaks the pair of posts the next sample needs.
     *
     * @return false: make the call directly
     */
    boolean direct() {
        if (lastPost != null) { // the next sample needs two posts in a row (no store when already so)
            lastPost = prevPost = null;
        }
        postingNr = -1; // a call posted anyway (one that would wait) is not sampled
        directDecisions++;
        return false;
    }

    /**
     * The decision for call {@code nr} while another thread could run on the carrier: takes
     * the sample the last watched post but one gives, then posts during a probe, for a
     * number whose samples say "slow" if its cost verdict allows, and otherwise directly
     * (counting towards the next probe).
     *
     * @return true: post the call (the engine then passes it to {@link #watched})
     */
    boolean decide(int nr) {
        PendingCall sampled = prevPost;
        if (sampled != null) {
            prevPost = null; // one sample per post
            // A call the carrier fired is settled (its entry may since be reused: do not read it).
            boolean settled = sampled.isFired() || sampled.isSettled();
            // One still queued (no executor took it up yet) measures the syscall side's backlog
            // or its CPU being busy elsewhere, not the call: no sample. The backlog is handled
            // by calling directly when no other thread is runnable (the carrier's switch).
            if (settling == 0 && prevPostNr >= 0 && (settled || sampled.isStarted())) {
                slowScore[prevPostNr] += ((settled ? 0 : SCORE_ONE) - slowScore[prevPostNr]) >> 3;
                samples++;
            }
        }
        if (probeLeft > 0) {
            probeLeft--;
            return post(nr);
        }
        if (local[nr] || slowScore[nr] >= SCORE_ONE / 2) {
            return costAllowsPost(nr) ? post(nr) : direct();
        }
        if (trialNr == nr) dropTrial(nr);
        if (++sinceProbe >= PROBE_PERIOD) {
            sinceProbe = 0;
            probeLeft = PROBE_POSTS - 1;
            return post(nr);
        }
        return direct();
    }

    /**
     * The call {@link #decide} said to post went into the carrier's own group: no sample (the
     * carrier will run it in its own kernel entry; see the class comment), and its number is
     * judged by cost trials from now on. Breaks the pair the next sample needs, so that no
     * later watch is sampled under its number.
     */
    void postedLocally() {
        if (postingNr >= 0) local[postingNr] = true;
        postingNr = -1;
        lastPost = prevPost = null;
        localPosts++;
    }

    /**
     * The carrier took charge of a posted call: it becomes the newest of the pair the next
     * sample reads. A post that woke a sleeping executor makes the next samples measure the
     * wake-up, not the calls: they are discarded, and a probe ends here (it cannot sample;
     * its one post still let others run).
     */
    void watched(PendingCall call) {
        prevPost = lastPost;
        prevPostNr = lastPostNr;
        lastPost = call;
        lastPostNr = postingNr; // -1: posted without asking (EXCEPTIONLESS), never sampled
        postingNr = -1;
        if (call.wokeExecutor()) {
            settling = SETTLING_WATCHES;
            probeLeft = 0;
        } else if (settling > 0) {
            settling--;
        }
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
     * array load and one increment.
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

    /** The samples now say "direct" for {@code nr}: a trial of it has nothing left to compare. */
    private void dropTrial(int nr) {
        if (trialNr == nr) trialNr = -1; // its verdict stays as it was (unknown: tried when slow again)
    }

    /** Calls completed by this carrier's threads so far: made directly, or posted and reaped. */
    private long workDone() {
        return directDecisions + stats.reaped();
    }

    private boolean post(int nr) {
        postingNr = nr;
        return true;
    }

    private static int[] newScores() {
        int[] s = new int[SyscallTable.NR_LIMIT];
        Arrays.fill(s, SCORE_ONE);
        return s;
    }

    // ---- statistics and tests (racy plain reads from other threads) ----

    /** Decisions the current verdict on {@code nr} holds, in all. */
    int verdictLife(int nr) {
        int life = verdictLife[nr];
        return life == 0 ? FIRST_VERDICT_LIFE : life;
    }

    /** Call nr's cost verdict ({@link #COST_UNKNOWN}, {@link #COST_PAYS}, {@link #COST_LOSES}). */
    byte postCost(int nr) {
        return postCost[nr];
    }

    /** The number under a cost trial (-1: none), and trials finished / found losing. */
    long[] trialStats() {
        return new long[] {trialNr, trials, trialsLost};
    }

    /** Call nr's sample average (0..{@value #SCORE_ONE}). */
    int slowScore(int nr) {
        return slowScore[nr];
    }

    /** Latency samples taken. */
    long samples() {
        return samples;
    }

    /** Posts into the carrier's own group ({@link #postedLocally}). */
    long localPosts() {
        return localPosts;
    }
}
