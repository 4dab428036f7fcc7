package dev.flexsc.spi.page;

import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CarrierContext;

import java.io.IOException;

/**
 * A page engine's carrier groups, the carrier-local mode (the FlexSC paper's single-core
 * mode): groups {@code [first, first + cpus.length)} of the registration belong to no caller
 * thread; group {@code first + i} belongs to CPU {@code cpus[i]} and is lent whole to the
 * carrier pinned there as its {@link CarrierContext} ({@link GroupContext}), so that the
 * green threads of that carrier post their calls there and the carrier itself runs them, in
 * its own kernel entry ({@link LocalExecution}), when it polls and when it idles. A carrier
 * whose CPU has no group, or whose CPU's group is lent already (a compensating carrier on the
 * CPU of the carrier it stands in for, a second scheduler's carrier), gets none: its threads
 * use the syscall threads' groups, the multi-core mode.
 *
 * <p>Thread-safe: lending and giving back are synchronized (once per carrier and engine).
 */
final class CarrierGroups implements CarrierContext.Provider {
    /** Thrown for every open with no group free: stackless, a carrier may ask again per call. */
    private static final IOException NONE_FREE = new IOException("no carrier group free for this carrier's CPU") {
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // shared and thrown often: no stack
        }
    };

    private final PageEngine engine;
    private final LocalExecution local;
    private final int first;
    /** The CPU of each carrier group, by {@code group - first}. */
    private final int[] cpus;
    private final boolean[] lent;

    CarrierGroups(PageEngine engine, LocalExecution local, int first, int[] cpus) {
        this.engine = engine;
        this.local = local;
        this.first = first;
        this.cpus = cpus.clone();
        this.lent = new boolean[cpus.length];
    }

    /** Carrier groups in all. */
    int count() {
        return lent.length;
    }

    @Override
    public CarrierContext openContext(CallCarrier carrier) throws IOException {
        if (engine.closing()) throw new IOException("the engine is closed");
        int g = take(carrier.cpu());
        if (g < 0) throw NONE_FREE;
        return new GroupContext(engine, this, local, g);
    }

    /** Lends the group of {@code cpu} if it has one and it is free; -1 otherwise. */
    private synchronized int take(int cpu) {
        for (int i = 0; i < cpus.length; i++) {
            if (cpus[i] == cpu) {
                if (lent[i]) return -1;
                lent[i] = true;
                return first + i;
            }
        }
        return -1;
    }
    /** A closed context gives its group back (its entries are free or belong to threads that never run again). */
    synchronized void giveBack(int g) {
        lent[g - first] = false;
    }

    /** Groups lent now (tests, statistics). */
    synchronized int lentNow() {
        int n = 0;
        for (boolean b : lent) if (b) n++;
        return n;
    }
}
