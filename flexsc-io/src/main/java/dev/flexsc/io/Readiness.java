package dev.flexsc.io;

import dev.flexsc.Syscalls;
import dev.flexsc.spi.CancelScope;
import dev.flexsc.spi.GreenThreads;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The one place where a FlexSC channel or selector waits for a descriptor to become ready:
 * through the engine ({@link Syscalls#awaitReady}: on the io_uring engines a poll entry in
 * a green thread's carrier ring and poll(2) made directly on other threads, a posted poll(2)
 * elsewhere; docs/io.md, "Readiness waits"), never around it. A green thread parks while it
 * waits and its carrier runs others; a platform thread waits as the engine says. A virtual thread of the JDK's scheduler blocks its carrier in the engine's wait (a
 * native wait it cannot unmount from), so it waits as the JDK's own file I/O does on virtual
 * threads: inside {@code jdk.internal.misc.Blocker}'s begin and end, which give the JDK's
 * scheduler a spare carrier meanwhile (reached with {@code --add-exports
 * java.base/jdk.internal.misc=ALL-UNNAMED}, one of {@link FlexscProviders#JVM_FLAGS}; without
 * it such a wait holds the carrier, and enough of them stall every virtual thread).
 */
final class Readiness {
    private Readiness() {}

    /** {@link #await}'s answer when the wait was cancelled (close, interrupt). */
    static final int CANCELLED = -1;

    /** Blocker.begin() and Blocker.end(boolean), or null where jdk.internal.misc is not exported to us. */
    private static final MethodHandle BLOCKER_BEGIN, BLOCKER_END;

    static {
        MethodHandle b = null, e = null;
        try {
            Class<?> blocker = Class.forName("jdk.internal.misc.Blocker");
            b = MethodHandles.lookup().findStatic(blocker, "begin", MethodType.methodType(boolean.class));
            e = MethodHandles.lookup().findStatic(blocker, "end", MethodType.methodType(void.class, boolean.class));
        } catch (ReflectiveOperationException | RuntimeException notExported) {
            b = e = null;
        }
        BLOCKER_BEGIN = b;
        BLOCKER_END = e;
    }

    /** True if the JDK's scheduler gets a spare carrier while a virtual thread of its own waits here. */
    static boolean compensatesStockVirtualThreads() {
        return BLOCKER_BEGIN != null;
    }

    /**
     * Waits until {@code fd} has one of {@code events} or {@code timeoutMs} passed (negative:
     * without bound), in {@code scope} so that closing the channel ({@link CancelScope#cancel})
     * ends the wait.
     *
     * @return the ready events (POLLERR, POLLHUP, POLLNVAL included), 0 on timeout, or
     *         {@link #CANCELLED} if the wait was cancelled by the scope or by an interrupt of
     *         the calling thread (its status is left set); the caller then looks at why
     */
    static int await(Syscalls sys, int fd, int events, int timeoutMs, CancelScope scope) throws IOException {
        // A FlexSC green thread parks in the engine; any other virtual thread is the JDK's
        boolean stock = BLOCKER_BEGIN != null && Thread.currentThread().isVirtual() && GreenThreads.currentCarrier() == null;
        boolean compensated = stock && blockerBegin();
        try {
            return scope.run(() -> sys.awaitReady(fd, events, timeoutMs));
        } catch (InterruptedIOException e) {
            return CANCELLED;
        } catch (dev.flexsc.ErrnoException e) {
            if (e.errno() == dev.flexsc.Errno.EINTR) return CANCELLED;
            throw e;
        } finally {
            if (stock) blockerEnd(compensated);
        }
    }

    private static boolean blockerBegin() {
        try {
            return (boolean) BLOCKER_BEGIN.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("jdk.internal.misc.Blocker.begin", t);
        }
    }

    private static void blockerEnd(boolean compensated) {
        try {
            BLOCKER_END.invokeExact(compensated);
        } catch (Throwable t) {
            throw new AssertionError("jdk.internal.misc.Blocker.end", t);
        }
    }
}
