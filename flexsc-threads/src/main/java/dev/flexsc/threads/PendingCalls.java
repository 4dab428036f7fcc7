package dev.flexsc.threads;

import dev.flexsc.jfr.EventSwitches;
import dev.flexsc.spi.PendingCall;

import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * The page engines' calls a carrier watches for its parked green threads (SYSCALL_THREADS,
 * KERNEL_MODULE: their syscall threads complete them): it takes charge of them
 * ({@link #add}), fires the settled ones and unparks their owners ({@link #reap}), and says
 * what to sleep on when the carrier idles ({@link #sleepTarget}, {@link #anySettled}).
 *
 * <p>Carrier-private: touched only on the carrier's OS thread (by the carrier, or by a
 * virtual thread mounted on it in {@link CarrierThread#watch}), never concurrently, so it
 * needs no synchronisation. Allocates only when its arrays grow.
 */
final class PendingCalls {
    private final CarrierStats stats;
    private PendingCall[] pending = new PendingCall[64];
    private int count;
    /** Some pending calls complete on another done_seq (engine or group) than pending[0]'s. */
    private boolean mixedWords;
    /**
     * The last full scan: pending[0, scanned) were not settled when checked, and scanWord was
     * the done_seq read (acquire) before it. While the word still reads scanWord
     * nothing completed since, so only pending[scanned, count) (newer calls) need a look: a
     * call missed by the scan is published by an increment after it.
     */
    private int scanned;
    private int scanWord;
    private boolean scanValid;

    PendingCalls(CarrierStats stats) {
        this.stats = stats;
    }

    /** Calls watched and not yet fired. */
    int size() {
        return count;
    }

    /** Takes charge of {@code call} until it settles. */
    void add(PendingCall call) {
        if (count == pending.length) {
            pending = Arrays.copyOf(pending, pending.length * 2);
        }
        if (count > 0 && call.sleepKey() != pending[0].sleepKey()) {
            mixedWords = true;
        }
        if (EventSwitches.batchReaped()) call.watchedAt(System.nanoTime()); // JFR on: the event's latency
        pending[count++] = call;
    }

    /**
     * Fires the settled calls and unparks their owners (onto the carrier's local queue);
     * returns how many. Skips the calls the last full scan saw unsettled while their
     * done_seq has not moved (see {@link #scanWord}): a full scan reads every entry's
     * cache line, which the syscall threads are writing.
     */
    int reap() {
        if (count == 0) return 0;
        int from = 0;
        int word = 0;
        if (!mixedWords) {
            word = pending[0].doneSeq(); // acquire
            if (scanValid && word == scanWord) from = scanned;
        }
        int fired = 0;
        PendingCall[] p = pending;
        PendingCall first = null;
        boolean jfr = false; // the event's fields are gathered only while a recording wants them
        long oldest = Long.MAX_VALUE;
        boolean mixedGroups = false;
        int w = from;
        for (int r = from; r < count; r++) { // stable compaction: newer calls stay at the end
            PendingCall c = p[r];
            if (c.isSettled()) { // acquire load of the entry status
                if (first == null) {
                    first = c;
                    jfr = EventSwitches.batchReaped(); // once per batch
                } else if (jfr) {
                    mixedGroups |= c.group() != first.group() || c.engine() != first.engine();
                }
                if (jfr) {
                    long at = c.watchedAtNanos(); // 0 if JFR was off at add()
                    if (at != 0 && at < oldest) oldest = at;
                }
                c.fire();
                LockSupport.unpark(c.owner()); // re-submits its continuation: execute -> pushLocal
                fired++;
            } else {
                p[w++] = c;
            }
        }
        for (int r = w; r < count; r++) p[r] = null;
        count = w;
        if (from == 0) { // a full scan: a new snapshot, valid if the word was read from the one word
            boolean wordRead = !mixedWords;
            mixedWords = false;
            for (int i = 1; i < w && !mixedWords; i++) mixedWords = p[i].sleepKey() != p[0].sleepKey();
            scanValid = wordRead && w > 0;
            scanWord = word;
        }
        scanned = w; // the calls checked now (after the word was read) are covered by the snapshot
        if (fired > 0) stats.batchReaped(fired, count, first, jfr, mixedGroups, oldest);
        return fired;
    }

    /** The call whose done_seq an idle carrier sleeps on, or null (it then parks). */
    PendingCall sleepTarget() {
        return count > 0 ? pending[0] : null;
    }

    /** True if every pending call completes on the sleep target's word (the sleep then needs no short timeout). */
    boolean oneWord() {
        return !mixedWords;
    }

    /**
     * Whether a pending call may have settled since the last scan, given the sleep target's
     * done_seq now reads {@code wordNow} (then the carrier must not sleep).
     */
    boolean anySettled(int wordNow) {
        int from = !mixedWords && scanValid && wordNow == scanWord ? scanned : 0;
        for (int i = from; i < count; i++) {
            if (pending[i].isSettled()) return true;
        }
        return false;
    }
}
