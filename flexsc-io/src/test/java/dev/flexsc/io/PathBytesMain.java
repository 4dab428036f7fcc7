package dev.flexsc.io;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * {@link PathBytesTest}'s child JVM, started with {@code LANG=C}: creates files whose names
 * are UTF-8 and not UTF-8 in the directory named by the argument, then checks that FlexSC's
 * path calls act on the same files as {@link java.nio.file.Files}. Exit 0: they do; 1: they
 * do not (the differences printed); 77: the JVM did not pick an ASCII file-name encoding.
 */
public final class PathBytesMain {
    private PathBytesMain() {}

    public static void main(String[] args) throws Exception {
        String jnu = System.getProperty("sun.jnu.encoding");
        System.out.println("sun.jnu.encoding=" + jnu);
        if (!"ANSI_X3.4-1968".equals(jnu) && !"US-ASCII".equals(jnu)) {
            System.out.println("the child JVM did not use an ASCII file-name encoding under LANG=C");
            System.exit(77);
        }
        Path dir = Path.of(args[0]);
        PathBytesTest.createRaw(dir, "caf\u00e9".getBytes(StandardCharsets.UTF_8), "utf-8");
        PathBytesTest.createRaw(dir, new byte[] {'b', 'a', 'd', (byte) 0xff}, "not utf-8");
        PathBytesTest.createRaw(dir, "plain".getBytes(StandardCharsets.US_ASCII), "ascii");
        List<String> diffs = PathBytesTest.compareWithFiles(dir);
        diffs.forEach(System.out::println);
        System.exit(diffs.isEmpty() ? 0 : 1);
    }
}
