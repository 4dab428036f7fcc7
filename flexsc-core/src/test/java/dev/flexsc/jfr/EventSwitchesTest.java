package dev.flexsc.jfr;

import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link EventSwitches#batchReaped()} is asked on the call path (a carrier's first reap), so
 * with no recording it must not initialize JFR: that loads JFR's metadata (hundreds of
 * milliseconds alone, seconds on a loaded machine) inside the class's initializer, while every
 * other green thread reaching it waits for that initializer on its carrier. With a recording
 * that enables the event, it must say so.
 */
class EventSwitchesTest {
    /** The child JVM: asks the switch with no recording and prints the answer. */
    public static final class NoRecording {
        public static void main(String[] args) {
            System.out.println("ENABLED " + EventSwitches.batchReaped());
        }
    }

    @Test
    @Timeout(120)
    void withNoRecordingEnabledDoesNotInitializeJfr() throws Exception {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"), NoRecording.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.lines().anyMatch(l -> l.equals("ENABLED false")), out);
        List<String> jfrInit = out.lines().filter(l -> l.contains("jdk.jfr.internal.MetadataRepository ")).toList();
        assertEquals(List.of(), jfrInit, "the switch initialized JFR's metadata with no recording");
    }

    @Test
    @Timeout(60)
    void aRecordingThatEnablesTheEventTurnsItOn() {
        try (Recording r = new Recording()) {
            r.enable("dev.flexsc.BatchReaped");
            r.start();
            assertTrue(EventSwitches.batchReaped());
            assertTrue(BatchReaped.enabled());
            r.stop();
        }
    }
}
