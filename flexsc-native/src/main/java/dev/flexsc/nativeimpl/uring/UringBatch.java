package dev.flexsc.nativeimpl.uring;

import dev.flexsc.EngineClosedException;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.CallBatch;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link CallBatch} on an io_uring engine: one SQE per call the ring runs, written together
 * into the caller's ring (its carrier's, or a borrowed platform ring) and submitted with one
 * kernel entry; the caller then waits once for all of them (a {@link BatchLatch}: the last
 * completion unparks it). The calls the ring does not run are made while the ring works:
 * directly, or (the shapes that may wait without bound) as one batch on the fallback engine.
 * Short writes and kernel-side cancellations are then continued one by one, exactly as for
 * single calls ({@link TransferRules}, {@link RingWaits}).
 */
final class UringBatch {
    private final UringEngine engine;
    private final RingWaits waits;
    private final PlatformRings platform;

    UringBatch(UringEngine engine, RingWaits waits, PlatformRings platform) {
        this.engine = engine;
        this.waits = waits;
        this.platform = platform;
    }

    void invoke(CallBatch b) throws IOException {
        int n = b.size();
        if (n == 0) return;
        UringCall[] ring = new UringCall[n];
        int[] fbPos = null;
        int fbCount = 0;
        int ringCount = 0;
        for (int i = 0; i < n; i++) {
            SyscallTable.Call call = b.call(i);
            UringCall c = engine.prepare(call, false, b.arg(i, 0), b.arg(i, 1), b.arg(i, 2), b.arg(i, 3), b.arg(i, 4), b.arg(i, 5));
            if (c != null) {
                ring[i] = c;
                ringCount++;
            } else if (engine.routesToRing(call.nr())
                    && UringOps.declinedMayWait(call, b.arg(i, 1), b.arg(i, 2), b.arg(i, 3), b.arg(i, 4), b.arg(i, 5))) {
                if (fbPos == null) fbPos = new int[n - i];
                fbPos[fbCount++] = i;
            }
        }
        if (engine.currentCarrierRing() != null) {
            BatchLatch latch = postOnCarrier(b, ring);
            runElsewhere(b, ring, fbPos, fbCount);
            awaitOnCarrier(latch, ring);
            finish(b, ring, null);
            return;
        }
        ConfinedRing r = ringCount > 0 ? platform.borrow(b.call(0).name()) : null;
        try {
            if (r != null) postOnPlatform(b, r, ring);
            runElsewhere(b, ring, fbPos, fbCount);
            if (r != null) waits.awaitAllOnPlatform(r, ring);
            finish(b, ring, r);
        } finally {
            if (r != null) platform.giveBack(r);
        }
    }

    /** Writes the ring calls into the carrier's ring; the carrier submits them together when the caller parks. */
    private BatchLatch postOnCarrier(CallBatch b, UringCall[] ring) throws IOException {
        BatchLatch latch = new BatchLatch(Thread.currentThread());
        for (int i = 0; i < ring.length; i++) {
            UringCall c = ring[i];
            if (c == null) continue;
            c.batch = latch; // plain: the completer runs on the carrier that reads it
            latch.add();
            try {
                waits.postOnCarrier(c);
            } catch (EngineClosedException e) {
                latch.countDown(); // never posted: no completion will come
                ring[i] = null;
                b.fail(i, e);
            }
        }
        latch.countDown(); // the guard count: completions may now bring it to zero
        return latch;
    }

    /** Writes the ring calls into a borrowed ring and submits them (one kernel entry per SQ-full). */
    private void postOnPlatform(CallBatch b, ConfinedRing r, UringCall[] ring) {
        for (UringCall c : ring) {
            if (c != null) waits.postOnPlatform(r, c);
        }
        r.submit();
    }

    /** The calls the ring does not run: directly, or on the fallback as one batch. */
    private void runElsewhere(CallBatch b, UringCall[] ring, int[] fbPos, int fbCount) {
        for (int i = 0; i < ring.length; i++) {
            if (ring[i] != null || b.isSettled(i)) continue;
            if (fbPos != null && contains(fbPos, fbCount, i)) continue;
            try {
                b.complete(i, engine.elsewhere(b.call(i), b.arg(i, 0), b.arg(i, 1), b.arg(i, 2), b.arg(i, 3),
                        b.arg(i, 4), b.arg(i, 5)));
            } catch (IOException | RuntimeException e) {
                b.fail(i, e instanceof IOException io ? io : new IOException(e));
            }
        }
        if (fbCount > 0) runOnFallback(b, fbPos, fbCount);
    }

    private static boolean contains(int[] a, int n, int v) {
        for (int k = 0; k < n; k++) if (a[k] == v) return true;
        return false;
    }

    private void runOnFallback(CallBatch b, int[] pos, int count) {
        CallBatch sub = new CallBatch(count);
        for (int k = 0; k < count; k++) {
            int i = pos[k];
            sub.add(b.call(i), b.arg(i, 0), b.arg(i, 1), b.arg(i, 2), b.arg(i, 3), b.arg(i, 4), b.arg(i, 5));
        }
        try {
            if (!engine.isOpen()) throw new EngineClosedException("the engine is closed");
            for (int k = 0; k < count; k++) engine.counters().ranOnFallback(b.call(pos[k]).nr());
            engine.fallback().invokeBatch(sub);
            for (int k = 0; k < count; k++) {
                if (sub.failure(k) != null) b.fail(pos[k], sub.failure(k));
                else b.complete(pos[k], sub.result(k));
            }
        } catch (IOException | RuntimeException failed) {
            // The ring's calls are posted: the caller waits for them whatever happened to these.
            IOException e = failed instanceof IOException io ? io : new IOException(failed);
            for (int k = 0; k < count; k++) {
                if (!b.isSettled(pos[k])) b.fail(pos[k], e);
            }
        }
    }

    /** A green thread's one wait for its batch: park until the latch reaches zero; an interrupt cancels what may block. */
    private void awaitOnCarrier(BatchLatch latch, UringCall[] ring) {
        boolean interrupted = false;
        while (!latch.isDone()) {
            if (Thread.interrupted()) interrupted = true;
            if (interrupted || dev.flexsc.spi.CancelScope.requested()) {
                for (UringCall c : ring) {
                    if (c != null && RingWaits.mayBlock(c) && !c.isDone()) waits.cancel(c);
                }
            }
            latch.setParked(true);
            try {
                // Re-check after announcing the park: countDown() decrements, then reads parked.
                if (!latch.isDone()) {
                    if (interrupted) LockSupport.parkNanos(this, RingWaits.CANCELLING_PARK_NANOS);
                    else LockSupport.park(this);
                }
            } finally {
                latch.setParked(false);
            }
        }
        if (interrupted) Thread.currentThread().interrupt(); // settled() turns -ECANCELED into -EINTR
    }

    /** Each ring call's whole result (short writes continued, kernel cancellations resubmitted). */
    private void finish(CallBatch b, UringCall[] ring, ConfinedRing platformRing) throws IOException {
        for (int i = 0; i < ring.length; i++) {
            UringCall c = ring[i];
            if (c == null || b.isSettled(i)) continue;
            try {
                b.complete(i, platformRing == null ? waits.continueOnCarrier(c) : waits.continueOnPlatform(platformRing, c));
            } catch (EngineClosedException e) {
                b.fail(i, e);
            }
        }
    }
}
