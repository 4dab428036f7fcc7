package dev.flexsc.nativeimpl.uring;

import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.Engine;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * io_uring made unavailable the way containers do it: a child JVM runs under a seccomp
 * filter (target/test-bin/seccomp_exec) that fails io_uring_setup with EPERM or ENOSYS.
 * The probe must say why, and AUTO must pass on to SYSCALL_THREADS.
 */
class UringAvailabilityTest {
    private static final Path HELPER = Path.of("target/test-bin/seccomp_exec");

    @ParameterizedTest(name = "io_uring_setup fails with {1}")
    @CsvSource({"1, EPERM", "38, ENOSYS"})
    @Timeout(60)
    void aSeccompFilterMakesBothEnginesUnavailableAndAutoFallsBack(int errno, String symbol) throws Exception {
        TestSupport.assumeAvailable(Engine.IO_URING); // else there is nothing to take away
        Assumptions.assumeTrue(Files.isExecutable(HELPER), "seccomp helper not built: " + HELPER.toAbsolutePath());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(HELPER.toString(), String.valueOf(errno), java,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ProbeMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(50, TimeUnit.SECONDS), "child JVM hung: " + out);
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        for (Engine e : List.of(Engine.IO_URING_SQPOLL, Engine.IO_URING)) {
            String line = lines.stream().filter(l -> l.startsWith("PROBE " + e + " ")).findFirst().orElseThrow(
                    () -> new AssertionError("no probe line for " + e + ": " + out));
            assertTrue(line.startsWith("PROBE " + e + " false io_uring_setup("), line);
            assertTrue(line.contains(symbol), "the reason does not name " + symbol + ": " + line);
            assertTrue(line.contains("seccomp"), "the reason does not mention the seccomp filter: " + line);
        }
        String auto = lines.stream().filter(l -> l.startsWith("AUTO ")).findFirst().orElseThrow(
                () -> new AssertionError("AUTO did not open: " + out));
        assertTrue(auto.startsWith("AUTO SYSCALL_THREADS pid="), auto);
        String[] pids = auto.substring(auto.indexOf("pid=") + 4).split(" self=");
        assertEquals(pids[1].trim(), pids[0].trim(), "getpid through the fallback engine");
        System.out.println("seccomp " + symbol + ": " + lines.stream().filter(l -> l.startsWith("PROBE IO_URING ")).findFirst().orElse(""));
    }

    // AUTO's order follows the configuration's CPUs, not the processor count (Engine.autoOrder):
    // one user CPU and one syscall CPU are two, too few for the SQ poller, however many the JVM
    // sees. A configuration of more than two (SQPOLL first) is EngineOrderTest's.
    @ParameterizedTest(name = "{0} CPUs, a configuration of two: AUTO opens {1}")
    @CsvSource({"1, IO_URING", "2, IO_URING", "3, IO_URING", "16, IO_URING"})
    @Timeout(60)
    void autoLeavesTheSqPollerOutOnTwoCpusOrFewer(int cpus, Engine expected) throws Exception {
        TestSupport.assumeAvailable(Engine.IO_URING);
        TestSupport.assumeAvailable(Engine.IO_URING_SQPOLL);
        Assumptions.assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs 2 CPUs (one for the SQ poller)");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The child JVM sees `cpus` CPUs (Runtime.availableProcessors), as in a container limited
        // to them; its engine uses CPUs 0 and 1 whatever that count says.
        Process p = new ProcessBuilder(java, "-XX:ActiveProcessorCount=" + cpus, "-Dflexsc.userCpus=0",
                "-Dflexsc.syscallCpus=1", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ProbeMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(50, TimeUnit.SECONDS), "child JVM hung: " + out);
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        // With the kernel module loaded (the QEMU guest), AUTO takes it first whatever the CPUs.
        boolean module = lines.stream().anyMatch(l -> l.startsWith("PROBE KERNEL_MODULE true"));
        String auto = lines.stream().filter(l -> l.startsWith("AUTO ")).findFirst().orElseThrow(
                () -> new AssertionError("AUTO did not open: " + out));
        assertTrue(auto.startsWith("AUTO " + (module ? Engine.KERNEL_MODULE : expected) + " pid="), auto);
    }

    @org.junit.jupiter.api.Test
    void theDisableSwitchIsAReason() throws IOException {
        String old = System.getProperty(UringAvailability.DISABLE_PROPERTY);
        System.setProperty(UringAvailability.DISABLE_PROPERTY, "true");
        try {
            assertEquals("disabled by -Dflexsc.uring.disable=true", new UringProvider().unavailabilityCause());
            assertEquals("disabled by -Dflexsc.uring.disable=true", new UringSqpollProvider().unavailabilityCause());
            try (var e = dev.flexsc.Flexsc.open()) {
                assertEquals(Engine.SYSCALL_THREADS, e.engine());
            }
        } finally {
            if (old == null) System.clearProperty(UringAvailability.DISABLE_PROPERTY);
            else System.setProperty(UringAvailability.DISABLE_PROPERTY, old);
        }
    }
}
