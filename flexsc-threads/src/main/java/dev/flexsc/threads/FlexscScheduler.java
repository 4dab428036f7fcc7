package dev.flexsc.threads;

import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.GreenThreads;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * FlexSC's M:N scheduler: virtual threads (JDK 25) whose continuations run on one pinned
 * carrier thread per user CPU ({@link FlexscConfig#userCpus()}). A FlexSC system call made
 * by one of its virtual threads posts its entry and parks; the carrier runs other virtual
 * threads, and when none is runnable it reaps completions, unparks their owners, and only
 * then idles (spin, yield, then sleep in the engine's completion wait). JDK blocking
 * (locks, {@code synchronized}, {@code Thread.sleep}, JDK socket I/O) works as on any
 * virtual thread.
 *
 * <p>Needs {@code --add-opens java.base/java.lang=ALL-UNNAMED} (see
 * {@link #unavailabilityCause()}); the flexsc jars carry it as {@code Add-Opens} in their
 * manifest, which applies to {@code java -jar}.
 *
 * <p>Lifecycle. {@link #defaultScheduler()} is shared and lives with the JVM. A scheduler
 * from {@link #open} is closed with {@link #close()}: it stops creating threads, waits
 * (bounded by {@link FlexscConfig#closeTimeoutMillis()}) for the threads it created to
 * end, then stops and joins its carriers. Carriers are daemon threads, and virtual threads
 * are always daemon threads: neither keeps the JVM alive by itself. The pools of
 * {@link FlexscExecutors} and its {@code defaultThreadFactory()} keep it alive as the JDK's
 * non-daemon pool threads do (see there).
 *
 * <p>Thread-safe.
 */
public final class FlexscScheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FlexscScheduler.class.getName());
    private static final AtomicInteger SCHEDULERS = new AtomicInteger();
    private static volatile FlexscScheduler defaultScheduler;

    /** How engines find a green thread's carrier; installed by the first scheduler that starts. */
    private static final GreenThreads.Locator LOCATOR = FlexscScheduler::currentCarrier;

    private final String name;
    private final FlexscConfig config;
    /** The scheduler's own carriers, one per user CPU. */
    private final CarrierThread[] carriers;
    /**
     * Every carrier running now: the own ones and the compensating ones the monitor started
     * for held carriers. Copy-on-write under {@link #carriersLock}; read (volatile) to steal
     * and to pick a carrier for external work.
     */
    private volatile CarrierThread[] all;
    /** Counters of compensating carriers that have exited (guarded by lifecycle): stats only grow. */
    private final long[] retiredCounters = new long[5];
    /** Guards {@link #all}'s copies and {@link #retiredCounters} (not lifecycle: close() holds that while it joins carriers). */
    private final Object carriersLock = new Object();
    private final IdlePolicy idlePolicy;
    private final CarrierMonitor monitor;
    private final Executor continuationExecutor = this::execute;
    private final AtomicInteger nextExternal = new AtomicInteger();
    /** Carriers inside block(); read before waking one to steal. */
    final AtomicInteger sleepers = new AtomicInteger();
    /** Threads created by our factories that have not ended. */
    private final AtomicLong live = new AtomicLong();
    /** Holds the JVM for the threads of factories that keep it alive (pools, defaultThreadFactory). */
    final JvmKeepAlive keepAlive = new JvmKeepAlive();
    private final AtomicInteger exited = new AtomicInteger();
    private final AtomicInteger compensators = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong carrierErrors = new java.util.concurrent.atomic.AtomicLong();
    private final Object lifecycle = new Object();
    private volatile boolean shutdown;
    private volatile boolean stopping;
    /** The FlexscStats MXBean of this scheduler. */
    private final FlexscStats statsBean;

    private FlexscScheduler(String name, FlexscConfig config, IdlePolicy idle) {
        VirtualThreads.ensureAvailable();
        // Before any thread of ours can park with a timeout: a timer thread refused later
        // would lose the thread that needed it (see startTimerThreads).
        VirtualThreads.startTimerThreads();
        // From now on, FlexSC calls from our virtual threads park and are reaped by their carrier.
        GreenThreads.install(LOCATOR);
        this.name = name;
        this.config = config;
        int[] cpus = config.userCpus();
        this.carriers = new CarrierThread[cpus.length];
        this.statsBean = new FlexscStats(this);
        for (int i = 0; i < cpus.length; i++) {
            carriers[i] = new CarrierThread(this, i, cpus[i], idle, true);
        }
        this.all = carriers.clone();
        this.idlePolicy = idle;
        this.monitor = new CarrierMonitor(this); // before the carriers: they tell it when they run
        for (CarrierThread c : carriers) c.start();
        monitor.start();
        statsBean.register(); // dev.flexsc:type=FlexscStats,name=<name>; unregistered by close()
    }

    /**
     * Starts a scheduler with one carrier per {@link FlexscConfig#userCpus() user CPU}.
     *
     * @throws UnsupportedOperationException if this JVM cannot run it; the message names the
     *         missing {@code --add-opens} flag
     * @throws OutOfMemoryError ("unable to create native thread") if its carriers, or the
     *         JDK's timer thread for virtual threads, cannot be started (no thread left)
     */
    public static FlexscScheduler open(FlexscConfig config) {
        Objects.requireNonNull(config, "config");
        return new FlexscScheduler("flexsc-" + SCHEDULERS.incrementAndGet(), config, IdlePolicy.DEFAULT);
    }

    /** A scheduler whose carriers idle as {@code idle} says (tests: a long block timeout exposes lost wake-ups). */
    static FlexscScheduler open(FlexscConfig config, IdlePolicy idle) {
        return new FlexscScheduler("flexsc-" + SCHEDULERS.incrementAndGet(), config, idle);
    }

    /** True for {@link #defaultScheduler()}. */
    boolean isDefault() {
        return this == defaultScheduler; // volatile read
    }

    /**
     * The shared scheduler, started on first use with {@link FlexscConfig#fromSystemProperties()}
     * (like {@code ForkJoinPool.commonPool()}); {@link #close()} on it is ignored.
     *
     * @throws UnsupportedOperationException if this JVM cannot run it (see {@link #unavailabilityCause()})
     */
    public static FlexscScheduler defaultScheduler() {
        FlexscScheduler s = defaultScheduler; // volatile: double-checked creation
        if (s == null) {
            synchronized (FlexscScheduler.class) {
                s = defaultScheduler;
                if (s == null) {
                    s = new FlexscScheduler("flexsc-default", FlexscConfig.fromSystemProperties(), IdlePolicy.DEFAULT);
                    defaultScheduler = s;
                }
            }
        }
        return s;
    }

    /**
     * Null if FlexSC virtual threads can run in this JVM, else why not, as a sentence that
     * names what to do (typically the missing {@code --add-opens java.base/java.lang=ALL-UNNAMED}).
     */
    public static String unavailabilityCause() {
        return VirtualThreads.unavailabilityCause();
    }

    /** The configuration whose user CPUs the carriers run on. */
    public FlexscConfig config() {
        return config;
    }

    /**
     * A thread factory for virtual threads of this scheduler, named {@code prefix + n}
     * (n from 0). Returns null (the {@link ThreadFactory} way of refusing) once the
     * scheduler is shut down. Thread-safe.
     */
    public ThreadFactory threadFactory(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return threadFactory(prefix, 0);
    }

    /** {@link #threadFactory(String)} numbering threads from {@code start}. */
    ThreadFactory threadFactory(String prefix, long start) {
        return threadFactory(prefix, start, false, null);
    }

    /**
     * {@link #threadFactory(String)} numbering threads from {@code start}. With
     * {@code keepsJvmAlive} each thread keeps the JVM alive from its creation until its task
     * ends, as a non-daemon thread would ({@link JvmKeepAlive}); {@code handler}, if not null,
     * is each thread's uncaught-exception handler.
     */
    ThreadFactory threadFactory(String prefix, long start, boolean keepsJvmAlive,
                                Thread.UncaughtExceptionHandler handler) {
        Thread.Builder.OfVirtual builder = VirtualThreads.builder(continuationExecutor).name(prefix, start);
        if (handler != null) builder.uncaughtExceptionHandler(handler);
        ThreadFactory jdk = builder.factory();
        return task -> {
            Objects.requireNonNull(task, "task");
            if (shutdown) return null; // volatile read
            live.incrementAndGet();
            JvmKeepAlive.Hold[] hold = new JvmKeepAlive.Hold[1]; // set before the thread can start
            Thread t;
            try {
                t = jdk.newThread(() -> {
                    try {
                        if (hold[0] != null) keepAlive.started(hold[0]);
                        task.run();
                    } finally {
                        live.decrementAndGet();
                        if (hold[0] != null) keepAlive.release(hold[0]);
                    }
                });
                // Published to the thread by Thread.start() (happens-before its first action).
                if (keepsJvmAlive) hold[0] = keepAlive.acquire(t);
            } catch (RuntimeException | Error e) {
                live.decrementAndGet();
                throw e;
            }
            return t;
        };
    }

    /** {@link #threadFactory(String)} with the prefix {@code <scheduler name>-vthread-}. */
    public ThreadFactory threadFactory() {
        return threadFactory(name + "-vthread-");
    }

    /**
     * Starts {@code task} in a new virtual thread of this scheduler.
     *
     * @throws RejectedExecutionException if the scheduler is shut down
     */
    public Thread startVirtualThread(Runnable task) {
        Thread t = threadFactory().newThread(task);
        if (t == null) throw new RejectedExecutionException(name + " is shut down");
        t.start();
        return t;
    }

    /** This scheduler's name (carriers are named after it). */
    public String name() {
        return name;
    }

    /** The carrier threads (platform threads), for monitoring; not to be interrupted or joined by users. */
    public List<Thread> carrierThreads() {
        return List.of(carriers);
    }

    /** True if the current thread is one of this scheduler's carriers or a virtual thread mounted on one. */
    public boolean isCarrierOfCurrentThread() {
        return currentCarrier() instanceof CarrierThread c && c.scheduler() == this;
    }

    /** Counters summed over the carriers, compensating ones included (racy snapshot). */
    public SchedulerStats stats() {
        long[] sum = new long[5];
        synchronized (carriersLock) {
            System.arraycopy(retiredCounters, 0, sum, 0, sum.length);
        }
        for (CarrierThread c : all) {
            long[] k = c.stats().counters();
            for (int i = 0; i < sum.length; i++) sum[i] += k[i];
        }
        int pinned = 0;
        for (CarrierThread c : carriers) if (c.pinResult() == 0) pinned++;
        return new SchedulerStats(carriers.length, pinned, live.get(), sum[0], sum[1], sum[2], sum[3], sum[4]);
    }

    /** True once {@link #shutdown()} or {@link #close()} was called: the factories refuse new threads. */
    public boolean isShutdown() {
        return shutdown;
    }

    /** True once every carrier has exited. */
    public boolean isTerminated() {
        return exited.get() == carriers.length;
    }

    /** Refuses new threads from now on; running and parked threads go on. Idempotent. */
    public void shutdown() {
        shutdown = true;
    }

    /**
     * Shuts down, waits up to {@link FlexscConfig#closeTimeoutMillis()} for the threads this
     * scheduler created to end, then stops and joins the carriers. Threads still alive then
     * are abandoned: they never run again (a warning names how many). Idempotent; ignored
     * on the {@link #defaultScheduler()}. Must not be called from one of its own threads.
     *
     * @throws IllegalStateException if called from a thread of this scheduler
     */
    @Override
    public void close() {
        if (this == defaultScheduler) return;
        if (isCarrierOfCurrentThread()) {
            throw new IllegalStateException(name + ": close() from one of its own threads would deadlock");
        }
        synchronized (lifecycle) {
            if (stopping) return;
            shutdown = true;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.closeTimeoutMillis());
            while (live.get() > 0 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            long left = live.get();
            synchronized (carriersLock) { // no compensator starts after this (compensate() checks under the lock)
                stopping = true; // volatile: carriers leave their loop
            }
            monitor.stop();
            CarrierThread[] running = all; // volatile read: compensators that exit meanwhile stay in this copy
            for (CarrierThread c : running) {
                c.wake();
                java.util.concurrent.locks.LockSupport.unpark(c);
            }
            boolean interrupted = false;
            for (CarrierThread c : running) {
                while (c.isAlive()) {
                    try {
                        c.join(TimeUnit.MILLISECONDS.toMillis(config.closeTimeoutMillis()));
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            keepAlive.releaseAll(); // threads still alive never run again: they must not hold the JVM
            statsBean.unregister();
            if (left > 0) {
                LOG.log(System.Logger.Level.WARNING, "{0}: closed with {1} virtual thread(s) still alive after {2} ms;"
                        + " they are abandoned", name, left, config.closeTimeoutMillis());
            }
        }
    }

    // ---- the executor the JDK hands continuations to ----

    /**
     * Makes a virtual thread's continuation runnable. On one of our carriers (the carrier
     * itself, or a virtual thread mounted on it: an unpark, a yield, a start) it goes to that
     * carrier's local queue, no wake-up needed; from any other thread to a carrier's inbox,
     * preferring one that sleeps, which is woken.
     */
    private void execute(Runnable continuation) {
        Thread t = Thread.currentThread();
        Thread carrier = t.isVirtual() ? VirtualThreads.currentCarrier() : t;
        if (stopping) { // volatile read
            // A carrier closing its rings as it stops completes the calls of threads that close()
            // abandoned: they never run again.
            if (carrier instanceof CarrierThread c && c.scheduler() == this) return;
            throw new RejectedExecutionException(name + " is closed");
        }
        if (carrier instanceof CarrierThread c && c.scheduler() == this && !c.retiring) {
            c.pushLocal(continuation);
            if (sleepers.get() > 0) { // volatile read: only with several carriers
                signalIdleCarrier(c);
            }
            return;
        }
        executeElsewhere(continuation);
    }

    /** Queues {@code continuation} on a carrier picked for external work (see {@link #externalTarget}). */
    void executeElsewhere(Runnable continuation) {
        externalTarget().pushExternal(continuation);
    }

    /**
     * The carrier external work goes to: a sleeping one if any, else the next in turn, never
     * a held one (its compensator takes its inbox) nor a retiring compensator, unless no
     * other is left.
     */
    private CarrierThread externalTarget() {
        CarrierThread[] cs = all; // volatile read
        int n = cs.length;
        if (n == 1) return cs[0];
        int start = Math.floorMod(nextExternal.getAndIncrement(), n);
        CarrierThread fallback = null;
        for (int k = 0; k < n; k++) {
            CarrierThread c = cs[(start + k) % n];
            if (c.held || c.retiring) continue;
            if (c.isSleeping()) return c;
            if (fallback == null) fallback = c;
        }
        return fallback != null ? fallback : cs[start];
    }

    /** Wakes one sleeping carrier other than {@code from}, so that it steals work. */
    void signalIdleCarrier(CarrierThread from) {
        CarrierThread[] cs = all; // volatile read
        if (cs.length == 1 || sleepers.get() == 0) return;
        for (CarrierThread c : cs) {
            if (c != from && !c.retiring && c.isSleeping()) {
                c.wake();
                return;
            }
        }
    }

    /**
     * Monitor: marks {@code held} held and starts a compensating carrier for it, on its CPU,
     * unless the scheduler stops, has {@link CarrierMonitor#MAX_COMPENSATORS} running, or the
     * carrier went idle since the monitor's look. Returns the compensator, or null.
     *
     * <p>The mark comes before the check that the carrier still runs (Dekker with its sleep):
     * the monitor stores {@code held}, fences, then reads the carrier's sleep state; the
     * carrier stores SLEEPING, fences ({@link SleepState#announce()}), then rechecks
     * {@code held} ({@link CarrierIdle}). Either the carrier sees the mark and does not sleep
     * (its loop clears the mark), or the monitor sees it asleep and takes the mark back. So no
     * carrier sleeps marked held, which would keep its compensator from retiring.
     */
    CarrierThread compensate(CarrierThread held) {
        synchronized (carriersLock) {
            if (stopping || all.length - carriers.length >= CarrierMonitor.MAX_COMPENSATORS) return null;
            held.held = true; // volatile: external work avoids it from now on
            // Full fence: the store of held precedes the loads of the sleep state and of the
            // running flag below (pairs with the fence in SleepState.announce between the
            // carrier's store of SLEEPING and its recheck of held in CarrierIdle.sleep).
            VarHandle.fullFence();
            if (held.isSleeping() || !held.runsTask()) {
                held.held = false; // it gave the carrier back after the look: nothing to compensate
                return null;
            }
            CarrierThread c = new CarrierThread(this, name + "-compensator-" + compensators.incrementAndGet() + "-cpu"
                    + held.cpu(), held.cpu(), idlePolicy, true, held);
            CarrierThread[] grown = java.util.Arrays.copyOf(all, all.length + 1);
            grown[grown.length - 1] = c;
            all = grown; // volatile: published before it runs
            // Volatile, before c starts: a push into held's inbox from now on wakes c; one
            // made since the mark and before this store is drained by c's first look.
            held.compensator = c;
            c.start();
            return c;
        }
    }

    /** The monitor of held carriers (carriers tell it when they run again after a sleep). */
    CarrierMonitor monitor() {
        return monitor;
    }

    /** Compensating carriers started so far (statistics). */
    long compensations() {
        return compensators.get();
    }

    /** Reports {@code engine}'s counters in this scheduler's FlexscStats MXBean (a runtime's own engine). */
    void attachEngine(dev.flexsc.FlexscEngine engine) {
        statsBean.attach(engine);
    }

    /** The ObjectName of this scheduler's FlexscStats MXBean. */
    public javax.management.ObjectName statsObjectName() {
        return statsBean.objectName();
    }

    /** Every carrier running now (own and compensating; a volatile read). */
    CarrierThread[] carrierArray() {
        return all;
    }

    /** The scheduler's own carriers. */
    CarrierThread[] ownCarriers() {
        return carriers;
    }

    boolean isStopping() {
        return stopping;
    }

    void carrierExited(CarrierThread c) {
        if (c.compensates == null) {
            exited.incrementAndGet();
            return;
        }
        synchronized (carriersLock) { // a compensator: it leaves the list, its counters stay counted
            long[] k = c.stats().counters();
            for (int i = 0; i < retiredCounters.length; i++) retiredCounters[i] += k[i];
            all = java.util.Arrays.stream(all).filter(x -> x != c).toArray(CarrierThread[]::new);
        }
    }

    void reportCarrierError(CarrierThread c, Throwable t) {
        carrierErrors.incrementAndGet();
        LOG.log(System.Logger.Level.ERROR, name + ": a continuation failed on " + c.getName(), t);
    }

    /** Failures of the carriers' own machinery reported so far (each is a bug; tests check there are none). */
    long carrierErrors() {
        return carrierErrors.get();
    }

    /** The Locator installed in GreenThreads: the carrier of the current virtual thread, if ours. */
    private static CallCarrier currentCarrier() {
        return VirtualThreads.currentCarrier() instanceof CarrierThread c ? c : null;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(config.userCpus());
    }
}
