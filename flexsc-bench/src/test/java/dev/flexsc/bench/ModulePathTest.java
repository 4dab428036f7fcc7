package dev.flexsc.bench;

import dev.flexsc.Flexsc;
import dev.flexsc.io.FlexscFiles;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.threads.FlexscExecutors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The published jars work on the module path: a small application module, compiled here
 * against the jars of flexsc-core, -native, -threads and -io and their dependencies (JNA as an
 * automatic module, JCTools), runs in its own JVM with only a module path. It finds the engines
 * through the {@code provides}/{@code uses} pair, opens one and makes calls, reads a file on a
 * green thread through {@code dev.flexsc.io}, and sees that the engines' package is not exported
 * to it; the JVM prints no warning. Launched without {@code --add-opens}, the scheduler's reason
 * names the flag with the module's name.
 */
class ModulePathTest {
    private static final String MODULE_INFO = """
            module flexsc.smoke {
                requires dev.flexsc.threads;
                requires dev.flexsc.io;
            }
            """;
    private static final String MAIN = """
            package smoke;

            import dev.flexsc.*;
            import dev.flexsc.io.FlexscFiles;
            import dev.flexsc.threads.FlexscExecutors;
            import java.nio.file.Path;
            import java.util.concurrent.*;
            import static dev.flexsc.AtFlags.AT_FDCWD;
            import static dev.flexsc.OpenFlags.*;

            public final class Main {
                public static void main(String[] args) throws Exception {
                    if (args.length > 1) { // launched without the scheduler's flag
                        System.out.println("scheduler: " + dev.flexsc.threads.FlexscScheduler.unavailabilityCause());
                        return;
                    }
                    for (EngineAvailability a : Flexsc.probe()) System.out.println("probe " + a.engine() + " " + a.available());
                    FlexscConfig cfg = FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).build();
                    try (FlexscEngine e = Flexsc.open(cfg)) {
                        Syscalls sys = e.syscalls();
                        int fd = sys.openat(AT_FDCWD, args[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        sys.write(fd, "through the module path".getBytes());
                        sys.close(fd);
                    }
                    ExecutorService pool = FlexscExecutors.newFixedThreadPool(2);
                    Future<byte[]> read = pool.submit(() -> FlexscFiles.readAllBytes(Path.of(args[0])));
                    System.out.println("read " + new String(read.get(60, TimeUnit.SECONDS)));
                    pool.shutdown();
                    Module engines = Class.forName("dev.flexsc.nativeimpl.DirectSyscalls").getModule();
                    System.out.println("module " + engines.getName() + " exports its engines to us: "
                            + engines.isExported("dev.flexsc.nativeimpl", Main.class.getModule()));
                }
            }
            """;

    @Test
    void theJarsRunAnApplicationModuleOnTheModulePath(@TempDir Path dir) throws Exception {
        // The jars (or class directories) the test itself runs with, one per module.
        Set<String> path = new LinkedHashSet<>();
        for (Class<?> c : List.of(Flexsc.class, DirectSyscalls.class, FlexscExecutors.class, FlexscFiles.class,
                com.sun.jna.Native.class, org.jctools.queues.varhandle.MpmcVarHandleArrayQueue.class,
                org.jctools.queues.MpmcArrayQueue.class)) {
            path.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        for (String p : path) {
            Path at = Path.of(p);
            boolean descriptor = Files.isDirectory(at) ? Files.exists(at.resolve("module-info.class")) : true;
            // A build that stops before package (mvn test) has class directories without the
            // descriptors, which are compiled at prepare-package (the parent pom says why).
            Assumptions.assumeTrue(descriptor, "no module descriptor in " + p
                    + ": the modules are compiled at prepare-package; run mvn install or ./flexsc test");
        }
        String modulePath = String.join(java.io.File.pathSeparator, path);

        Path src = dir.resolve("src"), out = dir.resolve("out");
        Files.createDirectories(src.resolve("smoke"));
        Files.writeString(src.resolve("module-info.java"), MODULE_INFO);
        Files.writeString(src.resolve("smoke/Main.java"), MAIN);
        ByteArrayOutputStream javacOut = new ByteArrayOutputStream();
        int javac = ToolProvider.getSystemJavaCompiler().run(null, javacOut, javacOut,
                "--module-path", modulePath, "-d", out.toString(),
                src.resolve("module-info.java").toString(), src.resolve("smoke/Main.java").toString());
        assertEquals(0, javac, "javac on the module path: " + javacOut.toString(StandardCharsets.UTF_8));

        Path file = dir.resolve("written");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", out + java.io.File.pathSeparator + modulePath,
                // The module-path spellings of the flags a class-path launch gives ALL-UNNAMED.
                "--add-opens", "java.base/java.lang=dev.flexsc.threads",
                "--enable-native-access=dev.flexsc,dev.flexsc.nativeimpl,com.sun.jna",
                "-m", "flexsc.smoke/smoke.Main", file.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile())
                .redirectOutput(dir.resolve("stdout").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the module-path application did not finish in 120 s");
        }
        String stdout = Files.readString(dir.resolve("stdout")), stderr = Files.readString(dir.resolve("stderr"));
        String both = "stdout:\n" + stdout + "\nstderr:\n" + stderr;
        assertEquals(0, p.exitValue(), both);
        assertTrue(stdout.contains("probe SYSCALL_THREADS true"), "the providers were not found: " + both);
        assertTrue(stdout.contains("read through the module path"), both);
        assertTrue(stdout.contains("module dev.flexsc.nativeimpl exports its engines to us: false"), both);
        assertFalse(stderr.contains("WARNING"), "the JVM warned: " + both);
        assertEquals("through the module path", Files.readString(file));

        // Without --add-opens, the scheduler's reason names the flag as the module path spells it.
        Process q = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", out + java.io.File.pathSeparator + modulePath,
                "--enable-native-access=dev.flexsc,dev.flexsc.nativeimpl,com.sun.jna",
                "-m", "flexsc.smoke/smoke.Main", file.toString(), "no-add-opens")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout2").toFile()).start();
        if (!q.waitFor(120, TimeUnit.SECONDS)) {
            q.destroyForcibly();
            fail("the module-path application without --add-opens did not finish in 120 s");
        }
        String out2 = Files.readString(dir.resolve("stdout2"));
        assertEquals(0, q.exitValue(), out2);
        assertTrue(out2.contains("scheduler: FlexSC threads need the JVM flag --add-opens java.base/java.lang=dev.flexsc.threads"),
                out2);
    }
}
