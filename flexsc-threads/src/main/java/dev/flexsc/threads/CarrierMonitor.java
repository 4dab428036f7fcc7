package dev.flexsc.threads;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps a green thread that does not park from starving the others of its carrier. A
 * virtual thread runs on its carrier until it parks; one that computes for seconds, or
 * blocks its carrier's OS thread in a direct system call (a disk read, a sendfile to a slow
 * client), would hold every other thread queued there. One platform thread per scheduler
 * looks at each carrier every {@link #CHECK_NANOS}: a carrier that has been running the same
 * continuation (its dispatch count unchanged, a continuation mounted) for
 * {@link #HELD_BOUND_NANOS} or more, and is waiting for a disk now (state D in
 * /proc/self/task: a direct system call on a file) or computing (state R) with
 * {@link #HELD_CPU_NANOS} of CPU used meanwhile (a CPU-bound thread), is held. Not
 * held: one asleep in an interruptible wait (state S), which is also where the JVM and the
 * page engines make a thread wait for a bounded while (a free syscall entry, a safepoint),
 * and where a direct send to a slow peer waits (the channel's close or interrupt ends it).
 * (State R is also a carrier the kernel left without a CPU on an overloaded machine; the
 * CPU rule leaves it alone: a compensator on its CPU would only wait beside it.)
 * A held carrier gets a compensating carrier on its CPU
 * (as the JDK's ForkJoinPool brings in a spare worker for one that blocks): new external
 * work goes to other carriers, the compensator takes the held carrier's inbox and steals its
 * local queue, and the kernel shares the CPU between the long runner and the compensator.
 * When the long runner parks, its carrier clears its held flag and the compensator retires:
 * it takes no new work, hands the threads its calls complete to other carriers, and exits
 * once it has no thread and no call left. While every carrier sleeps nothing can hold one, so
 * the monitor parks without a timeout and the first carrier to run a continuation after its
 * sleep unparks it: an idle process costs no wake-ups.
 *
 * <p>The calls of the held carrier's threads in flight on its own contexts (its io_uring
 * ring) count as waiting work too: the compensator polls those contexts in the held
 * carrier's stead ({@link dev.flexsc.spi.CarrierContext#pollHeld}): it moves the calls not yet
 * submitted to its own ring and reaps the completions, so their owners resume on it. For the
 * io_uring engine the completion work of a call in flight there runs in the held carrier's
 * task at its next return to user mode (carrier rings use COOP_TASKRUN), within a timer tick
 * even while it computes. A cancel of such a call waits for the carrier (only it submits to
 * its ring). Contexts that cannot be shared (KERNEL_MODULE's groups) wait for the long runner
 * to park (docs/threads.md, "A carrier held by one thread").
 */
final class CarrierMonitor {
    /**
     * How long one continuation may hold its carrier before the carrier counts as held.
     * Reasons: (1) far above a request handler's run between two parks (tens of microseconds
     * in the HTTP study's server), so a busy server never pays for a compensator; (2) more
     * than ten of the kernel's scheduling slices (EEVDF's base slice is 0.75 ms x (1 + log2
     * CPUs): 1.5 ms on two CPUs), so a carrier the kernel merely preempted on a loaded machine
     * (also state R) seldom looks held; a compensator started for one anyway retires at its
     * next dispatch; (3) short enough that the carrier's other threads see at most 1.5 bounds
     * (30 ms, the look's period added) of pause: in StarvationTest every one of 1,000 I/O
     * tasks completes a call while a CPU-bound task holds their only carrier, where without
     * the monitor none does.
     */
    static final long HELD_BOUND_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * CPU time a carrier in state R must have used since its dispatch count stopped moving to
     * count as held: a quarter of the bound. Counted from the first look that found the
     * count unchanged (up to one period after it stopped), so on an idle machine a CPU-bound
     * thread has about twice this by the bound; on a loaded one it is found once it got this
     * much CPU. A direct call that only waited for a CPU (a 1 MiB pwrite copies for well under
     * a millisecond) stays below it.
     */
    static final long HELD_CPU_NANOS = HELD_BOUND_NANOS / 4;
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();
    /** The monitor's period: half the bound, so that a held carrier is found within 1.5 bounds. */
    static final long CHECK_NANOS = HELD_BOUND_NANOS / 2;
    /**
     * The longest sleep of a compensator while its held carrier has calls in flight: their
     * completions land in the held carrier's ring, which does not wake the compensator, so it
     * looks at that ring at least this often. 1 ms: a timer tick or less, the delay with which
     * the held carrier's own task posts them.
     */
    static final long HELD_REAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Compensating carriers running at once, at most (a bound on threads, as ForkJoinPool's maximum pool size). */
    static final int MAX_COMPENSATORS = 64;

    private final FlexscScheduler scheduler;
    private final Thread thread;
    private volatile boolean stop;
    /**
     * True while the monitor parks without a timeout because every carrier sleeps (nothing
     * runs, so nothing can hold a carrier): an idle process then costs no wake-ups. Set by the
     * monitor before its last look at the carriers' sleep states; cleared by the carrier that
     * starts a continuation after a sleep ({@link #carrierStarts()}), or by the monitor.
     */
    private volatile boolean parkedIdle;
    /** Looks at the carriers so far (monitor thread writes; tests read: its wake-ups). */
    private volatile long looks;
    /** Per carrier: the dispatch count last seen and since when it has not moved. Monitor thread only. */
    private final Map<CarrierThread, long[]> seen = new IdentityHashMap<>();

    CarrierMonitor(FlexscScheduler scheduler) {
        this.scheduler = scheduler;
        this.thread = Thread.ofPlatform().daemon().name(scheduler.name() + "-monitor").unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private static final VarHandle PARKED_IDLE;

    static {
        try {
            PARKED_IDLE = MethodHandles.lookup().findVarHandle(CarrierMonitor.class, "parkedIdle", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Stops the monitor (the scheduler closes). */
    void stop() {
        stop = true;
        LockSupport.unpark(thread);
    }

    private void run() {
        long last = System.nanoTime();
        while (!stop) {
            LockSupport.parkNanos(this, CHECK_NANOS);
            if (stop) return;
            long now = System.nanoTime();
            // A look that comes late (a stop-the-world pause, or a machine that kept this thread
            // off the CPU, or a park while idle) cannot tell a held carrier from one stopped
            // with everything else: it only starts the intervals again.
            look(now, now - last > 2 * CHECK_NANOS);
            looks = looks + 1; // volatile: only this thread writes it
            last = now;
            parkWhileIdle();
        }
    }

    /**
     * Parks without a timeout while every carrier sleeps. Lost-wake-up rule (Dekker with
     * {@link #carrierStarts()}): the monitor stores {@code parkedIdle}, fences, then reads each
     * carrier's sleep state; a carrier stores RUNNING as it leaves its sleep, and before its
     * first continuation after it fences and reads {@code parkedIdle}. So either the monitor
     * sees the carrier awake and goes on looking, or the carrier sees the monitor parked and
     * unparks it: a long runner started meanwhile is always looked at.
     */
    private void parkWhileIdle() {
        parkedIdle = true; // volatile store
        // Full fence: the store above precedes the loads of the carriers' sleep states (pairs
        // with the fence in carrierStarts between a carrier's store of RUNNING and its load
        // of parkedIdle).
        VarHandle.fullFence();
        if (!allAsleep()) {
            parkedIdle = false;
            return;
        }
        while (parkedIdle && !stop) LockSupport.park(this); // volatile reads: a spurious return parks again
    }

    /** True if every carrier sleeps in its idle (none runs or is about to run a continuation). */
    private boolean allAsleep() {
        for (CarrierThread c : scheduler.carrierArray()) {
            if (c.isAlive() && !c.isSleeping()) return false;
        }
        return true;
    }

    /**
     * A carrier, before its first continuation after a sleep (its state already RUNNING):
     * unparks the monitor if it parked for idleness. Once per sleep, not per dispatch.
     */
    void carrierStarts() {
        // Full fence: the carrier's store of RUNNING precedes this load of parkedIdle (pairs
        // with the fence in parkWhileIdle between its store of parkedIdle and its loads of
        // the sleep states).
        VarHandle.fullFence();
        if (parkedIdle && PARKED_IDLE.compareAndSet(this, true, false)) LockSupport.unpark(thread);
    }

    /** Looks at the carriers taken so far: the monitor's wake-ups (tests). */
    long looks() {
        return looks;
    }

    /** True while the monitor parks because every carrier sleeps (tests). */
    boolean isParkedIdle() {
        return parkedIdle;
    }

    /** One look at every carrier: compensates for those held since the last looks (none if {@code late}). */
    void look(long now, boolean late) {
        CarrierThread[] cs = scheduler.carrierArray();
        for (CarrierThread c : cs) {
            if (c.retiring || !c.isAlive()) {
                seen.remove(c);
                continue;
            }
            long dispatches = c.stats().dispatchCount(); // racy read: a hint
            // {dispatch count, since when unchanged, the carrier's CPU time at the first look that found it so}
            long[] s = seen.computeIfAbsent(c, k -> new long[] {-1, now, -1});
            if (late || s[0] != dispatches || !c.runsTask()) {
                s[0] = dispatches;
                s[1] = now;
                s[2] = -1;
                continue;
            }
            if (s[2] < 0) s[2] = cpuTime(c); // the same continuation since the last look: from here its CPU counts
            // Only a carrier with other threads queued, or parked on its calls in flight, needs
            // a compensator: alone, its long runner holds nothing back (a thread queued later is
            // found at the next look).
            if (!c.held && now - s[1] >= HELD_BOUND_NANOS && (c.hasQueuedWork() || c.contexts().anyCallsInFlight())
                    && held(c, s[2])) {
                scheduler.compensate(c);
                s[1] = now; // the next look at it, after another bound
                s[2] = -1;
            }
        }
        seen.keySet().removeIf(c -> java.util.Arrays.stream(cs).noneMatch(x -> x == c));
    }

    /**
     * Whether carrier {@code c}, running one continuation for the bound, holds its CPU: in a
     * disk wait (state D), or computing (state R) with at least {@link #HELD_CPU_NANOS} of CPU
     * since {@code cpuAtStart}. A carrier in state R with less CPU than that spent the bound
     * waiting for a CPU that other processes use: a compensator on that CPU would only wait
     * beside it (seen: 1 MiB direct pwrites on a machine at load 24 made 13-17 compensators in
     * 4 s by the wall clock alone, none by this rule).
     */
    private static boolean held(CarrierThread c, long cpuAtStart) {
        char state = kernelState(c.tid());
        if (state == 'D') return true;
        if (state != 'R') return false;
        long cpu = cpuTime(c);
        return cpuAtStart < 0 || cpu < 0 || cpu - cpuAtStart >= HELD_CPU_NANOS;
    }

    /** The CPU time of carrier {@code c}'s OS thread in nanoseconds, or -1 where the JVM cannot tell. */
    private static long cpuTime(CarrierThread c) {
        try {
            return THREADS.getThreadCpuTime(c.threadId());
        } catch (UnsupportedOperationException e) {
            return -1;
        }
    }

    /** The state letter of task {@code tid} of this process in /proc (R, S, D...), or '?'. */
    private static char kernelState(int tid) {
        if (tid <= 0) return '?';
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            int close = stat.lastIndexOf(')'); // the name may hold spaces and parentheses
            return close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
        } catch (java.io.IOException | RuntimeException e) {
            return '?';
        }
    }
}
