package dev.flexsc.threads;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.util.concurrent.Executor;

/**
 * The two JDK internals the scheduler needs, reached once by reflection in
 * {@code java.lang} (hence {@code --add-opens java.base/java.lang=ALL-UNNAMED}):
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
 * </ul>
 */
final class VirtualThreads {
    private VirtualThreads() {}

    /** The JVM flag every FlexSC process needs for the scheduler. */
    static final String ADD_OPENS = "--add-opens java.base/java.lang=ALL-UNNAMED";

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
