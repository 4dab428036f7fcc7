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
         * mapped file on a hung FUSE or NFS server in life) runs inline in the io_uring_enter
         * that submits it, holding that ring's lock. IO_URING: each platform thread and each
         * carrier has a ring of its own, so other platform callers and close() go on
         * (UringStuckSubmitterTest), but a carrier that submitted it sleeps in the fault
         * inside its own loop (interruptibly, running no continuation: the CarrierMonitor does
         * not count it as held), and every green thread queued on that carrier waits for it;
         * other carriers go on. IO_URING_SQPOLL: the engine's one SQ polling thread issues it,
         * so no other call of any of the engine's rings is submitted until it is resolved.
         */
        URING_INLINE_FAULT_STALLS_RING(RINGS,
                "stuck reads (a read into a page whose fault sleeps runs inline in io_uring_enter: on IO_URING the"
                        + " carrier that submitted it and its green threads wait for it; on IO_URING_SQPOLL every ring"
                        + " of the engine; reproducer for SQPOLL: flexsc-native UringStuckSubmitterTest, @Disabled,"
                        + " issue 12)");

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
