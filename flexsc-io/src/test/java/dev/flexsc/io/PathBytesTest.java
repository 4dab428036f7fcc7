package dev.flexsc.io;

import dev.flexsc.nativeimpl.DirectSyscalls;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.nio.file.StandardOpenOption.READ;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Path-based calls act on the file the JDK's {@code Path} names, whatever its bytes: a file
 * name that is not valid UTF-8 (made here with a direct syscall and raw bytes), and, in a
 * child JVM started with {@code LANG=C} (the JDK then decodes file names as ASCII), a UTF-8
 * name too. FlexscFiles and FlexscFileChannel must then do what {@link Files} does.
 */
class PathBytesTest {
    @TempDir
    Path dir;

    /** Creates {@code dir/name} (raw bytes) holding {@code content}, with direct syscalls. */
    static void createRaw(Path dir, byte[] name, String content) {
        byte[] d = dir.toString().getBytes(StandardCharsets.US_ASCII); // the temp dir is ASCII
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(d.length + 1L + name.length + 1L);
            MemorySegment.copy(d, 0, p, ValueLayout.JAVA_BYTE, 0, d.length);
            p.set(ValueLayout.JAVA_BYTE, d.length, (byte) '/');
            MemorySegment.copy(name, 0, p, ValueLayout.JAVA_BYTE, d.length + 1, name.length);
            long fd = DirectSyscalls.raw(257, -100, p.address(), 0101 | 01000 | 02000000, 0644, 0, 0);
            if (fd < 0) throw new IllegalStateException("openat: " + fd);
            byte[] c = content.getBytes(StandardCharsets.US_ASCII);
            MemorySegment b = a.allocate(Math.max(1, c.length));
            MemorySegment.copy(c, 0, b, ValueLayout.JAVA_BYTE, 0, c.length);
            DirectSyscalls.raw(1, fd, b.address(), c.length, 0, 0, 0);
            DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
        }
    }

    /**
     * Every FlexSC path call on every file of {@code dir} against {@link Files}; returns the
     * differences found (empty when FlexSC acts on the same files).
     */
    static List<String> compareWithFiles(Path dir) throws Exception {
        List<String> diffs = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        for (Path p : files) {
            String name = p.getFileName().toString();
            try {
                byte[] jdk = Files.readAllBytes(p);
                if (!java.util.Arrays.equals(jdk, FlexscFiles.readAllBytes(p))) diffs.add(name + ": readAllBytes differs");
                try (FlexscFileChannel ch = FlexscFileChannel.open(p, READ)) {
                    if (ch.size() != Files.size(p)) diffs.add(name + ": size differs");
                }
                Path copy = dir.resolve("copy-" + files.indexOf(p));
                FlexscFiles.copy(p, copy);
                if (!java.util.Arrays.equals(jdk, Files.readAllBytes(copy))) diffs.add(name + ": copy differs");
                FlexscFiles.writeString(copy, "replaced");
                FlexscFiles.copy(copy, p, StandardCopyOption.REPLACE_EXISTING); // unlinkat + openat of p
                if (!Files.readString(p).equals("replaced")) diffs.add(name + ": copy onto it differs");
                Files.delete(copy);
            } catch (Exception e) {
                diffs.add(name + ": " + e);
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.count() != files.size()) diffs.add("the directory holds other files now");
        }
        return diffs;
    }

    @Test
    void aFileNameThatIsNotUtf8IsTheOneActedOn() throws Exception {
        createRaw(dir, new byte[] {'b', 'a', 'd', (byte) 0xff}, "not utf-8");
        createRaw(dir, "caf\u00e9".getBytes(StandardCharsets.UTF_8), "utf-8");
        createRaw(dir, "plain".getBytes(StandardCharsets.US_ASCII), "ascii");
        assertEquals(List.of(), compareWithFiles(dir));
    }

    @Test
    void aJvmUnderLangCActsOnTheSameFilesAsFiles() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                PathBytesMain.class.getName(), dir.toString()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG") || k.equals("LANGUAGE"));
        pb.environment().put("LANG", "C");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM hung: " + out);
        if (p.exitValue() == 77) System.out.println("skipped: " + out);
        Assumptions.assumeFalse(p.exitValue() == 77, out);
        assertEquals(0, p.exitValue(), out);
    }
}
