package dev.flexsc.threads;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JDK starts the thread that wakes timed-parked virtual threads of a custom scheduler
 * (one per timer queue, {@code VirtualThread-unparker}) at the first timed park that needs
 * it; if no thread can be created then (RLIMIT_NPROC, a pids cgroup at its limit), the
 * OutOfMemoryError escapes after the virtual thread yielded and that thread never runs
 * again: a Thread.sleep or a FlexSC call's timed wait hangs it for good (found by the
 * fault-injection soak's thread-limit phase). So a scheduler starts the timer threads when it
 * opens, where a failure is an exception from {@link FlexscScheduler#open}: in a fresh JVM,
 * the timer threads exist as soon as a scheduler does.
 */
class TimerThreadsTest {
    @Test
    @Timeout(60)
    void openingASchedulerStartsTheJdksTimerThreads() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "-Djdk.virtualThreadScheduler.timerQueues=2", "-cp", System.getProperty("java.class.path"),
                TimerThreadsMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.lines().anyMatch(l -> l.equals("UNPARKERS 2")), "expected both timer threads of"
                + " jdk.virtualThreadScheduler.timerQueues=2 to run once a scheduler is open: " + out);
    }
}
