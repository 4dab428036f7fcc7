package dev.flexsc.threads;

import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.GreenThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import dev.flexsc.nativeimpl.TestSupport;

/**
 * The green-thread hook ({@link GreenThreads}) is installed by a scheduler that starts, not
 * by loading the scheduler's class, and it finds the carrier of the scheduler's threads
 * only. Run in a child JVM: this test JVM's other tests start schedulers.
 */
class GreenThreadsInstallTest {
    /** The child: prints one line per step. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Class.forName(FlexscScheduler.class.getName(), true, Child.class.getClassLoader());
            System.out.println("after class loading: installed=" + GreenThreads.isInstalled());
            try (FlexscScheduler s = FlexscScheduler.open(TestSupport.config())) {
                System.out.println("after start: installed=" + GreenThreads.isInstalled());
                CallCarrier[] seen = new CallCarrier[1];
                Thread t = s.startVirtualThread(() -> seen[0] = GreenThreads.currentCarrier());
                t.join();
                System.out.println("green thread: carrier=" + (seen[0] instanceof CarrierThread));
                System.out.println("platform thread: carrier=" + GreenThreads.currentCarrier());
                Thread.ofVirtual().start(() -> seen[0] = GreenThreads.currentCarrier()).join();
                System.out.println("stock virtual thread: carrier=" + seen[0]);
            }
        }
    }

    @Test
    @Timeout(60)
    void aStartingSchedulerInstallsTheHookAndOnlyItsThreadsHaveACarrier() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Child.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(50, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("after class loading: installed=false"), out);
        assertTrue(out.contains("after start: installed=true"), out);
        assertTrue(out.contains("green thread: carrier=true"), out);
        assertTrue(out.contains("platform thread: carrier=null"), out);
        assertTrue(out.contains("stock virtual thread: carrier=null"), out);
    }
}
