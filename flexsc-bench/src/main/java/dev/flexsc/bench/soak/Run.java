package dev.flexsc.bench.soak;

import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * What the workers of one child JVM share: the books, the buffers, the data file, the
 * stuck-call machinery, and which faults this run injects.
 */
final class Run implements AutoCloseable {
    /**
     * How much slower than a loaded 2-CPU machine this one is allowed to be: every liveness
     * bound is multiplied by it ({@code -Dflexsc.soak.boundScale}, from {@code --slow N}; the
     * QEMU guest under TCG needs about 5).
     */
    static final long BOUND_SCALE = Math.max(1, Long.getLong("flexsc.soak.boundScale", 1));
    /** Liveness bound of a call that nothing makes wait: generous for a loaded 2-CPU machine. */
    static final long CALL_BOUND_NANOS = 10_000_000_000L * BOUND_SCALE;

    final Ledger ledger = new Ledger();
    final Buffers buffers = new Buffers(ledger);
    final StuckCalls stuck;
    final Watchdog watchdog;
    final DataFile data;
    final Path dir;
    final long pid = ProcessHandle.current().pid();
    final SplittableRandom seeds;
    final Known known;
    /** Whether workers make calls that sleep in the kernel (stuck) or on pipes (blocked) in the main mix. */
    volatile boolean stuckCalls = true, blockedCalls = true;
    /** Set while RLIMIT_NOFILE is lowered: EMFILE is then expected from calls that make a descriptor. */
    volatile boolean fdLimited;

    Run(Path dir, long seed, Known known) throws java.io.IOException {
        this.dir = dir;
        this.seeds = new SplittableRandom(seed);
        this.known = known;
        this.data = DataFile.create(dir);
        this.stuck = new StuckCalls(ledger);
        this.watchdog = new Watchdog(ledger, stuck::releaseAll);
    }

    private final java.util.concurrent.ConcurrentLinkedQueue<Integer> freeRegions = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger regions = new java.util.concurrent.atomic.AtomicInteger();

    /** A region of the scratch file that no other live worker writes ({@link Worker#SCRATCH_REGION} bytes at index x size). */
    int takeRegion() {
        Integer r = freeRegions.poll();
        return r != null ? r : regions.getAndIncrement();
    }

    /** Gives back a region once its worker has ended. */
    void giveBackRegion(int r) {
        freeRegions.add(r);
    }

    /** A random source for one worker (split from the run's seed). */
    synchronized SplittableRandom split() {
        return seeds.split();
    }

    @Override
    public void close() {
        watchdog.close();
        stuck.close();
    }
}
