package dev.flexsc.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * With no descriptor left, the calls that need one fail with EMFILE, not with
 * NoClassDefFoundError: the classes their error paths use are loaded before (a class read
 * from a directory, as this module's own are in its test run, needs a descriptor to load).
 * In a child JVM ({@link DescriptorsExhaustedMain}): the limit changes the whole process.
 */
class DescriptorsExhaustedTest {
    @Test
    @Timeout(120)
    void callsThatNeedADescriptorFailWithEmfile() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        assertTrue(cp.contains("flexsc-io" + File.separator + "target" + File.separator + "classes"),
                "this module's classes come from their directory: " + cp);
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(javaBin, "--enable-native-access=ALL-UNNAMED",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp", cp));
        String engine = System.getProperty("flexsc.test.engine");
        if (engine != null) cmd.add("-Dflexsc.test.engine=" + engine); // the engine under test, in the child too
        cmd.add(DescriptorsExhaustedMain.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM hung: " + out);
        System.out.print(out);
        assertEquals(0, p.exitValue(), out);
    }
}
