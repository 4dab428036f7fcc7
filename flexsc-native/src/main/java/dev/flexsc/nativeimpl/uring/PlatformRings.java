package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Errno;
import dev.flexsc.EngineClosedException;
import dev.flexsc.ErrnoException;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The rings of the threads that are not carriers (platform threads, virtual threads of other
 * schedulers): a pool, each ring lent to one thread for one call or one batch, which
 * submits and waits in one {@code io_uring_enter} on it and gives it back. No lock is held
 * around a ring (it has one borrower), no completion thread reaps for the borrower, and the
 * ring is reused by the next borrower, so a thread pool's threads do not each set one up.
 *
 * <p>Chosen over a ring per thread: the same single kernel entry per call, without a ring
 * (and its descriptor and locked pages) for every thread that ever made a call, nor a
 * cleaner to close it when the thread ends; and a virtual thread of another scheduler can
 * borrow one too. The price: a pool ring has different submitters over time, so it cannot
 * use SINGLE_ISSUER (see {@link RingSetup}). Rings beyond {@link #MAX_IDLE} idle ones are
 * closed when given back.
 *
 * <p>Thread-safe.
 */
final class PlatformRings {
    /**
     * Idle rings kept for reuse: enough for the platform threads that make calls at the same
     * time on a typical machine; more are set up on demand (one io_uring_setup and two mmaps,
     * tens of microseconds) and closed when given back.
     */
    static final int MAX_IDLE = 4 * Runtime.getRuntime().availableProcessors();

    private final Supplier<ConfinedRing> factory;
    private final ConcurrentLinkedQueue<ConfinedRing> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    /** Rings lent out now. */
    private final AtomicInteger lent = new AtomicInteger();
    private volatile boolean closed;

    /** @param factory sets up one more ring (throws {@link java.io.UncheckedIOException} if it cannot) */
    PlatformRings(Supplier<ConfinedRing> factory) {
        this.factory = factory;
    }

    /**
     * Lends a ring to the calling thread until it gives it back. With no idle ring it sets up
     * one more; if the process is out of descriptors or memory for it (EMFILE, ENFILE,
     * ENOMEM) while other rings are lent, it waits for one of them to come back, as a caller
     * waits for a free entry on an engine with a fixed number of them: a call that makes no
     * descriptor keeps working while the process has none left.
     *
     * @throws EngineClosedException if the engine is closed
     * @throws java.io.InterruptedIOException if the thread is interrupted while it waits for a ring
     * @throws ErrnoException if a new ring cannot be set up and no ring is lent
     */
    ConfinedRing borrow(String callName) throws java.io.IOException {
        while (true) {
            if (closed) throw new EngineClosedException(callName + ": the engine is closed"); // volatile read
            lent.incrementAndGet();
            ConfinedRing r = idle.poll();
            if (r != null) {
                idleCount.decrementAndGet();
                return r;
            }
            ErrnoException refused;
            try {
                return factory.get();
            } catch (java.io.UncheckedIOException e) {
                lent.decrementAndGet();
                if (!(e.getCause() instanceof ErrnoException ee)) throw e;
                refused = ee;
            } catch (RuntimeException e) {
                lent.decrementAndGet();
                throw e;
            }
            int errno = refused.errno();
            boolean outOfResources = errno == Errno.EMFILE || errno == Errno.ENFILE || errno == Errno.ENOMEM;
            // With none lent and none idle (the engine's first ring abandoned to a stuck call)
            // nothing would come back. giveBack offers a ring before it stops counting it as
            // lent, so reading lent == 0 (volatile) makes that offer visible to the idle
            // count read after it: a ring given back while this thread failed to set one up
            // is found on the next round, not missed.
            if (!outOfResources) throw refused;
            if (lent.get() == 0 && idleCount.get() == 0) throw refused;
            if (idleCount.get() > 0) continue; // one came back meanwhile: take it
            LockSupport.parkNanos(this, RING_WAIT_NANOS);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt(); // kept, as Syscalls keeps it for InterruptedIOException
                throw new java.io.InterruptedIOException(callName + ": interrupted while waiting for a free io_uring ring ("
                        + refused.getMessage() + ")");
            }
        }
    }

    /** How often a borrower that found no ring and could set up none looks again. */
    private static final long RING_WAIT_NANOS = 1_000_000L;

    /**
     * Sets up one ring and keeps it idle: the engine opens with one, so that a borrower that
     * can set up none (no descriptor left) always has a ring to wait for.
     *
     * @throws java.io.UncheckedIOException if it cannot be set up
     */
    void reserve() {
        ConfinedRing r = factory.get();
        idleCount.incrementAndGet();
        idle.offer(r);
    }

    /** Takes back a ring whose calls all completed. */
    void giveBack(ConfinedRing r) {
        try {
            if (r.inFlight() != 0) return; // the kernel may still complete into their buffers: stays mapped
            if (!closed) { // volatile read
                if (idleCount.incrementAndGet() <= MAX_IDLE) {
                    idle.offer(r);
                    // close() stores closed, then drains: a ring offered after its drain goes here.
                    if (closed && idle.remove(r)) {
                        idleCount.decrementAndGet();
                        r.release();
                    }
                    return;
                }
                idleCount.decrementAndGet();
            }
            r.release();
        } finally {
            // Last, after the offer (volatile RMW): a borrower that reads lent == 0 then sees
            // the ring in the idle count (see borrow).
            lent.decrementAndGet();
        }
    }

    /** Rings lent out now (a volatile read). */
    int lent() {
        return lent.get();
    }

    /** Rings set up and idle now. */
    int idle() {
        return idleCount.get();
    }

    /** Refuses new borrowers and releases the idle rings; lent ones are released as they come back. */
    void close() {
        closed = true;
        ConfinedRing r;
        while ((r = idle.poll()) != null) {
            idleCount.decrementAndGet();
            r.release();
        }
    }
}
