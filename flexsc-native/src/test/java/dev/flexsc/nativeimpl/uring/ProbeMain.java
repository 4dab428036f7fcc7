package dev.flexsc.nativeimpl.uring;

import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscEngine;

/**
 * Run in a child JVM by {@link UringAvailabilityTest}: prints Flexsc.probe() one engine a
 * line ("PROBE ..."), then opens AUTO (with any -Dflexsc.* settings) and prints the engine it got ("AUTO ...") and the
 * result of one call through it.
 */
public final class ProbeMain {
    private ProbeMain() {}

    public static void main(String[] args) throws Exception {
        for (EngineAvailability a : Flexsc.probe()) {
            System.out.println("PROBE " + a.engine() + " " + a.available() + " " + a.reason());
        }
        // The configuration from -Dflexsc.* (the defaults without any)
        try (FlexscEngine e = Flexsc.open(dev.flexsc.FlexscConfig.fromSystemProperties())) {
            System.out.println("AUTO " + e.engine() + " pid=" + e.syscalls().getpid() + " self=" + ProcessHandle.current().pid());
        }
    }
}
