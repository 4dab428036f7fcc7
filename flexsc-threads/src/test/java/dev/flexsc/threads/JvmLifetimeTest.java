package dev.flexsc.threads;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JVM lives as long with FlexscExecutors as with Executors: each scenario of
 * {@link JvmLifetimeMain} runs in a child JVM for both APIs. Pools whose threads are
 * non-daemon in the JDK (fixed, single, scheduled, cached until its threads time out,
 * defaultThreadFactory threads) must let their work print before the JVM exits; the
 * virtual-thread-per-task executor and the work-stealing pool, whose JDK threads are daemon
 * threads, must not keep it alive (their work would take a minute). No run may print a
 * warning on stderr (the JDK's, for instance, when a library touches sun.misc.Unsafe).
 */
class JvmLifetimeTest {
    /** Scenarios whose work must have printed "task N done" (N = 1..count) before exit. */
    static Stream<Arguments> mustFinishTheirWork() {
        return ExecutorsApi.both().stream().flatMap(api -> Stream.of(
                Arguments.of(api, "fixed-work", 3),
                Arguments.of(api, "single-work", 2),
                Arguments.of(api, "scheduled-work", 1),
                Arguments.of(api, "cached-timeout", 1),
                Arguments.of(api, "factory-thread", 1)));
    }

    /** Scenarios whose JVM must exit without waiting for their work. */
    static Stream<Arguments> mustExit() {
        return ExecutorsApi.both().stream().flatMap(api -> Stream.of(
                Arguments.of(api, "virtual-per-task"),
                Arguments.of(api, "work-stealing"),
                Arguments.of(api, "factory-unstarted")));
    }

    record Outcome(int exit, List<String> out, String err) {}

    private static Outcome run(ExecutorsApi api, String scenario) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        File err = File.createTempFile("jvm-lifetime", ".err");
        try {
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Xmx64m", "-XX:TieredStopAtLevel=1",
                    "-cp", System.getProperty("java.class.path"), JvmLifetimeMain.class.getName(),
                    api.toString(), scenario)
                    .redirectError(err).start();
            p.getOutputStream().close();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                fail(api + " " + scenario + ": the JVM did not exit within 30 s; stdout: "
                        + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            List<String> out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            String stderr = Files.readString(err.toPath());
            // The jars load without warnings (JCTools' Unsafe-based queues printed four lines).
            assertFalse(stderr.contains("WARNING"), api + " " + scenario + " printed warnings:\n" + stderr);
            return new Outcome(p.exitValue(), out, stderr);
        } finally {
            Files.deleteIfExists(err.toPath());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("mustFinishTheirWork")
    @Timeout(60)
    void theJvmWaitsForThePoolsWork(ExecutorsApi api, String scenario, int tasks) throws Exception {
        Outcome o = run(api, scenario);
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("main returns"), o.out().toString());
        for (int i = 1; i <= tasks; i++) {
            assertTrue(o.out().contains("task " + i + " done"), "the JVM exited before task " + i + " ran: " + o.out());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.flexsc.threads.ExecutorsApi#both")
    @Timeout(60)
    void anIdleFixedPoolKeepsTheJvmAliveUntilShutdown(ExecutorsApi api) throws Exception {
        Outcome o = run(api, "fixed-idle");
        assertEquals(0, o.exit(), o.err());
        assertTrue(o.out().contains("task 1 done"), o.out().toString());
        assertTrue(o.out().contains("still alive"), "the JVM exited while the idle pool was not shut down: " + o.out());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("mustExit")
    @Timeout(60)
    void theJvmDoesNotWaitForDaemonWork(ExecutorsApi api, String scenario) throws Exception {
        Outcome o = run(api, scenario); // fails if the JVM is still alive after 30 s
        assertEquals(0, o.exit(), o.err());
        assertEquals(List.of("main returns"), o.out());
    }
}
