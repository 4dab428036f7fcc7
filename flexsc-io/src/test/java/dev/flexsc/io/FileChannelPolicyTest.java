package dev.flexsc.io;

import dev.flexsc.CallPolicy;
import dev.flexsc.EngineStats;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A FlexscFileChannel on a regular file under the default policy: its reads and writes at the
 * position are the plain system calls, one each ({@code syscw} of /proc/thread-self/io
 * counts the writes), made directly, never posted, and never tried without waiting first.
 */
class FileChannelPolicyTest {
    private static final int CALLS = 50;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void writesAtThePositionOfARegularFileAreOnePlainCallEach() throws Exception {
        TestSupport.assumeThreadIo();
        TestSupport.onEachEngine(CallPolicy.ADAPTIVE, (kind, e) -> {
            Path f = dir.resolve("f-" + kind);
            try (FlexscFileChannel ch = FlexscFileChannel.open(e, f, CREATE_NEW, WRITE, READ)) {
                ByteBuffer one = ByteBuffer.allocateDirect(64);
                ByteBuffer[] two = {ByteBuffer.allocateDirect(32), ByteBuffer.allocateDirect(32)};
                EngineStats before = e.stats();
                long syscw = TestSupport.threadSyscw();
                for (int i = 0; i < CALLS; i++) {
                    while (one.hasRemaining()) one.put((byte) i);
                    assertEquals(64, ch.write(one.flip()));
                    one.clear();
                    for (ByteBuffer b : two) {
                        b.clear();
                        while (b.hasRemaining()) b.put((byte) ~i);
                        b.flip();
                    }
                    assertEquals(64, ch.write(two)); // writev
                }
                long madeCalls = TestSupport.threadSyscw() - syscw;
                EngineStats after = e.stats();
                assertEquals(2L * CALLS, madeCalls, kind + ": write-class calls by this thread");
                assertEquals(0, after.posted() - before.posted(), kind + ": " + after);
                // The writes and the one fstat that told the channel its file's kind.
                assertEquals(2L * CALLS + 1, after.direct() - before.direct(), kind + ": " + after);
                byte[] got = Files.readAllBytes(f);
                assertEquals(128 * CALLS, got.length);
                for (int i = 0; i < CALLS; i++) {
                    assertEquals((byte) i, got[128 * i + 63], "write " + i);
                    assertEquals((byte) ~i, got[128 * i + 127], "writev " + i);
                }
                // Reads at the position: the plain read, directly.
                ch.position(0);
                ByteBuffer back = ByteBuffer.allocateDirect(128);
                long direct = e.stats().direct(), posted = e.stats().posted();
                for (int i = 0; i < CALLS; i++) {
                    assertEquals(128, ch.read(back.clear()));
                    assertEquals((byte) ~i, back.get(127));
                }
                assertEquals(posted, e.stats().posted(), kind + ": " + e.stats());
                assertEquals(direct + CALLS, e.stats().direct(), kind + ": " + e.stats());
            }
        });
    }
}
