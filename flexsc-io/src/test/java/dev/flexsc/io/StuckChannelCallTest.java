package dev.flexsc.io;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.HeldPageEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A channel call stuck in the kernel when the engine's close gives up on it: the native
 * buffer a heap ByteBuffer's bytes go through (lent by {@link NativeBuffers}) must not go
 * back to the pool, where the next call would get memory the stuck call still writes.
 */
class StuckChannelCallTest {
    @TempDir
    Path dir;

    /** Addresses of every buffer of {@code size}'s pool class, taken out and given back. */
    private static Set<Long> pooled(int size) {
        List<NativeBuffers.Lease> all = new ArrayList<>();
        Set<Long> out = new HashSet<>();
        for (int i = 0; i < NativeBuffers.PER_CLASS * 2; i++) {
            NativeBuffers.Lease l = NativeBuffers.take(size);
            all.add(l);
            out.add(l.segment().address());
        }
        all.forEach(NativeBuffers.Lease::close);
        return out;
    }

    @Test
    @Timeout(30)
    void theNativeCopyOfAHeapBufferIsNotPooledWhileItsCallMayWriteIt() throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[8192]);
        HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.PREAD64, 200);
        FlexscFileChannel ch = FlexscFileChannel.open(e.syscalls(), f, READ); // openat runs, pread64 is held
        ByteBuffer heap = ByteBuffer.allocate(4096);
        AtomicReference<Object> out = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                out.set(ch.read(heap, 0));
            } catch (Throwable x) {
                out.set(x);
            }
        });
        HeldPageEngine.Held h = e.awaitHeld(5000);
        assertNotNull(h, "pread64 was not posted");
        e.close(); // gives up on the held call after 200 ms
        Thread.sleep(300);
        Object early = out.get();
        boolean pooled = pooled(4096).contains(h.args()[1]);
        assertFalse(pooled, "the buffer a stuck pread64 writes went back to the pool (the read returned " + early + ")");
        assertNull(early, "the read returned while its call may still write its native copy");
        MemorySegment.ofAddress(h.args()[1]).reinterpret(4096).fill((byte) 9);
        e.complete(h, 4096);
        t.join(5000);
        assertEquals(4096, out.get());
        assertEquals(9, heap.get(4095));
    }
}
