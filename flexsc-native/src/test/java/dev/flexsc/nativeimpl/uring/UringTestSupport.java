package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import org.junit.jupiter.api.Assumptions;

/** Helpers for the io_uring tests. */
final class UringTestSupport {
    private UringTestSupport() {}

    /** Skips the test, printing why, where the kernel or a policy does not allow this engine. */
    static void assumeAvailable(Engine kind) {
        String why = UringAvailability.unavailabilityCause(kind);
        if (why != null) {
            System.out.println("SKIP " + kind + ": " + why);
        }
        Assumptions.assumeTrue(why == null, () -> kind + " unavailable: " + why);
    }
}
