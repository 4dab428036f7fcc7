package dev.flexsc.threads;

import dev.flexsc.EngineStats;
import dev.flexsc.FlexscEngine;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/** The {@link FlexscStatsMXBean} of one scheduler; registered and unregistered by it. */
final class FlexscStats implements FlexscStatsMXBean {
    private static final System.Logger LOG = System.getLogger(FlexscStats.class.getName());

    private final FlexscScheduler scheduler;
    private final ObjectName name;
    /** The engine whose counters are reported; set once a runtime attaches it. */
    private volatile FlexscEngine engine;
    private volatile boolean registered;

    FlexscStats(FlexscScheduler scheduler) {
        this.scheduler = scheduler;
        ObjectName n;
        String v = scheduler.name().matches("[A-Za-z0-9._-]+") ? scheduler.name() : ObjectName.quote(scheduler.name());
        try {
            n = ObjectName.getInstance("dev.flexsc:type=FlexscStats,name=" + v);
        } catch (JMException e) {
            throw new IllegalStateException("FlexscStats: bad ObjectName for scheduler " + scheduler.name(), e);
        }
        this.name = n;
    }

    /** The MBean's name: {@code dev.flexsc:type=FlexscStats,name=<scheduler name>}. */
    ObjectName objectName() {
        return name;
    }

    void attach(FlexscEngine e) {
        engine = e; // volatile: read by MBean getters on JMX threads
    }

    /** Registers in the platform MBean server; a failure is logged, never fatal (monitoring only). */
    void register() {
        MBeanServer s = ManagementFactory.getPlatformMBeanServer();
        try {
            s.registerMBean(this, name);
            registered = true;
        } catch (InstanceAlreadyExistsException e) {
            LOG.log(System.Logger.Level.WARNING, "{0} is already registered; this scheduler''s statistics are not", name);
        } catch (JMException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot register " + name, e);
        }
    }

    void unregister() {
        if (!registered) return;
        registered = false;
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (InstanceNotFoundException gone) {
            // unregistered by someone else: nothing to do
        } catch (JMException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot unregister " + name, e);
        }
    }

    /**
     * The attached engine; for the default scheduler, which no runtime attaches one to
     * (FlexscExecutors' threads call {@code Flexsc.syscalls()}), the default engine once it
     * is open. Null while there is none.
     */
    private FlexscEngine engine() {
        FlexscEngine e = engine; // volatile read
        if (e == null && scheduler.isDefault()) e = dev.flexsc.Flexsc.defaultEngineIfOpen();
        return e;
    }

    private EngineStats es() {
        return withFallback(engine());
    }

    /**
     * The engine's counters, for an io_uring engine with the calls it handed to its
     * SYSCALL_THREADS fallback added in (getpid, fstat, ... and batches of them): the engine
     * a user configured is the pair, and {@code CallsPosted} should count every call that went
     * down the exception-less path, as {@link EngineStats#posted()} does. Thread counts and
     * the policy's posted/direct counts already cover both (the fallback's own gate is not
     * used), so they are taken from the io_uring engine alone. Null without an engine.
     */
    static EngineStats withFallback(FlexscEngine e) {
        if (e == null) return null;
        EngineStats s = e.stats();
        dev.flexsc.nativeimpl.uring.UringEngine u = e.unwrap(dev.flexsc.nativeimpl.uring.UringEngine.class);
        if (u == null) return s;
        EngineStats f = u.uringStats().fallback();
        if (f == null) return s;
        return new EngineStats(s.engine(), s.submitted() + f.submitted(), s.executed() + f.executed(),
                s.refused() + f.refused(), s.batches() + f.batches(), s.executorSleeps() + f.executorSleeps(),
                s.wakeups() + f.wakeups(), s.callerParks() + f.callerParks(), s.executorThreads(),
                s.posted(), s.direct());
    }

    private long[] reap() {
        long[] sum = new long[2 + CarrierStats.REAP_BUCKETS];
        for (CarrierThread c : scheduler.carrierArray()) {
            long[] k = c.stats().reapCounters();
            for (int i = 0; i < sum.length; i++) sum[i] += k[i];
        }
        return sum;
    }

    @Override public String getName() { return scheduler.name(); }
    @Override public String getEngine() { FlexscEngine e = engine(); return e == null ? "none" : e.engine().name(); }
    @Override public int getCarriers() { return scheduler.stats().carriers(); }
    @Override public int getPinnedCarriers() { return scheduler.stats().pinned(); }
    @Override public long getLiveThreads() { return scheduler.stats().liveThreads(); }
    @Override public long getCompensations() { return scheduler.compensations(); }

    @Override public long getCallsPosted() { EngineStats s = es(); return s == null ? 0 : s.submitted(); }
    @Override public long getCallsDirect() { EngineStats s = es(); return s == null ? 0 : s.direct(); }
    @Override public long getCallsExecuted() { EngineStats s = es(); return s == null ? 0 : s.executed(); }
    @Override public long getCallsRefused() { EngineStats s = es(); return s == null ? 0 : s.refused(); }
    @Override public long getExecutorBatches() { EngineStats s = es(); return s == null ? 0 : s.batches(); }

    @Override
    public double getMeanExecutorBatchSize() {
        EngineStats s = es();
        return s == null || s.batches() == 0 ? 0 : (double) s.executed() / s.batches();
    }

    @Override public long getExecutorSleeps() { EngineStats s = es(); return s == null ? 0 : s.executorSleeps(); }
    @Override public long getWakeups() { EngineStats s = es(); return s == null ? 0 : s.wakeups(); }
    @Override public long getCallerParks() { EngineStats s = es(); return s == null ? 0 : s.callerParks(); }
    @Override public int getExecutorThreads() { EngineStats s = es(); return s == null ? 0 : s.executorThreads(); }

    @Override public long getAdaptiveTrials() { return adaptiveTrials(scheduler.carrierArray())[0]; }
    @Override public long getAdaptiveTrialsLost() { return adaptiveTrials(scheduler.carrierArray())[1]; }
    @Override public String[] getAdaptiveDirectCalls() { return adaptiveDirectCalls(scheduler.carrierArray()); }

    /** ADAPTIVE's cost trials finished, and those posting lost, summed over {@code carriers}. */
    static long[] adaptiveTrials(CarrierThread[] carriers) {
        long[] sum = new long[2];
        for (CarrierThread c : carriers) {
            long[] t = c.policy().trialStats(); // {number under trial, finished, lost}
            sum[0] += t[1];
            sum[1] += t[2];
        }
        return sum;
    }

    /** The calls some carrier's last cost trial found posting to lose for, sorted by name. */
    static String[] adaptiveDirectCalls(CarrierThread[] carriers) {
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        for (int nr = 0; nr < dev.flexsc.abi.SyscallTable.NR_LIMIT; nr++) {
            for (CarrierThread c : carriers) {
                if (c.policy().postCost(nr) == AdaptivePolicy.COST_LOSES) {
                    names.add(dev.flexsc.abi.SyscallTable.name(nr));
                    break;
                }
            }
        }
        return names.toArray(String[]::new);
    }

    @Override public long getDispatches() { return scheduler.stats().dispatches(); }
    @Override public long getReaped() { return scheduler.stats().reaped(); }
    @Override public long getReapBatches() { return reap()[0]; }

    @Override
    public double getMeanReapBatchSize() {
        long batches = reap()[0];
        return batches == 0 ? 0 : (double) scheduler.stats().reaped() / batches;
    }

    @Override
    public long[] getReapBatchSizeHistogram() {
        return java.util.Arrays.copyOfRange(reap(), 2, 2 + CarrierStats.REAP_BUCKETS);
    }

    @Override public long getCarrierSleeps() { return scheduler.stats().sleeps(); }
    @Override public long getCarrierIdleNanos() { return reap()[1]; }
    @Override public long getSteals() { return scheduler.stats().steals(); }
    @Override public long getSpinWakes() { return scheduler.stats().spinWakes(); }
}
