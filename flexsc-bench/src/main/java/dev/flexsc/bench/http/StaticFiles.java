package dev.flexsc.bench.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** The document root the HTTP benchmark serves: files of 1 KiB to 1 MiB with known contents. */
public final class StaticFiles {
    private StaticFiles() {}

    /** The files, by name and size. */
    public static final List<String> NAMES = List.of("1k.bin", "16k.bin", "256k.bin", "1m.bin");
    public static final int[] SIZES = {1 << 10, 16 << 10, 256 << 10, 1 << 20};

    /** Creates the files under {@code dir} (deterministic contents). */
    public static Path create(Path dir) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(2010);
        for (int i = 0; i < NAMES.size(); i++) {
            byte[] b = new byte[SIZES[i]];
            r.nextBytes(b);
            Files.write(dir.resolve(NAMES.get(i)), b);
        }
        return dir;
    }

    /** Deletes {@code dir} and the files in it (the document root holds no subdirectories). */
    public static void delete(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) Files.delete(f);
        }
        Files.delete(dir);
    }
}
