package dev.flexsc.bench.soak;

import dev.flexsc.Engine;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Bugs the soak found whose fix belongs to another stream's files, each with the scenario
 * that shows it. {@code --known skip} (the bounded run of {@code ./flexsc test}) leaves those
 * scenarios out and prints one line per issue and engine saying so; {@code --known run}
 * (the default of {@code ./flexsc bench --study soak}) runs them, so that they fail until
 * fixed. Remove an entry with its fix.
 */
final class Known {
    private static final Set<Engine> RINGS = EnumSet.of(Engine.IO_URING, Engine.IO_URING_SQPOLL);

    enum Issue {
        /**
         * io_uring engines: a read whose buffer page faults into a sleep (userfaultfd here; a
         * mapped file on a hung FUSE or NFS server in life) runs inline: on IO_URING in the
         * submitter's io_uring_enter, which holds the ring's lock while it sleeps, so every
         * other submitter and close() sleep on that lock (uninterruptibly), and when a carrier
         * submitted it the carrier and every green thread on it stop too; on IO_URING_SQPOLL in
         * the SQ thread, so no other call of the ring is consumed, and close() spins in
         * drainFullSq (ignoring its timeout) to post a cancel once the SQ is full.
         */
        URING_INLINE_FAULT_STALLS_RING(RINGS,
                "stuck reads (a read into a page whose fault sleeps runs inline, in io_uring_enter under the ring's lock"
                        + " or in the SQ thread: every other call of the ring, close() and, when a carrier submitted it,"
                        + " every green thread of that carrier wait for it; reproducer: flexsc-native"
                        + " UringStuckSubmitterTest, @Disabled, issue 12)"),
        /**
         * KERNEL_MODULE: a blocking call that close() knocks out of the kernel fails with
         * ErrnoException(EINTR) instead of EngineClosedException (seen in the 6.1 guest before
         * java-safety's fix of the same for SYSCALL_THREADS was merged; to be checked again).
         */
        PAGE_ENGINE_CLOSE_EINTR(EnumSet.of(Engine.KERNEL_MODULE),
                "blocked calls in flight at close() (they failed with EINTR, not EngineClosedException, in the 6.1"
                        + " guest; issue 12)"),
        /**
         * io_uring engines: Flexsc.open whose completion thread cannot start (no thread left)
         * throws the OutOfMemoryError of Thread.start and leaves the ring open: its descriptor
         * and mappings leak (UringEngine.open closes the ring only for IOException and
         * RuntimeException).
         */
        URING_OPEN_LEAKS_RING(RINGS,
                "the descriptor count after an open refused for want of a thread (the ring is left open; reproducer:"
                        + " ./flexsc bench --study soak --engines IO_URING --phases threads, issue 12)"),
        /**
         * io_uring engines: a closed engine still refuses its ring's old descriptor number as a
         * call argument (RefusedCallException "descriptor N is the io_uring ring"), though the ring
         * is closed and the number may now be another file's; the call should fail with
         * EngineClosedException as every call on a closed engine does.
         */
        URING_CLOSED_RING_FD_REFUSED(RINGS,
                "blocked calls begun after close() (their fresh pipe may get the ring's old number; reproducer:"
                        + " flexsc-native UringClosedRingFdTest, @Disabled, issue 12)");

        final Set<Engine> engines;
        final String leftOut;

        Issue(Set<Engine> engines, String leftOut) {
            this.engines = engines;
            this.leftOut = leftOut;
        }
    }

    private final boolean skip;

    Known(boolean skip) {
        this.skip = skip;
    }

    /** True if {@code issue}'s scenario is left out on {@code engine}. */
    boolean skips(Issue issue, Engine engine) {
        return skip && issue.engines.contains(engine);
    }

    /** The lines that say what is left out on {@code engine} (none with {@code --known run}). */
    List<String> skipped(Engine engine) {
        List<String> out = new ArrayList<>();
        for (Issue i : Issue.values()) {
            if (skips(i, engine)) out.add("KNOWN ISSUE " + i + " on " + engine + ", left out: " + i.leftOut);
        }
        return out;
    }
}
