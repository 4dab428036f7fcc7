package dev.flexsc.nativeimpl.uring;

import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;

/** SyscallBatch over the io_uring engines: one submission for the batch, ring and direct calls mixed. */
class UringBatchTest {
    @TempDir
    Path dir;

    static UringEngine open(Engine kind, FlexscConfig cfg) throws IOException {
        TestSupport.assumeAvailable(kind);
        return UringEngine.open(kind, cfg);
    }

    static FlexscConfig config(Engine kind) {
        return FlexscConfig.builder().engine(kind)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build(); // tests the engine, not the call policy
    }

    /** Ring calls (pwrite, pread, fsync) and direct calls (getpid, lseek, pread on a bad descriptor) in one batch. */
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(60)
    void ringAndDirectCallsMixInOneBatch(Engine kind) throws Exception {
        try (UringEngine e = open(kind, config(kind)); Arena a = Arena.ofConfined()) {
            Syscalls d = DirectSyscalls.syscalls();
            int fd = d.openat(Syscalls.AT_FDCWD, dir.resolve("mixed").toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            MemorySegment out = bytes(a, "0123456789abcdef"), in = a.allocate(16);
            try (SyscallBatch b = e.syscalls().batch()) {
                SyscallBatch.Result pid = b.getpid();
                SyscallBatch.Result w = b.pwrite(fd, out, 100);
                SyscallBatch.Result bad = b.pread(9999, in, 0);
                SyscallBatch.Result seek = b.lseek(fd, 42, SEEK_SET);
                SyscallBatch.Result fs = b.fsync(fd);
                b.submitAndWait();
                assertEquals(d.getpid(), pid.get());
                assertEquals(16, w.get());
                assertEquals("pread64(fd=9999): EBADF, bad file descriptor",
                        assertThrows(ErrnoException.class, bad::get).getMessage());
                assertEquals(42, seek.get());
                assertEquals(0, fs.get());
                SyscallBatch.Result r = b.pread(fd, in, 100);
                b.submitAndWait();
                assertEquals(16, r.get());
                assertArrayEquals("0123456789abcdef".getBytes(), in.toArray(ValueLayout.JAVA_BYTE));
            }
            UringStats st = e.uringStats();
            assertTrue(st.directCalls().getOrDefault("getpid", 0L) >= 1, st.toString());
            assertTrue(st.directCalls().getOrDefault("lseek", 0L) >= 1, st.toString());
            assertTrue(st.ringCalls().getOrDefault("pwrite64", 0L) >= 1, st.toString());
            d.close(fd);
        }
    }

    /** IO_URING: a batch of 32 pwrites reaches the kernel in one io_uring_enter. */
    @Test
    @Timeout(60)
    void aBatchIsSubmittedWithOneEnter() throws Exception {
        try (UringEngine e = open(Engine.IO_URING, config(Engine.IO_URING)); Arena a = Arena.ofConfined()) {
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, dir.resolve("one").toString(),
                    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            MemorySegment buf = a.allocate(32 * 8);
            for (int i = 0; i < 32; i++) buf.set(ValueLayout.JAVA_LONG, i * 8L, 1000 + i);
            long enters0 = e.stats().batches();
            List<SyscallBatch.Result> rs = new ArrayList<>();
            try (SyscallBatch b = e.syscalls().batch()) {
                for (int i = 0; i < 32; i++) rs.add(b.pwrite(fd, buf.asSlice(i * 8L, 8), i * 8L));
                b.submitAndWait();
            }
            assertEquals(1, e.stats().batches() - enters0, "io_uring_enter calls that submitted");
            for (SyscallBatch.Result r : rs) assertEquals(8, r.get());
            byte[] file = Files.readAllBytes(dir.resolve("one"));
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.nativeOrder());
            for (int i = 0; i < 32; i++) assertEquals(1000 + i, bb.getLong(i * 8));
            DirectSyscalls.syscalls().close(fd);
        }
    }

    /** Larger than the ring (pages 1: 64 SQEs, 192 slots), from several threads: every result is its own. */
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(120)
    void largeBatchesFromManyThreadsGetTheirOwnResults(Engine kind) throws Exception {
        FlexscConfig cfg = config(kind).toBuilder().pages(1).build();
        try (UringEngine e = open(kind, cfg)) {
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            try {
                batchRoundsOnThreads(e.syscalls(), fd, 4, scaled(20), 300);
            } finally {
                DirectSyscalls.syscalls().close(fd);
            }
        }
    }

    /** Interrupt: the batch's read on an empty pipe is cancelled; the rest completes. */
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(30)
    void anInterruptCancelsTheBlockingRead(Engine kind) throws Exception {
        try (UringEngine e = open(kind, config(kind))) {
            assertInterruptCancelsBlockingBatchRead(e.syscalls(), Thread.ofPlatform()::start);
        }
    }

    /** Close while a batch waits on a read that never completes: the submit returns, the read fails closed. */
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(60)
    void closeWithABatchInFlight(Engine kind) throws Exception {
        UringEngine e = open(kind, config(kind).toBuilder().closeTimeoutMillis(2000).build());
        int[] p = pipe();
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(16);
            AtomicReference<Object> out = new AtomicReference<>();
            CountDownLatch posted = new CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                try (SyscallBatch b = e.syscalls().batch()) {
                    SyscallBatch.Result rd = b.read(p[0], buf);
                    List<SyscallBatch.Result> pids = new ArrayList<>();
                    for (int i = 0; i < 8; i++) pids.add(b.getpid());
                    posted.countDown();
                    b.submitAndWait();
                    for (SyscallBatch.Result r : pids) assertEquals(DirectSyscalls.syscalls().getpid(), r.get());
                    out.set(assertThrows(EngineClosedException.class, rd::get));
                } catch (Throwable x) {
                    out.set(x);
                }
            });
            posted.await();
            Thread.sleep(200);
            e.close();
            t.join(20_000);
            assertFalse(t.isAlive(), "submit did not return after close");
            assertInstanceOf(EngineClosedException.class, out.get(), () -> String.valueOf(out.get()));
        } finally {
            e.close();
            closeDirect(p[0]);
            closeDirect(p[1]);
        }
    }
}
