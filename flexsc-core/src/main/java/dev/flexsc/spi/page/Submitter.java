package dev.flexsc.spi.page;

import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;

/**
 * The submission side of the page protocol, one path for single calls and batches: the
 * caller has written its entries ({@link SyscallPage#write}) and released each SUBMITTED
 * ({@link SyscallPage#submit}); here their submit bits are exposed with one volatile OR per
 * bitmap word, and NEED_WAKEUP is checked once after the last of them (docs/abi.md, "Sleep
 * and wake-up": the executor sets NEED_WAKEUP, fences, rescans; the submitter exposes its
 * bits, fences, checks the flag; one of them sees the other, so no call is ever left
 * SUBMITTED with its executors asleep).
 */
final class Submitter {
    private final PageEngine engine;
    private final SyscallPage pages;
    private final ExecutorControl control;
    private final boolean clearsNeedWakeup;
    private final LongAdder submitted = new LongAdder();
    private final LongAdder wakeups = new LongAdder();

    Submitter(PageEngine engine, SyscallPage pages, ExecutorControl control) {
        this.engine = engine;
        this.pages = pages;
        this.control = control;
        this.clearsNeedWakeup = control.submitterClearsNeedWakeup();
    }

    /**
     * Posts a call on entry {@code index} of group g (offset {@code e}), which the caller
     * holds: writes it, releases SUBMITTED, then {@link #expose(int, int)}s it. True if this
     * call woke the group's executors. (jcstress: EntryCycleTest, NeedWakeupTest.)
     */
    boolean post(int g, int index, long e, int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        pages.write(e, nr, a0, a1, a2, a3, a4, a5); // plain stores, published by submit
        pages.submit(e); // release: before the bit that exposes the entry
        return expose(g, index);
    }

    /**
     * Posts a call on entry {@code index} of a carrier group ({@link CarrierGroups}), which
     * the caller holds: written, released SUBMITTED, its bit exposed, and nobody woken: the
     * caller's carrier runs it in its next kernel entry (the group's syscall threads are
     * woken by that entry for a call that may block).
     */
    void postLocal(int g, int index, long e, int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        pages.write(e, nr, a0, a1, a2, a3, a4, a5); // plain stores, published by submit
        pages.submit(e); // release: before the bit that exposes the entry
        pages.expose(g, index >>> 6, 1L << index); // full fence; the carrier's claim (xchg) pairs with it
        submitted.increment();
    }

    /**
     * Exposes entry {@code index} of group g (written and SUBMITTED) and wakes the group's
     * executors if they sleep; true if this call woke them.
     */
    boolean expose(int g, int index) {
        pages.expose(g, index >>> 6, 1L << index); // the full fence before the flags load below
        submitted.increment();
        return pages.needsWakeup(g) && wakeAfterPost(g);
    }

    /**
     * Exposes the entries of group g set in {@code mask} (one word per 64 entries; cleared
     * here), {@code count} of them, and wakes the group's executors once if they sleep.
     */
    void expose(int g, long[] mask, int count) {
        exposeLocal(g, mask, count); // the full fences before the flags load below
        if (pages.needsWakeup(g)) wakeAfterPost(g); // once for all; posted now, so a failure is waited out
    }

    /**
     * Exposes the entries of carrier group g set in {@code mask} (cleared here), {@code count}
     * of them, waking nobody: the caller's carrier runs them in its next kernel entry (see
     * {@link #postLocal}).
     */
    void exposeLocal(int g, long[] mask, int count) {
        for (int word = 0; word < mask.length; word++) {
            long bits = mask[word];
            if (bits != 0) {
                mask[word] = 0;
                pages.expose(g, word, bits); // one full fence per 64 entries; the executor's claim (xchg) pairs with it
            }
        }
        submitted.add(count);
    }

    /**
     * In a wait for an entry still SUBMITTED: wakes the group if its executors sleep (a
     * wake-up that failed, or one the executors lost). One volatile load while they are awake.
     */
    void rewake(int g) {
        if (pages.needsWakeup(g)) wakeAfterPost(g);
    }

    /**
     * {@link #wake} for calls already posted: a failure is counted, not thrown (their callers
     * must wait for the entries they posted, and wake the group again while an entry is still
     * SUBMITTED, see {@link #rewake}).
     */
    private boolean wakeAfterPost(int g) {
        try {
            return wake(g);
        } catch (IllegalStateException e) {
            pages.checkReleased(e);
            return false;
        } catch (IOException | RuntimeException failed) {
            engine.machineryFailedAfterPost();
            return false;
        }
    }

    /** Wakes group g's executors if NEED_WAKEUP is set; true if this call woke them. */
    boolean wake(int g) throws IOException {
        // Executors that own the flag: every submitter that sees it wakes. Else only the one
        // that clears it (one wake-up per sleep).
        if (clearsNeedWakeup ? pages.clearNeedWakeup(g) : pages.needsWakeup(g)) {
            wakeups.increment();
            control.wakeExecutors(g);
            return true;
        }
        return false;
    }

    /** Entries posted so far. */
    long submitted() {
        return submitted.sum();
    }

    /** Wake-ups sent to sleeping executors so far. */
    long wakeups() {
        return wakeups.sum();
    }
}
