package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineStats;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.RefusedCallException;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.uring.UringAvailability;
import dev.flexsc.nativeimpl.uring.UringEngine;
import dev.flexsc.spi.page.PageEngine;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.Errno;

/**
 * The call policies on real engines, from platform threads: which calls reach the syscall
 * page (EngineStats.submitted/executed) and which are made directly (EngineStats.direct).
 * Green threads: flexsc-threads' AdaptivePolicyTest.
 */
class PolicyTest {
    private static final long PID = ProcessHandle.current().pid();

    private static FlexscConfig config(CallPolicy p) {
        return TestSupport.config().toBuilder().policy(p).build();
    }

    @Test
    @Timeout(30)
    void directNeverReachesThePage() throws Exception {
        try (PageEngine e = open(config(CallPolicy.DIRECT))) {
            Syscalls s = e.syscalls();
            for (int i = 0; i < 100; i++) assertEquals(PID, s.getpid());
            // Refusals are unchanged: refused before the policy, counted nowhere.
            assertThrows(RefusedCallException.class, () -> e.invoke(SyscallTable.GETTID, 0, 0, 0, 0, 0, 0));
            EngineStats st = e.stats();
            assertEquals(100, st.direct(), st::toString);
            assertEquals(0, st.posted(), st::toString);
            assertEquals(0, st.submitted(), st::toString);
            assertEquals(0, st.executed(), st::toString);
            e.close();
            // A closed engine makes no more calls, direct ones included.
            assertThrows(dev.flexsc.EngineClosedException.class, s::getpid);
        }
    }

    @Test
    @Timeout(30)
    void exceptionlessPostsEveryCall() throws Exception {
        try (PageEngine e = open(config(CallPolicy.EXCEPTIONLESS))) {
            Syscalls s = e.syscalls();
            for (int i = 0; i < 100; i++) assertEquals(PID, s.getpid());
            // KERNEL_MODULE adds executed once per batch, after the batch's completions.
            EngineStats st = statsOnceExecuted(e, 100);
            assertEquals(100, st.posted(), st::toString);
            assertEquals(0, st.direct(), st::toString);
            assertEquals(100, st.submitted(), st::toString);
            assertEquals(100, st.executed(), st::toString);
        }
    }

    @Test
    @Timeout(30)
    void adaptiveOnAPlatformThreadCallsDirectlyWhatCannotBlock() throws Exception {
        try (PageEngine e = open(config(CallPolicy.ADAPTIVE)); Arena a = Arena.ofConfined()) {
            Syscalls s = e.syscalls();
            for (int i = 0; i < 50; i++) assertEquals(PID, s.getpid());
            int fd = s.openat(Syscalls.AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0); // openat may block (FIFOs): posted
            MemorySegment buf = a.allocate(64);
            for (int i = 0; i < 50; i++) assertEquals(64, s.write(fd, buf)); // tried without waiting: /dev/null takes it
            s.close(fd);
            EngineStats st = e.stats();
            assertEquals(101, st.direct(), st::toString); // 50 getpid, 50 writes, close
            assertEquals(1, st.posted(), st::toString);
            assertEquals(1, st.submitted(), st::toString);
        }
    }

    @Test
    @Timeout(30)
    void adaptivePostsAReadThatWouldWaitAndInterruptStillCancelsIt() throws Exception {
        try (PageEngine e = open(config(CallPolicy.ADAPTIVE))) {
            Syscalls s = e.syscalls();
            int[] p = pipe();
            try {
                // A read with data: made directly, without waiting, where this kernel's pipes
                // take RWF_NOWAIT; where they do not (EOPNOTSUPP), it is posted.
                boolean nowait = pipesTakeNowait();
                assertEquals(3, s.write(p[1], new byte[] {1, 2, 3}));
                byte[] got = new byte[8];
                assertEquals(3, s.read(p[0], got));
                long directBefore = e.stats().direct();
                long postedBefore = e.stats().submitted();
                assertEquals(nowait ? 0 : 2, postedBefore, () -> "nowait " + nowait + ": " + e.stats());
                // A read on an empty pipe would wait: posted, so the reader's OS thread never
                // blocks in the kernel where interrupt() cannot reach it.
                CountDownLatch started = new CountDownLatch(1);
                Throwable[] result = new Throwable[1];
                Thread reader = Thread.ofPlatform().start(() -> {
                    started.countDown();
                    try {
                        s.read(p[0], new byte[8]);
                    } catch (Throwable t) {
                        result[0] = t;
                    }
                });
                started.await();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (e.stats().submitted() < postedBefore + 1 && System.nanoTime() < deadline) Thread.sleep(1);
                assertEquals(postedBefore + 1, e.stats().submitted(), () -> e.stats().toString());
                reader.interrupt();
                reader.join(10_000);
                assertFalse(reader.isAlive(), "interrupt did not cancel the posted read");
                assertInstanceOf(InterruptedIOException.class, result[0]);
                // The try that found no data counts as posted, not as a direct call.
                assertEquals(directBefore, e.stats().direct(), () -> e.stats().toString());
                assertEquals(postedBefore + 1, e.stats().posted(), () -> e.stats().toString());
            } finally {
                closeDirect(p[0]);
                closeDirect(p[1]);
            }
        }
    }

    @Test
    @Timeout(30)
    void adaptiveWriteTakenInPartWithoutWaitingIsFinishedByTheEngine() throws Exception {
        try (PageEngine e = open(config(CallPolicy.ADAPTIVE)); Arena a = Arena.ofShared()) {
            Syscalls s = e.syscalls();
            int[] p = pipe();
            try {
                // Fill the pipe (64 KiB by default) but 4 KiB, then write 16 KiB: RWF_NOWAIT takes
                // what fits, the engine writes the rest once the reader drains the pipe.
                int cap = (int) DirectSyscalls.raw(72 /* fcntl */, p[1], 1032 /* F_GETPIPE_SZ */, 0, 0, 0, 0);
                assertTrue(cap > 8192, "pipe capacity " + cap);
                MemorySegment fill = a.allocate(cap - 4096);
                assertEquals(cap - 4096, DirectSyscalls.raw(1, p[1], fill.address(), fill.byteSize(), 0, 0, 0));
                MemorySegment data = a.allocate(16384);
                for (int i = 0; i < 16384; i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
                long[] written = new long[1];
                Throwable[] failure = new Throwable[1];
                Thread writer = Thread.ofPlatform().start(() -> {
                    try {
                        written[0] = s.write(p[1], data);
                    } catch (Throwable t) {
                        failure[0] = t;
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (e.stats().submitted() < 1 && System.nanoTime() < deadline) Thread.sleep(1);
                assertEquals(1, e.stats().submitted(), "the rest was not posted: " + e.stats());
                MemorySegment drain = a.allocate(cap + 16384);
                long total = 0;
                while (total < cap - 4096 + 16384) {
                    long r = DirectSyscalls.raw(0, p[0], drain.address() + total, drain.byteSize() - total, 0, 0, 0);
                    assertTrue(r > 0, "read " + r);
                    total += r;
                }
                writer.join(10_000);
                assertNull(failure[0]);
                assertEquals(16384, written[0]);
                for (int i = 0; i < 16384; i++) {
                    assertEquals((byte) (i * 7), drain.get(ValueLayout.JAVA_BYTE, cap - 4096 + i), "byte " + i);
                }
                EngineStats st = e.stats();
                if (pipesTakeNowait()) {
                    assertEquals(1, st.direct(), st::toString); // the 4 KiB taken without waiting
                } else {
                    assertEquals(0, st.direct(), st::toString); // EOPNOTSUPP: all of it posted
                }
                assertEquals(1, st.posted(), st::toString); // the rest
            } finally {
                closeDirect(p[0]);
                closeDirect(p[1]);
            }
        }
    }

    /**
     * Whether this kernel's pipes take RWF_NOWAIT: a read of an empty pipe with it fails with
     * EAGAIN; where pipes lack it (Debian 12's 6.1 kernel, the QEMU guest's) with EOPNOTSUPP,
     * and ADAPTIVE posts every pipe read and write (docs/io.md, point 6).
     */
    private static boolean pipesTakeNowait() {
        int[] p = pipe();
        try (Arena a = Arena.ofConfined()) {
            long r = DirectSyscalls.invoker().readWriteNowait(false, p[0], a.allocate(8).address(), 8);
            if (r != -11 && r != -95) throw new AssertionError("RWF_NOWAIT read of an empty pipe: " + r);
            if (r == -Errno.EOPNOTSUPP) System.out.println("this kernel's pipes lack RWF_NOWAIT (EOPNOTSUPP): ADAPTIVE posts pipe reads and writes");
            return r == -Errno.EAGAIN;
        } finally {
            closeDirect(p[0]);
            closeDirect(p[1]);
        }
    }

    @Test
    @Timeout(30)
    void adaptiveRecvAndSendOnASocketWaitOnlyWhenTheyMust() throws Exception {
        try (PageEngine e = open(config(CallPolicy.ADAPTIVE)); Arena a = Arena.ofShared()) {
            Syscalls s = e.syscalls();
            MemorySegment fds = a.allocate(8);
            // socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): blocking stream sockets
            assertEquals(0, DirectSyscalls.raw(53, 1, 1 | 02000000, 0, fds.address(), 0, 0));
            int x = fds.get(ValueLayout.JAVA_INT, 0), y = fds.get(ValueLayout.JAVA_INT, 4);
            try {
                MemorySegment small = a.allocate(64);
                // Room to send, data to receive: both made directly (MSG_DONTWAIT), none posted.
                assertEquals(64, s.sendto(x, small, 0x4000 /* MSG_NOSIGNAL */, null));
                assertEquals(64, s.recvfrom(y, a.allocate(128), 0, null));
                assertEquals(2, e.stats().direct(), () -> e.stats().toString());
                assertEquals(0, e.stats().submitted(), () -> e.stats().toString());
                // Nothing to receive: posted, and it completes when data comes.
                long[] got = new long[1];
                Throwable[] failure = new Throwable[1];
                Thread reader = Thread.ofPlatform().start(() -> {
                    try {
                        got[0] = s.recvfrom(y, a.allocate(128), 0, null);
                    } catch (Throwable t) {
                        failure[0] = t;
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (e.stats().submitted() < 1 && System.nanoTime() < deadline) Thread.sleep(1);
                assertEquals(1, e.stats().submitted(), () -> e.stats().toString());
                assertEquals(5, DirectSyscalls.raw(1, x, small.address(), 5, 0, 0, 0));
                reader.join(10_000);
                assertFalse(reader.isAlive(), "the posted recv did not complete");
                assertNull(failure[0]);
                assertEquals(5, got[0]);
                // A full socket: the caller's own MSG_DONTWAIT gets EAGAIN directly; a blocking
                // send is posted and sends every byte once the reader drains the socket.
                MemorySegment chunk = a.allocate(4096);
                long filled = 0;
                while (true) {
                    long r = DirectSyscalls.raw(44, x, chunk.address(), chunk.byteSize(), 0x40 | 0x4000, 0, 0);
                    if (r < 0) break;
                    filled += r;
                }
                ErrnoException again = assertThrows(ErrnoException.class, () -> s.sendto(x, small, 0x40, null));
                assertEquals(11, again.errno(), again.getMessage());
                MemorySegment data = a.allocate(16384);
                for (int i = 0; i < 16384; i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13));
                long postedBefore = e.stats().submitted();
                long[] sent = new long[1];
                Thread writer = Thread.ofPlatform().start(() -> {
                    try {
                        sent[0] = s.sendto(x, data, 0x4000, null);
                    } catch (Throwable t) {
                        failure[0] = t;
                    }
                });
                while (e.stats().submitted() < postedBefore + 1 && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(10)) {
                    Thread.sleep(1);
                }
                assertEquals(postedBefore + 1, e.stats().submitted(), () -> e.stats().toString());
                MemorySegment drain = a.allocate(filled + 16384);
                long total = 0;
                while (total < filled + 16384) {
                    long r = DirectSyscalls.raw(0, y, drain.address() + total, drain.byteSize() - total, 0, 0, 0);
                    assertTrue(r > 0, "read " + r);
                    total += r;
                }
                writer.join(10_000);
                assertNull(failure[0]);
                assertEquals(16384, sent[0]);
                for (int i = 0; i < 16384; i++) {
                    assertEquals((byte) (i * 13), drain.get(ValueLayout.JAVA_BYTE, filled + i), "byte " + i);
                }
            } finally {
                closeDirect(x);
                closeDirect(y);
            }
        }
    }

    @Test
    @Timeout(30)
    void ioUringObeysThePolicyToo() throws Exception {
        TestSupport.assumeAvailable(Engine.IO_URING);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(64);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0);
            try {
                for (CallPolicy p : CallPolicy.values()) {
                    try (FlexscEngine e = UringEngine.open(Engine.IO_URING,
                            FlexscConfig.builder().engine(Engine.IO_URING).policy(p).build())) {
                        for (int i = 0; i < 20; i++) assertEquals(64, e.syscalls().write(fd, buf));
                        EngineStats st = e.stats();
                        boolean posts = p == CallPolicy.EXCEPTIONLESS;
                        assertEquals(posts ? 20 : 0, st.posted(), p + ": " + st);
                        assertEquals(posts ? 0 : 20, st.direct(), p + ": " + st);
                        assertEquals(posts ? 20 : 0, st.submitted(), p + ": " + st);
                    }
                }
            } finally {
                closeDirect(fd);
            }
        }
    }

    /**
     * ADAPTIVE tries a read or write that may block with preadv2/pwritev2(RWF_NOWAIT), which
     * return 0 for a zero length before looking at the file; read(2) of a directory says
     * EISDIR whatever the length. A zero-length call moves nothing and cannot wait: it is made
     * as the plain call. (Found by the differential fuzzer.)
     */
    @Test
    @Timeout(30)
    void aZeroLengthReadGivesTheSyscallsErrno() throws Exception {
        try (PageEngine e = open(config(CallPolicy.ADAPTIVE)); Arena a = Arena.ofConfined()) {
            int dir = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            try {
                ErrnoException direct = assertThrows(ErrnoException.class, () -> DirectSyscalls.syscalls().read(dir, a.allocate(0)));
                ErrnoException adaptive = assertThrows(ErrnoException.class, () -> e.syscalls().read(dir, a.allocate(0)));
                assertEquals(direct.errno(), adaptive.errno());
                assertEquals(dev.flexsc.Errno.EISDIR, adaptive.errno());
            } finally {
                closeDirect(dir);
            }
        }
    }
}
