package dev.flexsc.threads;

import dev.flexsc.EngineClosedException;
import dev.flexsc.ErrnoException;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** SyscallBatch from green threads of the FlexSC scheduler: one park per batch, results never crossed. */
class BatchGreenTest {
    private static final int O_RDONLY = 0, O_CLOEXEC = 02000000;

    private static Path patterned(Path dir) throws IOException {
        byte[] b = new byte[8192];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 31 + 7);
        return Files.write(dir.resolve("pattern.dat"), b);
    }

    /** 64 green threads, each submitting 64-call batches: unique (length, offset) per call, checked byte by byte. */
    @Test
    @Timeout(120)
    void batchesFromManyGreenThreadsGetTheirOwnResults(@TempDir Path dir) throws Exception {
        int threads = 64, rounds = 40, per = 64;
        try (FlexscRuntime rt = FlexscRuntime.open(Pipes.config())) {
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            long parks0 = rt.engine().stats().callerParks();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int id = t;
                rt.threadFactory().newThread(() -> {
                    try {
                        assertTrue(rt.scheduler().isCarrierOfCurrentThread());
                        rounds(rt.syscalls(), fd, id, rounds, per);
                    } catch (Throwable x) {
                        errors.add(x);
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            done.await();
            DirectSyscalls.syscalls().close(fd);
            if (!errors.isEmpty()) throw new AssertionError(errors.peek());
            long parks = rt.engine().stats().callerParks() - parks0;
            long batches = (long) threads * rounds;
            System.out.println(batches + " green batches of " + per + ": " + parks + " parks");
            // One park per batch at most (none when the completion arrives within the spin);
            // one per call would be 64 times more.
            assertTrue(parks <= batches, "parks " + parks + " for " + batches + " batches");
        }
    }

    private static void rounds(Syscalls s, int fd, int id, int rounds, int per) throws IOException {
        try (Arena a = Arena.ofConfined(); SyscallBatch b = s.batch()) {
            MemorySegment bufs = a.allocate(per * 64L);
            SyscallBatch.Result[] rs = new SyscallBatch.Result[per];
            for (int r = 0; r < rounds; r++) {
                bufs.fill((byte) 0);
                for (int i = 0; i < per; i++) {
                    rs[i] = b.pread(fd, bufs.asSlice(i * 64L, 1 + (i + r + id) % 64), (id * 997L + r * 61L + i * 13L) % 8000);
                }
                b.submit();
                for (int i = 0; i < per; i++) {
                    int len = 1 + (i + r + id) % 64;
                    long off = (id * 997L + r * 61L + i * 13L) % 8000;
                    assertEquals(len, rs[i].get(), "thread " + id + " round " + r + " call " + i);
                    for (int k = 0; k < len; k++) {
                        assertEquals((byte) ((off + k) * 31 + 7), bufs.get(ValueLayout.JAVA_BYTE, i * 64L + k));
                    }
                }
            }
        }
    }

    /** A batch larger than the group (pages 1: 64 entries) from green threads: parts, no deadlock. */
    @Test
    @Timeout(120)
    void batchesLargerThanTheGroupFromGreenThreads(@TempDir Path dir) throws Exception {
        try (FlexscRuntime rt = FlexscRuntime.open(Pipes.config().toBuilder().pages(1).build())) {
            Path f = patterned(dir);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDONLY | O_CLOEXEC, 0);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch done = new CountDownLatch(8);
            for (int t = 0; t < 8; t++) {
                int id = t;
                rt.threadFactory().newThread(() -> {
                    try {
                        rounds(rt.syscalls(), fd, id, 5, 300); // 300 > 64 entries, 8 threads compete
                    } catch (Throwable x) {
                        errors.add(x);
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            done.await();
            DirectSyscalls.syscalls().close(fd);
            if (!errors.isEmpty()) throw new AssertionError(errors.peek());
        }
    }

    /** Interrupting a green thread parked on its batch cancels the blocking read; the getpid completes. */
    @Test
    @Timeout(30)
    void anInterruptCancelsTheBlockingCallOfAGreenBatch() throws Exception {
        try (FlexscRuntime rt = FlexscRuntime.open(Pipes.config()); Arena a = Arena.ofShared()) {
            int[] p = Pipes.pipe();
            MemorySegment buf = a.allocate(16);
            AtomicReference<Object[]> out = new AtomicReference<>();
            CountDownLatch posted = new CountDownLatch(1);
            Thread t = rt.threadFactory().newThread(() -> {
                try (SyscallBatch b = rt.syscalls().batch()) {
                    SyscallBatch.Result rd = b.read(p[0], buf);
                    SyscallBatch.Result pid = b.getpid();
                    posted.countDown();
                    b.submit();
                    Object r;
                    try {
                        r = rd.get();
                    } catch (IOException e) {
                        r = e;
                    }
                    out.set(new Object[] {r, pid.get(), Thread.currentThread().isInterrupted()});
                } catch (Throwable x) {
                    out.set(new Object[] {x});
                }
            });
            t.start();
            posted.await();
            Thread.sleep(200);
            t.interrupt();
            t.join(10_000);
            assertFalse(t.isAlive(), "submit did not return after the interrupt");
            Object[] r = out.get();
            assertEquals(3, r.length, () -> String.valueOf(r[0]));
            assertInstanceOf(InterruptedIOException.class, r[0]);
            assertEquals(ProcessHandle.current().pid(), r[1]);
            assertEquals(true, r[2]);
            Pipes.close(p);
        }
    }

    /** Closing the engine under green threads parked on batches: each submit returns, every handle settles. */
    @Test
    @Timeout(60)
    void closingTheEngineUnderParkedGreenBatches() throws Exception {
        FlexscRuntime rt = FlexscRuntime.open(Pipes.config().toBuilder().closeTimeoutMillis(2000).build());
        int[] p = Pipes.pipe();
        List<SyscallBatch.Result> all = new java.util.concurrent.CopyOnWriteArrayList<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch posted = new CountDownLatch(4), done = new CountDownLatch(4);
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(64);
            for (int t = 0; t < 4; t++) {
                int id = t;
                rt.threadFactory().newThread(() -> {
                    try (SyscallBatch b = rt.syscalls().batch()) {
                        List<SyscallBatch.Result> mine = new ArrayList<>();
                        mine.add(b.read(p[0], buf.asSlice(id * 16L, 16))); // never completes
                        for (int i = 0; i < 32; i++) mine.add(b.getpid());
                        all.addAll(mine);
                        posted.countDown();
                        b.submit();
                    } catch (Throwable x) {
                        errors.add(x);
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            posted.await();
            Thread.sleep(200);
            rt.engine().close();
            assertTrue(done.await(20, java.util.concurrent.TimeUnit.SECONDS), "a green submit did not return after close");
            if (!errors.isEmpty()) throw new AssertionError(errors.peek());
            int failedReads = 0;
            for (SyscallBatch.Result r : all) {
                assertTrue(r.isDone(), r::toString);
                try {
                    long v = r.get();
                    assertEquals(ProcessHandle.current().pid(), v, r::toString);
                } catch (EngineClosedException e) {
                    failedReads++;
                } catch (ErrnoException e) {
                    assertEquals(4, e.errno(), e::getMessage); // EINTR: close signalled the executor
                    failedReads++;
                }
            }
            assertEquals(4, failedReads);
        } finally {
            rt.close();
            Pipes.close(p);
        }
    }
}
