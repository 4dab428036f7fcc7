package dev.flexsc.spi.page;

import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CarrierContext;

import java.io.IOException;

/**
 * A page engine's carrier groups, the carrier-local mode (the FlexSC paper's single-core
 * mode): groups {@code [first, first + count)} of the registration belong to no caller
 * thread; each is lent whole to one carrier as its {@link CarrierContext}
 * ({@link GroupContext}), so that the green threads of that carrier post their calls there
 * and the carrier itself runs them, in its own kernel entry ({@link LocalExecution}), when
 * it polls and when it idles. A carrier that finds no group free (more carriers than
 * groups, a compensating carrier) gets none: its threads use the syscall threads' groups,
 * the multi-core mode.
 *
 * <p>Thread-safe: lending and giving back are synchronized (once per carrier and engine).
 */
final class CarrierGroups implements CarrierContext.Provider {
    /** Thrown for every open with no group free: stackless, a carrier may ask again per call. */
    private static final IOException NONE_FREE = new IOException("no carrier group free") {
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // shared and thrown often: no stack
        }
    };

    private final PageEngine engine;
    private final LocalExecution local;
    private final int first;
    private final boolean[] lent;

    CarrierGroups(PageEngine engine, LocalExecution local, int first, int count) {
        this.engine = engine;
        this.local = local;
        this.first = first;
        this.lent = new boolean[count];
    }

    /** Carrier groups in all. */
    int count() {
        return lent.length;
    }

    @Override
    public CarrierContext openContext(CallCarrier carrier) throws IOException {
        if (engine.closing()) throw new IOException("the engine is closed");
        int g = take();
        if (g < 0) throw NONE_FREE;
        return new GroupContext(engine, this, local, g);
    }

    private synchronized int take() {
        for (int i = 0; i < lent.length; i++) {
            if (!lent[i]) {
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
