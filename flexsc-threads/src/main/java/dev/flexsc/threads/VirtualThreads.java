package dev.flexsc.threads;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * The JDK internals the scheduler needs, reached once by reflection in
 * {@code java.lang} (hence {@link #ADD_OPENS}):
 *
 * <ul>
 * <li>{@code ThreadBuilders.VirtualThreadBuilder(Executor)}: a virtual-thread builder whose
 * threads run on a given scheduler. The JDK hands that executor the thread's
 * continuation ({@code VirtualThread.runContinuation}) each time the thread becomes
 * runnable: at start, on unpark, after {@code Thread.yield()}. The call comes from
 * whatever thread made it runnable; when that is a virtual thread, the continuation of
 * the caller is pinned for the duration of {@code execute}, so execute must not block.</li>
 * <li>{@code Thread.currentCarrierThread()}: the platform thread a virtual thread is
 * mounted on (an intrinsic), to tell on which carrier a call or an unpark happens.</li>
 * <li>{@code VirtualThread.DelayedTaskSchedulers.INSTANCE}: the executors whose threads
 * ({@code VirtualThread-unparker}) wake timed-parked virtual threads of a custom scheduler;
 * see {@link #startTimerThreads()}.</li>
 * </ul>
 */
final class VirtualThreads {
    private VirtualThreads() {}

    /**
     * The JVM flag every FlexSC process needs for the scheduler: java.lang opened to this
     * module, which is ALL-UNNAMED on the class path and dev.flexsc.threads on the module path.
     */
    static final String ADD_OPENS = "--add-opens java.base/java.lang="
            + (VirtualThreads.class.getModule().isNamed() ? VirtualThreads.class.getModule().getName() : "ALL-UNNAMED");

    private static final Constructor<?> BUILDER;
    private static final MethodHandle CURRENT_CARRIER;
    private static final String UNAVAILABLE;

    static {
        Constructor<?> ctor = null;
        MethodHandle carrier = null;
        String why = null;
        try {
            Class<?> c = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder");
            ctor = c.getDeclaredConstructor(Executor.class);
            ctor.setAccessible(true);
            MethodHandles.Lookup inThread = MethodHandles.privateLookupIn(Thread.class, MethodHandles.lookup());
            carrier = inThread.findStatic(Thread.class, "currentCarrierThread", MethodType.methodType(Thread.class));
        } catch (RuntimeException | IllegalAccessException e) {
            // InaccessibleObjectException (a RuntimeException) or IllegalAccessException: not opened
            why = "FlexSC threads need the JVM flag " + ADD_OPENS + " (java.lang is not open to "
                    + VirtualThreads.class.getModule() + "): add it to the java command line, or run"
                    + " from a jar whose manifest has Add-Opens: java.base/java.lang (" + e + ")";
        } catch (ReflectiveOperationException e) {
            why = "this JDK (" + Runtime.version() + ") lacks the virtual-thread internals FlexSC"
                    + " threads use (ThreadBuilders$VirtualThreadBuilder(Executor),"
                    + " Thread.currentCarrierThread()); JDK 25 is required: " + e;
        }
        BUILDER = why == null ? ctor : null;
        CURRENT_CARRIER = why == null ? carrier : null;
        UNAVAILABLE = why;
    }

    /** Null if custom-scheduler virtual threads work in this JVM, else why not (naming the flag). */
    static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    /** @throws UnsupportedOperationException with {@link #unavailabilityCause()} */
    static void ensureAvailable() {
        if (UNAVAILABLE != null) throw new UnsupportedOperationException(UNAVAILABLE);
    }

    /** A fresh (not thread-safe) builder of virtual threads scheduled by {@code scheduler}. */
    static Thread.Builder.OfVirtual builder(Executor scheduler) {
        ensureAvailable();
        try {
            return (Thread.Builder.OfVirtual) BUILDER.newInstance(scheduler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create a virtual-thread builder", e);
        }
    }

    /**
     * Starts the JDK's timer threads for virtual threads of custom schedulers, once per JVM.
     * The JDK starts each on the first timed park that needs it (Thread.sleep, parkNanos,
     * a FlexSC call's timed wait); if no thread can be created then (RLIMIT_NPROC, a pids
     * cgroup at its limit), the OutOfMemoryError escapes after the virtual thread yielded
     * and that thread is never scheduled again. Started here, from {@link FlexscScheduler}'s
     * constructor, such a failure is an exception of the scheduler's start instead. Best
     * effort on a JDK without these internals (nothing is started early there).
     *
     * @throws OutOfMemoryError if a timer thread cannot be started (no thread left)
     */
    static void startTimerThreads() {
        if (timerThreadsStarted) return; // volatile: set once every executor has its thread
        synchronized (VirtualThreads.class) {
            if (timerThreadsStarted) return;
            ScheduledExecutorService[] timers;
            try {
                Field f = Class.forName("java.lang.VirtualThread$DelayedTaskSchedulers").getDeclaredField("INSTANCE");
                f.setAccessible(true);
                timers = (ScheduledExecutorService[]) f.get(null);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                timers = new ScheduledExecutorService[0]; // another JDK: its timer threads start as they do
            }
            for (ScheduledExecutorService t : timers) {
                if (t instanceof ThreadPoolExecutor p) p.prestartAllCoreThreads(); // throws OOME where refused
            }
            timerThreadsStarted = true;
        }
    }

    private static volatile boolean timerThreadsStarted;

    /**
     * The carrier of the current thread: itself for a platform thread, the platform thread
     * it is mounted on for a virtual thread. Null-free; only valid once available.
     */
    static Thread currentCarrier() {
        try {
            return (Thread) CURRENT_CARRIER.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("Thread.currentCarrierThread() failed", t);
        }
    }
}
