package dev.flexsc.spi;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * Cancellation of FlexSC calls by a thread other than the caller: what a channel's
 * {@code close()} needs to wake a thread blocked in one of its calls (a read on a FIFO),
 * where a socket has {@code shutdown(2)} and a file has nothing.
 *
 * <p>The channel runs each operation inside its scope ({@link #run}). Once {@link #cancel()}
 * was called, every call of the scope that may block without bound, running or posted
 * later, is cancelled by its engine exactly as for an interrupt of its thread (the call
 * returns {@code -EINTR}), but the thread's interrupt status is left alone. A call that
 * cannot be cancelled (stuck in the kernel on FUSE or NFS) is waited for: the call never
 * comes back to its caller while the kernel may still use its memory.
 *
 * <p>Engines ask {@link #requested()} whenever they also check for an interrupt, and
 * register a thread that parks while it waits ({@link #parking}), so that {@code cancel()}
 * unparks it. Thread-safe.
 */
public final class CancelScope {
    private static final ScopedValue<CancelScope> CURRENT = ScopedValue.newInstance();

    /** Set once by cancel() (volatile), read by the waiters after they registered. */
    private volatile boolean cancelled;
    private final ConcurrentLinkedQueue<Thread> parked = new ConcurrentLinkedQueue<>();

    /** Runs {@code op} with this scope as the calling thread's scope. */
    public <R, X extends Throwable> R run(ScopedValue.CallableOp<R, X> op) throws X {
        return ScopedValue.where(CURRENT, this).call(op);
    }

    /** Cancels the calls of this scope, now and from now on; unparks their waiting threads. */
    public void cancel() {
        cancelAndUnpark();
    }

    /** {@link #cancel()}: returns how many registered threads it unparked (jcstress: CancelParkTest). */
    int cancelAndUnpark() {
        cancelled = true;
        // Volatile store above, then the loads of the queue: Dekker with parking(), which adds
        // the thread, then loads `cancelled`; either it sees the flag or we see the thread.
        int n = 0;
        for (Thread t : parked) {
            LockSupport.unpark(t);
            n++;
        }
        return n;
    }

    /** True once {@link #cancel()} was called. */
    public boolean isCancelled() {
        return cancelled;
    }

    /** For engines: true if the calling thread runs in a scope that was cancelled. */
    public static boolean requested() {
        return CURRENT.isBound() && CURRENT.get().cancelled;
    }

    /**
     * For engines, before a park: registers the calling thread with its scope so that
     * {@link #cancel()} unparks it, and returns the scope (null outside any). The caller
     * checks {@link #requested()} after this and before parking, and calls
     * {@link #unparked()} after.
     */
    public static CancelScope parking() {
        if (!CURRENT.isBound()) return null;
        CancelScope s = CURRENT.get();
        s.parked.add(Thread.currentThread());
        return s;
    }

    /** For engines: the calling thread is no longer parked in this scope. */
    public void unparked() {
        parked.remove(Thread.currentThread());
    }
}
