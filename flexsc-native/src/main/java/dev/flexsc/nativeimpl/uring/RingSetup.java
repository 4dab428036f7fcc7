package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.ErrnoException;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * The setup flags of the rings an io_uring engine creates, the best this kernel takes,
 * probed once per JVM by setting up a small ring with each candidate in turn:
 * <ul>
 * <li><b>Carrier rings</b> (one per carrier, only its OS thread submits), IO_URING:
 *     SINGLE_ISSUER (6.0) + COOP_TASKRUN + TASKRUN_FLAG (5.19): completion work (a socket
 *     read's, after its poll fired) runs in the carrier's task at its next return to user
 *     mode, without an interrupt of its own: in its next kernel entry, or at the next timer
 *     tick while it runs Java code; the flag tells a busy carrier when to enter. Not
 *     DEFER_TASKRUN, which would run that work only inside the carrier's own
 *     {@code io_uring_enter(GETEVENTS)}: a carrier held by one green thread (computing, or in
 *     a direct call) makes none, and its other threads' calls would never complete; with
 *     COOP_TASKRUN the CQEs are posted meanwhile and its compensator reaps them
 *     ({@link CarrierRing}, "A held carrier's ring"). Else COOP_TASKRUN + TASKRUN_FLAG; else
 *     none (completion work interrupts the carrier). SUBMIT_ALL (5.18) with each where
 *     known.</li>
 * <li><b>Platform rings</b> (a pool borrowed by one thread at a time, by different threads
 *     over time, so no SINGLE_ISSUER): COOP_TASKRUN + TASKRUN_FLAG, else none.</li>
 * <li><b>SQPOLL</b>: every ring attaches (ATTACH_WQ) to the engine's first ring, whose
 *     polling thread then serves them all; the kernel takes none of the task-work flags
 *     with SQPOLL.</li>
 * </ul>
 *
 * @param carrierFlags flags of a carrier ring (before SQPOLL, ATTACH_WQ, CQSIZE)
 * @param platformFlags flags of a platform ring
 * @param taskrunFlag whether carrier rings report pending completion work in
 *        {@link IoUringDescriptor#SQ_TASKRUN} (a busy carrier then enters only when it is set)
 */
record RingSetup(int carrierFlags, int platformFlags, boolean taskrunFlag) {
    private static final int COOP = SETUP_COOP_TASKRUN | SETUP_TASKRUN_FLAG;
    private static final Map<Engine, RingSetup> CACHE = new ConcurrentHashMap<>();

    /** The flags for {@code kind}'s rings on this kernel (probed on first use). */
    static RingSetup of(Engine kind) {
        return CACHE.computeIfAbsent(kind, RingSetup::probe);
    }

    private static RingSetup probe(Engine kind) {
        if (kind == Engine.IO_URING_SQPOLL) return new RingSetup(0, 0, false); // SQPOLL takes none of them
        int submitAll = takes(SETUP_SUBMIT_ALL) ? SETUP_SUBMIT_ALL : 0;
        int carrier, platform;
        boolean flag;
        if (takes(SETUP_SINGLE_ISSUER | COOP | submitAll)) {
            carrier = SETUP_SINGLE_ISSUER | COOP | submitAll;
            flag = true;
        } else if (takes(COOP | submitAll)) {
            carrier = COOP | submitAll;
            flag = true;
        } else {
            carrier = submitAll;
            flag = false;
        }
        platform = takes(COOP | submitAll) ? COOP | submitAll : submitAll;
        return new RingSetup(carrier, platform, flag);
    }

    private static boolean takes(int flags) {
        try (IoUring r = IoUring.setup(2, 0, flags, 0, 10)) {
            return true;
        } catch (ErrnoException | RuntimeException refused) {
            return false; // EINVAL: a flag this kernel does not know
        }
    }

    /** In words, for {@code Flexsc.probe()} and the docs. */
    String describe() {
        if (carrierFlags == 0 && platformFlags == 0) return "SQPOLL rings attached to one polling thread";
        return "carrier rings " + names(carrierFlags) + "; platform rings " + names(platformFlags);
    }

    private static String names(int f) {
        StringBuilder b = new StringBuilder();
        if ((f & SETUP_SINGLE_ISSUER) != 0) b.append("SINGLE_ISSUER+");
        if ((f & SETUP_DEFER_TASKRUN) != 0) b.append("DEFER_TASKRUN+");
        if ((f & SETUP_COOP_TASKRUN) != 0) b.append("COOP_TASKRUN+");
        if ((f & SETUP_TASKRUN_FLAG) != 0) b.append("TASKRUN_FLAG+");
        if ((f & SETUP_SUBMIT_ALL) != 0) b.append("SUBMIT_ALL+");
        return b.isEmpty() ? "(no task-run flags: Linux < 5.19)" : b.substring(0, b.length() - 1);
    }
}
