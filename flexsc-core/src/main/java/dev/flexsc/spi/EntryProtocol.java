package dev.flexsc.spi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * The submitter's half of the syscall-page protocol (docs/abi.md): the accesses to an
 * entry's status and to its group's submit bits and flags that post a call, wake the
 * executors, take back a call no executor claimed and reap a completed one. The executor's
 * half is in C (libflexsc's flexsc.c, the kernel module's flexsc.c). {@link PageEngine} does
 * every one of these accesses through this class, and the jcstress tests (module
 * flexsc-jcstress) race it against the executor's half.
 *
 * <p>Entry status cycle: FREE -(submitter: {@link #post})-> SUBMITTED -(executor: CAS,
 * acquire)-> BUSY -(executor: release)-> DONE -(submitter: {@link #reap})-> FREE; or
 * SUBMITTED -(submitter: {@link #takeBack}, once the executors stopped)-> FREE. Offsets are
 * byte offsets in the mapping {@code m}: {@code entry} of an entry, {@code group} of its
 * group's control block.
 */
final class EntryProtocol {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private EntryProtocol() {}

    /** Writes a call into a FREE entry the caller owns; published by {@link #publish}. */
    static void write(MemorySegment m, long entry, int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        // Plain stores: published by the release store of SUBMITTED in publish().
        m.set(ValueLayout.JAVA_INT, entry + ENTRY_SYSNR, nr);
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS, a0);
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS + 8, a1);
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS + 16, a2);
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS + 24, a3);
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS + 32, a4);
        m.set(ValueLayout.JAVA_LONG, entry + ENTRY_ARGS + 40, a5);
    }

    /** FREE -> SUBMITTED: the entry's call, written before, becomes the executors' to claim. */
    static void publish(MemorySegment m, long entry) {
        // Release: sysnr and args are visible before SUBMITTED; pairs with the executor's
        // acquiring CAS SUBMITTED -> BUSY.
        INT.setRelease(m, entry + ENTRY_STATUS, STATUS_SUBMITTED);
    }

    /** Sets {@code bits} in submit-bitmap word {@code word} of the group: their entries are announced. */
    static void expose(MemorySegment m, long group, int word, long bits) {
        // Volatile RMW (full fence): every SUBMITTED store before it is visible before the
        // bits, and the load of flags in needsWakeup() cannot move before it. Pairs with a
        // sleeping executor's RMW on flags (NEED_WAKEUP) followed by its load of
        // submit_bits: one of us sees the other.
        LONG.getAndBitwiseOr(m, group + GROUP_SUBMIT_BITS + (long) word * 8, bits);
    }

    /** True if the group's executors asked to be woken (NEED_WAKEUP). */
    static boolean needsWakeup(MemorySegment m, long group) {
        // Volatile load: after the RMW in expose() (see there).
        return ((int) INT.getVolatile(m, group + GROUP_FLAGS) & GROUP_NEED_WAKEUP) != 0;
    }

    /**
     * Posts entry {@code index}, written with {@link #write}: {@link #publish}, {@link #expose}
     * its bit, then reads the flags. Returns true if the executors sleep: the caller wakes them.
     */
    static boolean post(MemorySegment m, long group, long entry, int index) {
        publish(m, entry);
        expose(m, group, index >>> 6, 1L << index);
        return needsWakeup(m, group);
    }

    /**
     * Clears NEED_WAKEUP if set. Returns true if this call cleared it: then this caller, and
     * no other, wakes the executors (one wake-up per sleep, libflexsc's protocol).
     */
    static boolean clearNeedWakeup(MemorySegment m, long group) {
        long flags = group + GROUP_FLAGS;
        int f = (int) INT.getVolatile(m, flags);
        while ((f & GROUP_NEED_WAKEUP) != 0) {
            // CAS: of the submitters that saw the flag, only the one that clears it wakes.
            if (INT.compareAndSet(m, flags, f, f & ~GROUP_NEED_WAKEUP)) return true;
            f = (int) INT.getVolatile(m, flags);
        }
        return false;
    }

    /** True once an executor completed the entry; its result may then be {@link #reap}ed. */
    static boolean isDone(MemorySegment m, long entry) {
        // Acquire: pairs with the executor's release store of DONE, so ret is visible.
        return (int) INT.getAcquire(m, entry + ENTRY_STATUS) == STATUS_DONE;
    }

    /** DONE -> FREE, after {@link #isDone} returned true: the call's result. */
    static long reap(MemorySegment m, long entry) {
        // Plain load: ordered after the caller's acquire load of DONE.
        long ret = m.get(ValueLayout.JAVA_LONG, entry + ENTRY_RET);
        // Release: the ret load above precedes FREE (the executor is done with the entry;
        // FREE is for diagnostics only, the Java free bitmap hands entries out).
        INT.setRelease(m, entry + ENTRY_STATUS, STATUS_FREE);
        return ret;
    }

    /**
     * SUBMITTED -> FREE, once the executors stopped: true if no executor claimed the entry
     * (it never ran and never will); false if one did (the call runs or ran: wait for DONE).
     */
    static boolean takeBack(MemorySegment m, long entry) {
        // CAS: against the executor's CAS SUBMITTED -> BUSY; exactly one of the two wins.
        return INT.compareAndSet(m, entry + ENTRY_STATUS, STATUS_SUBMITTED, STATUS_FREE);
    }
}
