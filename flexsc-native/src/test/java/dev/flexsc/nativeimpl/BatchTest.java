package dev.flexsc.nativeimpl;

import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.RefusedCallException;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.spi.page.PageEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;
import dev.flexsc.abi.SyscallTable;

/** SyscallBatch over the page engine under test (SYSCALL_THREADS by default) and the direct baseline. */
class BatchTest {
    private static final int MADV_WILLNEED = 3;

    /** Every adder gives what the single call gives, on the engine and on the direct baseline. */
    @Test
    @Timeout(60)
    void everyAdderMatchesTheSingleCall(@TempDir Path dir) throws Exception {
        try (PageEngine engine = open(config())) {
            adders(engine.syscalls(), dir.resolve("engine"));
        }
        adders(DirectSyscalls.syscalls(), dir.resolve("direct"));
    }

    private static void adders(Syscalls s, Path dir) throws Exception {
        Files.createDirectories(dir);
        Path f = patterned(dir);
        Syscalls d = DirectSyscalls.syscalls();
        try (Arena a = Arena.ofConfined()) {
            int fd = d.openat(Syscalls.AT_FDCWD, f.toString(), O_RDWR | O_CLOEXEC, 0);
            MemorySegment in1 = a.allocate(100), in2 = a.allocate(50);
            byte[] heapIn = new byte[64];
            MemorySegment out = bytes(a, "batched write");
            MemorySegment page = a.allocate(4096, 4096);
            try (SyscallBatch b = s.batch()) {
                SyscallBatch.Result pid = b.getpid();
                SyscallBatch.Result pr = b.pread(fd, in1, 1000);
                SyscallBatch.Result heapPr = b.pread(fd, MemorySegment.ofArray(heapIn), 2000);
                SyscallBatch.Result pw = b.pwrite(fd, out, 5000);
                SyscallBatch.Result heapPw = b.pwrite(fd, MemorySegment.ofArray("heap!".getBytes()), 6000);
                SyscallBatch.Result fs = b.fsync(fd);
                SyscallBatch.Result fds = b.fdatasync(fd);
                SyscallBatch.Result mad = b.madvise(page, MADV_WILLNEED);
                SyscallBatch.Result raw = b.syscall(39);
                SyscallBatch.Result open = b.openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
                assertEquals(10, b.size());
                assertFalse(pid.isDone());
                assertThrows(IllegalStateException.class, pid::get);
                b.submitAndWait();
                assertEquals(0, b.size());
                assertEquals(d.getpid(), pid.get());
                assertEquals(d.getpid(), raw.get());
                assertEquals(100, pr.get());
                for (int i = 0; i < 100; i++) assertEquals((byte) ((1000 + i) * 31 + 7), in1.get(ValueLayout.JAVA_BYTE, i));
                assertEquals(64, heapPr.get());
                for (int i = 0; i < 64; i++) assertEquals((byte) ((2000 + i) * 31 + 7), heapIn[i]);
                assertEquals(out.byteSize(), pw.get());
                assertEquals(5, heapPw.get());
                assertEquals(0, fs.get());
                assertEquals(0, fds.get());
                assertEquals(0, mad.get());
                int fd2 = (int) open.get();
                assertTrue(fd2 > 2);
                assertEquals(CompletableFuture.completedFuture(pid.get()).get(), pid.future().get());

                // Reuse: the batch takes new calls; old handles keep their results.
                SyscallBatch.Result rd = b.read(fd2, in2);
                SyscallBatch.Result seek = b.lseek(fd, 123, SEEK_SET);
                b.submitAndWait();
                assertEquals(50, rd.get());
                for (int i = 0; i < 50; i++) assertEquals((byte) (i * 31 + 7), in2.get(ValueLayout.JAVA_BYTE, i));
                assertEquals(123, seek.get());
                assertEquals(100, pr.get());

                SyscallBatch.Result wr = b.write(fd, bytes(a, "at 123"));
                SyscallBatch.Result cl = b.close(fd2);
                b.submitAndWait();
                assertEquals(6, wr.get());
                assertEquals(0, cl.get());
            }
            d.close(fd);
            byte[] back = Files.readAllBytes(f);
            assertEquals("batched write", new String(back, 5000, 13));
            assertEquals("heap!", new String(back, 6000, 5));
            assertEquals("at 123", new String(back, 123, 6));
        }
    }

    /** Errors are per handle, with the single call's message; the other calls are unaffected. */
    @Test
    @Timeout(60)
    void errorsArePerHandleAndMatchTheSingleCall(@TempDir Path dir) throws Exception {
        try (PageEngine engine = open(config()); Arena a = Arena.ofConfined()) {
            Syscalls s = engine.syscalls();
            MemorySegment buf = a.allocate(16);
            String missing = dir.resolve("missing").toString();
            ErrnoException single = assertThrows(ErrnoException.class, () -> s.pread(999, buf, 0));
            ErrnoException singleOpen = assertThrows(ErrnoException.class,
                    () -> s.openat(Syscalls.AT_FDCWD, missing, O_RDONLY, 0));
            try (SyscallBatch b = s.batch()) {
                SyscallBatch.Result bad = b.pread(999, buf, 0);
                SyscallBatch.Result ok = b.getpid();
                SyscallBatch.Result noFile = b.openat(Syscalls.AT_FDCWD, missing, O_RDONLY, 0);
                SyscallBatch.Result raw = b.syscall(17, 999, buf.address(), 16, 0);
                b.submitAndWait();
                ErrnoException e = assertThrows(ErrnoException.class, bad::get);
                assertEquals(single.getMessage(), e.getMessage());
                assertEquals("pread64(fd=999): EBADF, bad file descriptor", e.getMessage());
                assertEquals(singleOpen.getMessage(), assertThrows(ErrnoException.class, noFile::get).getMessage());
                assertEquals(-9, raw.get()); // raw: -errno, not thrown
                assertEquals(DirectSyscalls.syscalls().getpid(), ok.get());
                ExecutionException ee = assertThrows(ExecutionException.class, () -> bad.future().get());
                assertInstanceOf(ErrnoException.class, ee.getCause());
            }
        }
    }

    /** A refused call throws at add time, is not added, and the batch stays usable. */
    @Test
    @Timeout(30)
    void refusedCallsThrowAtAddTime() throws Exception {
        try (PageEngine engine = open(config())) {
            long before = engine.stats().submitted();
            try (SyscallBatch b = engine.syscalls().batch()) {
                SyscallBatch.Result pid = b.getpid();
                RefusedCallException e = assertThrows(RefusedCallException.class, () -> b.syscall(SyscallTable.GETTID));
                assertEquals(SyscallTable.GETTID, e.number());
                assertEquals(1, b.size());
                b.submitAndWait();
                assertEquals(DirectSyscalls.syscalls().getpid(), pid.get());
            }
            assertEquals(before + 1, engine.stats().submitted());
        }
    }

    /** close() without submit: nothing runs, handles throw CancellationException, futures are cancelled. */
    @Test
    @Timeout(30)
    void closeWithoutSubmitDiscards(@TempDir Path dir) throws Exception {
        try (PageEngine engine = open(config()); Arena a = Arena.ofConfined()) {
            Path f = dir.resolve("never");
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            long before = engine.stats().submitted();
            SyscallBatch.Result w;
            CompletableFuture<Long> fut;
            SyscallBatch b = engine.syscalls().batch();
            w = b.pwrite(fd, bytes(a, "never written"), 0);
            fut = w.future();
            b.close();
            b.close(); // idempotent
            assertTrue(w.isDone());
            assertThrows(CancellationException.class, w::get);
            assertTrue(fut.isCancelled());
            assertThrows(IllegalStateException.class, b::getpid);
            assertThrows(IllegalStateException.class, b::submitAndWait);
            assertEquals(before, engine.stats().submitted());
            assertEquals(0, Files.size(f));
            closeDirect(fd);
        }
    }

    /** A batch several times larger than the group's entries is split; every result lands in its own handle. */
    @Test
    @Timeout(60)
    void aBatchLargerThanTheGroupIsPostedInParts(@TempDir Path dir) throws Exception {
        FlexscConfig cfg = config().toBuilder().pages(1).build(); // 64 entries per group
        int n = 1000;
        try (PageEngine engine = open(cfg); Arena a = Arena.ofConfined()) {
            assertEquals(64, engine.entriesPerGroup());
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            MemorySegment bufs = a.allocate((long) n * 64);
            List<SyscallBatch.Result> rs = new ArrayList<>();
            long parks0 = engine.stats().callerParks();
            try (SyscallBatch b = engine.syscalls().batch()) {
                for (int i = 0; i < n; i++) {
                    // Length and offset unique per call: a swapped completion shows.
                    rs.add(b.pread(fd, bufs.asSlice(i * 64L, 1 + i % 64), i * 7L));
                }
                b.submitAndWait();
            }
            for (int i = 0; i < n; i++) {
                assertEquals(1 + i % 64, rs.get(i).get(), "call " + i);
                for (int k = 0; k < 1 + i % 64; k++) {
                    assertEquals((byte) ((i * 7 + k) * 31 + 7), bufs.get(ValueLayout.JAVA_BYTE, i * 64L + k), "call " + i);
                }
            }
            EngineStats st = engine.stats();
            assertTrue(st.submitted() >= n);
            System.out.println("1000 calls over 64 entries: " + (st.callerParks() - parks0) + " waits");
            closeDirect(fd);
        }
    }

    /** 64-call batches from many platform threads at once: no lost, duplicated or swapped completion. */
    @Test
    @Timeout(120)
    void batchesFromManyThreadsGetTheirOwnResults(@TempDir Path dir) throws Exception {
        int threads = 8, rounds = scaled(200), per = 64;
        try (PageEngine engine = open(config().toBuilder().pages(2).build())) {
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            try {
                batchRoundsOnThreads(engine.syscalls(), fd, threads, rounds, per);
            } finally {
                closeDirect(fd);
            }
            assertTrue(engine.stats().submitted() >= (long) threads * rounds * per);
        }
    }

    /** Interrupt: the batch's blocking read is cancelled, the other calls complete, the status stays set. */
    @Test
    @Timeout(30)
    void anInterruptCancelsTheBlockingCallsOfTheBatch() throws Exception {
        try (PageEngine engine = open(config())) {
            assertInterruptCancelsBlockingBatchRead(engine.syscalls(), Thread.ofPlatform()::start);
        }
    }

    /**
     * Close with batches in flight (each holding a read that blocks forever): every submit
     * returns, every handle is settled, with a value or EngineClosedException; none is lost.
     */
    @Test
    @Timeout(60)
    void closeWithBatchesInFlightSettlesEveryHandle() throws Exception {
        PageEngine engine = open(config().toBuilder().closeTimeoutMillis(2000).build());
        int threads = 4;
        int[] p = pipe();
        List<Thread> ts = new ArrayList<>();
        List<List<SyscallBatch.Result>> all = new ArrayList<>();
        CountDownLatch started = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(16 * threads);
            for (int t = 0; t < threads; t++) {
                List<SyscallBatch.Result> mine = new ArrayList<>();
                all.add(mine);
                int id = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    try (SyscallBatch b = engine.syscalls().batch()) {
                        for (int round = 0; ; round++) {
                            if (round == 3) mine.add(b.read(p[0], buf.asSlice(id * 16L, 16))); // never completes
                            for (int i = 0; i < 64; i++) mine.add(b.getpid());
                            if (round == 3) started.countDown();
                            b.submitAndWait();
                            if (!engine.isOpen()) return;
                        }
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                    }
                }));
            }
            started.await();
            Thread.sleep(100);
            engine.close();
            for (Thread t : ts) t.join(20_000);
            for (Thread t : ts) assertFalse(t.isAlive(), "a submit did not return after close");
            if (failure.get() != null) throw new AssertionError(failure.get());
            long pid = DirectSyscalls.syscalls().getpid();
            int closedFailures = 0;
            for (List<SyscallBatch.Result> mine : all) {
                for (SyscallBatch.Result r : mine) {
                    assertTrue(r.isDone(), r::toString);
                    try {
                        long v = r.get();
                        if (r.describe().startsWith("getpid")) assertEquals(pid, v);
                    } catch (EngineClosedException expected) {
                        closedFailures++;
                    } catch (ErrnoException e) {
                        // close() signals the executors: a read it interrupts returns EINTR, as a single call does
                        assertEquals(4, e.errno(), e::getMessage);
                        assertTrue(r.describe().startsWith("read"), r::toString);
                        closedFailures++;
                    }
                }
            }
            assertTrue(closedFailures >= threads, "the blocked reads must fail: " + closedFailures);
        } finally {
            engine.close();
            closeDirect(p[0]);
            closeDirect(p[1]);
        }
    }

    /** A batch submitted to a closed engine: every handle fails with EngineClosedException. */
    @Test
    @Timeout(30)
    void aBatchOnAClosedEngineFailsEveryHandle() throws Exception {
        PageEngine engine = open(config());
        Syscalls s = engine.syscalls();
        engine.close();
        try (SyscallBatch b = s.batch()) {
            SyscallBatch.Result x = b.getpid(), y = b.getpid();
            b.submitAndWait();
            assertThrows(EngineClosedException.class, x::get);
            assertThrows(EngineClosedException.class, y::get);
        }
    }

    /** One wait per batch: a platform thread's 64-call batch costs at most one sleep, never one per call. */
    @Test
    @Timeout(60)
    void oneWaitPerBatch() throws Exception {
        try (PageEngine engine = open(config().toBuilder().callerSpin(0).build())) {
            int rounds = 200;
            long parks0 = engine.stats().callerParks();
            try (SyscallBatch b = engine.syscalls().batch()) {
                for (int r = 0; r < rounds; r++) {
                    for (int i = 0; i < 64; i++) b.getpid();
                    b.submitAndWait();
                }
            }
            long parks = engine.stats().callerParks() - parks0;
            // callerSpin 0: a sleep whenever the batch is not done at once. A done_seq
            // bump or the 20 ms safety timeout (a starved syscall thread on a loaded machine)
            // can add sleeps, but per batch, not per call: one per call would be 12,800.
            System.out.println(rounds + " platform batches of 64: " + parks + " sleeps");
            assertTrue(parks <= rounds * 16L, "waits: " + parks + " for " + rounds + " batches");
        }
    }
}
