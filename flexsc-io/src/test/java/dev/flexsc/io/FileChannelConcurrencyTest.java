package dev.flexsc.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Many green threads on one channel, parked in their calls at once: positional writes
 * and reads through heap buffers (pooled native memory lent while a thread is parked)
 * and direct ones, plus appends through the shared position. Every byte must land where
 * its writer put it, and no pooled buffer may be handed to two calls at once.
 */
class FileChannelConcurrencyTest extends IoRuntimeTest {

    @Test
    @Timeout(120)
    void greenThreadsWriteAndReadTheirOwnBlocks() throws Exception {
        Path f = dir.resolve("blocks");
        int threads = 200, blocks = 20, size = 3000; // 3000: not a pool size, so slices are exercised
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (FileChannel ch = FlexscFileChannel.open(rt.syscalls(), f, StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    ex.execute(() -> {
                        try {
                            for (int k = 0; k < blocks; k++) {
                                long at = ((long) k * threads + id) * size;
                                byte v = (byte) (id * 31 + k);
                                ByteBuffer w = (k % 2 == 0) ? ByteBuffer.allocate(size) : ByteBuffer.allocateDirect(size);
                                while (w.hasRemaining()) w.put(v);
                                w.flip();
                                assertEquals(size, ch.write(w, at));
                                ByteBuffer r = (k % 3 == 0) ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
                                assertEquals(size, ch.read(r, at));
                                for (int i = 0; i < size; i++) {
                                    if (r.get(i) != v) throw new AssertionError("thread " + id + " block " + k + " byte " + i);
                                }
                            }
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    });
                }
            }
            assertTrue(errors.isEmpty(), () -> errors.size() + " errors, first: " + errors.peek());
            assertEquals((long) threads * blocks * size, ch.size());
        }
        byte[] all = Files.readAllBytes(f);
        for (int k = 0; k < blocks; k++) {
            for (int t = 0; t < threads; t++) {
                int at = (k * threads + t) * size;
                assertEquals((byte) (t * 31 + k), all[at]);
                assertEquals((byte) (t * 31 + k), all[at + size - 1]);
            }
        }
    }

    @Test
    @Timeout(120)
    void appendsFromManyGreenThreadsNeverOverlap() throws Exception {
        Path f = dir.resolve("log");
        int threads = 100, lines = 50;
        try (FileChannel ch = FlexscFileChannel.open(rt.syscalls(), f, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    ex.execute(() -> {
                        for (int k = 0; k < lines; k++) {
                            try {
                                ch.write(ByteBuffer.wrap(String.format("%04d:%04d\n", id, k).getBytes()));
                            } catch (Exception e) {
                                throw new AssertionError(e);
                            }
                        }
                    });
                }
            }
        }
        var seen = new java.util.HashSet<String>();
        for (String line : Files.readAllLines(f)) {
            assertTrue(line.matches("\\d{4}:\\d{4}"), "torn line: " + line);
            assertTrue(seen.add(line), "duplicate: " + line);
        }
        assertEquals(threads * lines, seen.size());
    }
}
