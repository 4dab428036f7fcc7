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
    private static final Set<Engine> ALL = EnumSet.of(Engine.SYSCALL_THREADS, Engine.IO_URING, Engine.IO_URING_SQPOLL,
            Engine.KERNEL_MODULE);
    private static final Set<Engine> RINGS = EnumSet.of(Engine.IO_URING, Engine.IO_URING_SQPOLL);

    enum Issue {
        /**
         * IO_URING: a read whose buffer page faults into a sleep (userfaultfd here; a mapped file
         * on a hung FUSE or NFS server in life) runs inline in the submitter's io_uring_enter,
         * which holds the ring's lock while it sleeps: every other submitter, and close(),
         * sleep on that lock (uninterruptibly) until the fault is resolved; submitted by a
         * carrier, the carrier and every green thread on it stop too.
         */
        URING_INLINE_FAULT_STALLS_RING(EnumSet.of(Engine.IO_URING),
                "stuck reads (a read into a page whose fault sleeps runs inline in io_uring_enter under the ring's"
                        + " lock: every other submitter, close() and, when a carrier submitted it, every green thread of"
                        + " that carrier wait for it; reproducer: flexsc-native UringStuckSubmitterTest, @Disabled,"
                        + " issue 12)"),
        /**
         * Every engine: close() gives up on a call stuck in the kernel after closeTimeoutMillis and
         * returns it to its caller (EngineClosedException, "the result is lost"), so the kernel
         * later writes into a buffer the caller got back; a page engine's caller racing the
         * release gets IllegalStateException ("Already closed"). Fixed on branch java-safety
         * (callers wait until the kernel is done with their memory).
         */
        CLOSE_RETURNS_STUCK_CALLS(ALL,
                "stuck calls in flight at close() (close returns them to their callers while the kernel still"
                        + " runs them: late writes into their buffers; fixed on branch java-safety, issue 12)"),
        /**
         * Page engines: a blocking call that close() knocks out of the kernel (SYSCALL_THREADS: the
         * stop signal; KERNEL_MODULE: the module's stop) fails with ErrnoException(EINTR) instead
         * of EngineClosedException. Fixed on branch java-safety for SYSCALL_THREADS; seen on
         * KERNEL_MODULE in the 6.1 guest.
         */
        PAGE_ENGINE_CLOSE_EINTR(EnumSet.of(Engine.SYSCALL_THREADS, Engine.KERNEL_MODULE),
                "blocked calls in flight at close() (they fail with EINTR, not EngineClosedException; fixed on"
                        + " branch java-safety for SYSCALL_THREADS, issue 12)"),
        /**
         * io_uring engines: Flexsc.open whose completion thread cannot start (no thread left)
         * throws the OutOfMemoryError of Thread.start and leaves the ring open: its descriptor
         * and mappings leak (UringEngine.open closes the ring only for IOException and
         * RuntimeException).
         */
        URING_OPEN_LEAKS_RING(RINGS,
                "the descriptor count after an open refused for want of a thread (the ring is left open; reproducer:"
                        + " ./flexsc bench --study soak --engines IO_URING --phases threads, issue 12)");

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
