package dev.flexsc.bench.soak;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file whose every byte is a function of its offset ({@link #byteAt}), so that a read of
 * {@code (offset, length)} has one right answer: a completion handed to another caller (who
 * read elsewhere, or another length) shows up as wrong bytes or a wrong count.
 */
final class DataFile {
    static final long SIZE = 8L << 20;

    final Path path;

    private DataFile(Path path) {
        this.path = path;
    }

    static DataFile create(Path dir) throws IOException {
        Path p = dir.resolve("data");
        byte[] chunk = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(p)) {
            for (long base = 0; base < SIZE; base += chunk.length) {
                for (int i = 0; i < chunk.length; i++) chunk[i] = byteAt(base + i);
                out.write(chunk);
            }
        }
        return new DataFile(p);
    }

    /** The byte at {@code offset}: a hash of it, so that no two nearby regions look alike. */
    static byte byteAt(long offset) {
        long x = offset * 0x9E3779B97F4A7C15L;
        return (byte) ((x >>> 40) ^ (offset >>> 12));
    }

    /** -1 if {@code seg[0, length)} holds the file's bytes from {@code offset}, else the first index that does not. */
    static long mismatch(MemorySegment seg, long offset, long length) {
        for (long i = 0; i < length; i++) {
            if (seg.get(ValueLayout.JAVA_BYTE, i) != byteAt(offset + i)) return i;
        }
        return -1;
    }

    /** As {@link #mismatch(MemorySegment, long, long)} for {@code b[0, length)}. */
    static int mismatch(byte[] b, long offset, int length) {
        for (int i = 0; i < length; i++) {
            if (b[i] != byteAt(offset + i)) return i;
        }
        return -1;
    }
}
