package dev.flexsc;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The default CPUs come from the CPUs the process may run on, not from 0..availableProcessors-1. */
class DefaultCpusTest {
    @Test
    void theDefaultsTakeTheAllowedCpusUpToTheQuota() {
        assertArrayEquals(new int[] {4, 5}, FlexscConfig.defaultCpus(new int[] {4, 5}, 2));
        assertArrayEquals(new int[] {2, 3}, FlexscConfig.defaultCpus(new int[] {2, 3, 8, 9}, 2), "a quota of 2 CPUs");
        assertArrayEquals(new int[] {7}, FlexscConfig.defaultCpus(new int[] {7}, 16));
        assertArrayEquals(new int[] {0, 1, 2}, FlexscConfig.defaultCpus(new int[0], 3), "no readable set");
        assertArrayEquals(new int[] {0}, FlexscConfig.defaultCpus(new int[0], 0));
    }

    @Test
    void theAllowedCpusAreThisProcesssAffinity() throws Exception {
        int[] allowed = FlexscConfig.allowedCpus();
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "no /proc/self/status (not Linux)");
        assertTrue(allowed.length >= 1, "Cpus_allowed_list not read");
        assertTrue(Arrays.stream(allowed).allMatch(c -> c >= 0 && c < 1024), Arrays.toString(allowed));
        for (int i = 1; i < allowed.length; i++) assertTrue(allowed[i] > allowed[i - 1], "ascending: " + Arrays.toString(allowed));
        FlexscConfig d = FlexscConfig.defaults();
        int[] both = java.util.stream.IntStream.concat(Arrays.stream(d.userCpus()), Arrays.stream(d.syscallCpus())).toArray();
        for (int c : both) assertTrue(Arrays.stream(allowed).anyMatch(a -> a == c), "CPU " + c + " not in " + Arrays.toString(allowed));
    }

    @Test
    void everyAllowedCpuCarriesGreenThreadsUnlessSyscallCpusAreNamed() {
        int[] cpus = FlexscConfig.defaultCpus(FlexscConfig.allowedCpus(), Runtime.getRuntime().availableProcessors());
        FlexscConfig d = FlexscConfig.defaults();
        assertArrayEquals(cpus, d.userCpus(), "carrier-local by default: every CPU runs a carrier");
        assertArrayEquals(new int[] {cpus[cpus.length - 1]}, d.syscallCpus(), "the syscall side shares the last CPU");
        Assumptions.assumeTrue(cpus.length >= 2, "needs two CPUs to set one aside, has " + Arrays.toString(cpus));
        FlexscConfig aside = FlexscConfig.builder().syscallCpus(cpus[0]).build();
        assertFalse(Arrays.stream(aside.userCpus()).anyMatch(c -> c == cpus[0]), "a named syscall CPU is set aside");
        assertEquals(cpus.length - 1, aside.userCpus().length);
        FlexscConfig shared = FlexscConfig.builder().syscallCpus(cpus[0]).userCpus(cpus).build();
        assertArrayEquals(cpus, shared.userCpus(), "naming both shares them");
    }

    /** Run by the test below in a JVM confined by taskset: prints the default CPUs. */
    public static void main(String[] args) {
        FlexscConfig d = FlexscConfig.defaults();
        System.out.println("user " + Arrays.toString(d.userCpus()) + " syscall " + Arrays.toString(d.syscallCpus()));
    }

    @Test
    @Timeout(60)
    void aJvmConfinedToOneCpuThatIsNotZeroUsesThatCpu() throws Exception {
        int[] allowed = FlexscConfig.allowedCpus();
        Assumptions.assumeTrue(allowed.length >= 2, "needs two allowed CPUs, has " + Arrays.toString(allowed));
        boolean taskset = Files.isExecutable(Path.of("/usr/bin/taskset")) || Files.isExecutable(Path.of("/bin/taskset"));
        if (!taskset) System.out.println("SKIP: taskset not installed");
        Assumptions.assumeTrue(taskset, "taskset not installed");
        int cpu = allowed[allowed.length - 1];
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("taskset", "-c", String.valueOf(cpu), java, "-cp", System.getProperty("java.class.path"),
                DefaultCpusTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(50, TimeUnit.SECONDS), "child JVM hung: " + out);
        assertEquals(0, p.exitValue(), out);
        // Before: availableProcessors() = 1 made the defaults CPU 0, outside the allowed set.
        assertTrue(out.endsWith("user [" + cpu + "] syscall [" + cpu + "]"), out);
    }
}
