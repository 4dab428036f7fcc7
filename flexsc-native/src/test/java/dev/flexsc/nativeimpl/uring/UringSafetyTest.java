package dev.flexsc.nativeimpl.uring;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.RefusedCallException;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static dev.flexsc.OpenFlags.*;
import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * io_uring engines against misuse and machinery failures: the ring descriptor refused as an
 * argument, lengths the 32-bit SQE field cannot hold or that the kernel clamps, socket
 * lengths of huge segments, an io_uring_enter that fails after the SQE is in the ring, and
 * a FIFO that refuses RWF_NOWAIT.
 */
class UringSafetyTest {
    private static final int NR_DUP = 32, NR_DUP2 = 33, NR_MMAP = 9, NR_SOCKET = 41, NR_BIND = 49, NR_LISTEN = 50,
            NR_CONNECT = 42, NR_GETSOCKNAME = 51;
    /** read(2)/write(2) move at most this many bytes per call (MAX_RW_COUNT). */
    private static final long MAX_RW_COUNT = 0x7ffff000L;

    @TempDir
    Path dir;

    private static UringEngine open(Engine kind, FlexscConfig.Builder b) throws Exception {
        TestSupport.assumeAvailable(kind);
        return UringEngine.open(kind, b.engine(kind).build());
    }

    private static UringEngine open(Engine kind) throws Exception {
        return open(kind, FlexscConfig.builder().policy(CallPolicy.EXCEPTIONLESS));
    }

    /** Descriptors of this process that are io_uring instances. */
    private static Set<Integer> ringFds() throws Exception {
        Set<Integer> out = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(p).toString().contains("io_uring")) out.add(Integer.parseInt(p.getFileName().toString()));
                } catch (java.io.IOException gone) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }

    /**
     * Opens the engine and finds the descriptor of the ring its platform-thread calls use (the
     * engine sets its rings up as they are needed: a platform ring is asked for here).
     */
    private static int[] openWithRingFd(Engine kind, FlexscConfig.Builder b, UringEngine[] out) throws Exception {
        Set<Integer> before = ringFds();
        out[0] = open(kind, b);
        int ring = out[0].platformRingFd();
        Set<Integer> after = ringFds();
        after.removeAll(before);
        assertTrue(after.contains(ring), "the platform ring " + ring + " is not among the new io_uring descriptors " + after);
        assertTrue(out[0].ownedFds().owns(ring), "the engine does not own its ring: " + out[0].ownedFds());
        return new int[] {ring};
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    void theRingDescriptorIsRefusedAsAnArgument(Engine kind) throws Exception {
        for (CallPolicy policy : CallPolicy.values()) {
            UringEngine[] e = new UringEngine[1];
            int ring = openWithRingFd(kind, FlexscConfig.builder().policy(policy), e)[0];
            try (UringEngine engine = e[0]) {
                Syscalls s = engine.syscalls();
                RefusedCallException x = assertThrows(RefusedCallException.class, () -> s.close(ring));
                assertTrue(x.getMessage().contains("close(fd=" + ring + ")") && x.getMessage().contains("io_uring"),
                        x.getMessage());
                assertThrows(RefusedCallException.class, () -> s.syscall(SyscallTable.CLOSE, ring));
                assertThrows(RefusedCallException.class, () -> s.fstat(ring));
                assertThrows(RefusedCallException.class, () -> s.sendfile(1, ring, 0, 1)); // the second fd argument
                try (Arena a = Arena.ofConfined(); SyscallBatch b = s.batch()) {
                    assertThrows(RefusedCallException.class, () -> b.close(ring));
                    assertThrows(RefusedCallException.class, () -> b.read(ring, a.allocate(8)));
                    assertThrows(RefusedCallException.class, () -> b.syscall(SyscallTable.CLOSE, ring));
                    assertEquals(0, b.size());
                }
                assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + ring)).toString().contains("io_uring"),
                        "the ring descriptor was closed");
                // The engine still works, on the ring: a file written and read back through it.
                int f = s.openat(Syscalls.AT_FDCWD, dir.resolve("alive-" + policy).toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                assertEquals(5, s.pwrite(f, "alive".getBytes(), 0, 5, 0));
                byte[] back = new byte[5];
                assertEquals(5, s.pread(f, back, 0, 5, 0));
                assertEquals("alive", new String(back));
                s.close(f);
            }
        }
    }

    /** A segment of {@code size} bytes whose first page is mapped and the rest reserved without access. */
    private static MemorySegment huge(long size) {
        long addr = DirectSyscalls.raw(NR_MMAP, 0, size + 4096, 0 /* PROT_NONE */, 0x22 | 0x4000 /* NORESERVE */, -1, 0);
        assertTrue(addr > 0, "mmap: " + addr);
        assertEquals(0, DirectSyscalls.raw(10 /* mprotect */, addr, 4096, 3, 0, 0, 0));
        return MemorySegment.ofAddress(addr).reinterpret(size);
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    void lengthsTheKernelClampsGiveTheDirectCallsResults(Engine kind) throws Exception {
        try (UringEngine e = open(kind)) {
            Syscalls s = e.syscalls(), d = DirectSyscalls.syscalls();
            int devNull = d.openat(Syscalls.AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0);
            int file = d.openat(Syscalls.AT_FDCWD, dir.resolve("f").toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            MemorySegment base = huge((1L << 32) + 5);
            try {
                // /dev/null never reads the buffer: only the lengths matter.
                for (long len : new long[] {MAX_RW_COUNT - 1, MAX_RW_COUNT, MAX_RW_COUNT + 1, (1L << 31) - 1, 1L << 31,
                        (1L << 31) + 1, (1L << 32) + 5}) {
                    MemorySegment buf = base.reinterpret(len);
                    assertEquals(d.write(devNull, buf), s.write(devNull, buf), "write of " + len);
                    assertEquals(d.pwrite(devNull, buf, 0), s.pwrite(devNull, buf, 0), "pwrite64 of " + len);
                    // A read of a small file: the kernel writes only the file's bytes.
                    d.pwrite(file, "0123456789".getBytes(), 0, 10, 0);
                    assertEquals(d.pread(file, buf, 0), s.pread(file, buf, 0), "pread64 of " + len);
                }
            } finally {
                closeDirect(devNull);
                closeDirect(file);
                DirectSyscalls.raw(11 /* munmap */, base.address(), base.byteSize() + 4096, 0, 0, 0, 0);
            }
        }
    }

    /** An IPv4 loopback listener: {listening fd, port}. */
    private static int[] listener(Arena a) {
        int fd = (int) DirectSyscalls.raw(NR_SOCKET, 2, 1 | 02000000, 0, 0, 0, 0);
        MemorySegment sa = a.allocate(16, 4);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) 2);
        sa.set(ValueLayout.JAVA_INT, 4, 0x0100007f); // 127.0.0.1, network order
        assertEquals(0, DirectSyscalls.raw(NR_BIND, fd, sa.address(), 16, 0, 0, 0));
        assertEquals(0, DirectSyscalls.raw(NR_LISTEN, fd, 4, 0, 0, 0, 0));
        MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, 16);
        assertEquals(0, DirectSyscalls.raw(NR_GETSOCKNAME, fd, sa.address(), len.address(), 0, 0, 0));
        return new int[] {fd, Short.toUnsignedInt(Short.reverseBytes(sa.get(ValueLayout.JAVA_SHORT, 2)))};
    }

    private static int connect(Arena a, int port) {
        int fd = (int) DirectSyscalls.raw(NR_SOCKET, 2, 1 | 02000000, 0, 0, 0, 0);
        MemorySegment sa = a.allocate(16, 4);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) 2);
        sa.set(ValueLayout.JAVA_SHORT, 2, Short.reverseBytes((short) port));
        sa.set(ValueLayout.JAVA_INT, 4, 0x0100007f);
        assertEquals(0, DirectSyscalls.raw(NR_CONNECT, fd, sa.address(), 16, 0, 0, 0));
        return fd;
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    void socketLengthsOfHugeSegmentsAreNotTruncatedIntoNegativeOnes(Engine kind) throws Exception {
        try (UringEngine e = open(kind); Arena a = Arena.ofConfined()) {
            for (Syscalls s : new Syscalls[] {DirectSyscalls.syscalls(), e.syscalls()}) {
                int[] l = listener(a);
                int c = connect(a, l[1]);
                try {
                    MemorySegment value = huge(1L << 31); // socklen (int) would be negative: EINVAL
                    assertEquals(4, s.getsockopt(c, 1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, value));
                    MemorySegment peer = huge((1L << 32) + 3); // (int) would be 3: a truncated address
                    int accepted = s.accept4(l[0], peer, 02000000);
                    closeDirect(accepted);
                    assertEquals(2, peer.get(ValueLayout.JAVA_SHORT, 0), "sin_family");
                    assertEquals(0x0100007f, peer.get(ValueLayout.JAVA_INT, 4), "sin_addr");
                } finally {
                    closeDirect(c);
                    closeDirect(l[0]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(60)
    void aFailedEnterAfterTheSqeIsInTheRingDoesNotHandTheCallBack(Engine kind) throws Exception {
        UringEngine[] e = new UringEngine[1];
        int ring = openWithRingFd(kind, FlexscConfig.builder().policy(CallPolicy.EXCEPTIONLESS).sqThreadIdleMillis(10)
                .callerSpin(0), e)[0];
        int saved = (int) DirectSyscalls.raw(NR_DUP, ring, 0, 0, 0, 0, 0);
        int devNull = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
        int[] p = pipe();
        // The caller's own memory, mapped and never freed: a write after the call came back shows.
        long addr = DirectSyscalls.raw(NR_MMAP, 0, 4096, 3, 0x22, -1, 0);
        MemorySegment buf = MemorySegment.ofAddress(addr).reinterpret(16);
        try (UringEngine engine = e[0]) {
            assertEquals(5, DirectSyscalls.syscalls().write(p[1], "hello".getBytes()));
            Thread.sleep(100); // SQPOLL: the polling thread is asleep now (idle 10 ms)
            // io_uring_enter on the ring's number now fails (EOPNOTSUPP: not an io_uring).
            long failedBefore = engine.machineryFailures();
            assertEquals(ring, DirectSyscalls.raw(NR_DUP2, devNull, ring, 0, 0, 0, 0));
            AtomicReference<Object> out = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    out.set(engine.syscalls().read(p[0], buf));
                } catch (Throwable x) {
                    out.set(x);
                }
            });
            // Until the caller's io_uring_enter failed (to submit, to wake the poller, or to wait
            // for the completion: each one fails on /dev/null), however slowly it got there.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (engine.machineryFailures() == failedBefore && System.nanoTime() < deadline) Thread.sleep(1);
            boolean failed = engine.machineryFailures() > failedBefore;
            Object early = out.get();
            assertEquals(ring, DirectSyscalls.raw(NR_DUP2, saved, ring, 0, 0, 0, 0)); // the ring is back
            t.join(20_000);
            assertTrue(failed, "no io_uring_enter failed while the ring's number was /dev/null");
            assertNull(early, "the call came back while its SQE was in the ring: " + early);
            assertEquals(5L, out.get());
            assertEquals('o', buf.get(ValueLayout.JAVA_BYTE, 4));
        } finally {
            closeDirect(saved);
            closeDirect(devNull);
            closeDirect(p[0]);
            closeDirect(p[1]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(60)
    void aReadOfAFifoThatRefusesNowaitWaitsForData(Engine kind) throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        for (CallPolicy policy : new CallPolicy[] {CallPolicy.EXCEPTIONLESS, CallPolicy.ADAPTIVE}) {
            try (UringEngine e = open(kind, FlexscConfig.builder().policy(policy))) {
                Syscalls s = e.syscalls();
                int fd = s.openat(Syscalls.AT_FDCWD, fifo.toString(), O_RDWR | O_CLOEXEC, 0); // O_RDWR: no wait for a writer
                try {
                    Thread w = Thread.ofPlatform().start(() -> {
                        try {
                            Thread.sleep(200);
                            DirectSyscalls.syscalls().write(fd, "hi".getBytes());
                        } catch (Exception x) {
                            throw new AssertionError(x);
                        }
                    });
                    byte[] b = new byte[8];
                    assertEquals(2, s.read(fd, b), policy + ": the read must wait for the data, as read(2) does");
                    w.join();
                } finally {
                    closeDirect(fd);
                }
            }
        }
    }

    /**
     * read(2) of /dev/zero (or /dev/urandom) never comes back short; the kernel's read of those
     * devices stops after a page when a reschedule is due and the read may not wait (as
     * io_uring's read is, and the engine's RWF_NOWAIT probe), so on the ring a long read could
     * return a page (found by the differential fuzzer on IO_URING_SQPOLL, whose polling
     * thread is due for a reschedule often).
     */
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(120)
    void aReadOfDevZeroIsNeverShort(Engine kind) throws Exception {
        try (UringEngine e = open(kind); Arena a = Arena.ofConfined()) {
            Syscalls s = e.syscalls();
            int zero = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/zero", O_RDONLY | O_CLOEXEC, 0);
            int urandom = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/urandom", O_RDONLY | O_CLOEXEC, 0);
            try {
                MemorySegment buf = a.allocate(256 * 1024);
                // Load on the other CPU makes the reschedule checks fire, as the fuzzer's runs had it.
                Thread load = Thread.ofPlatform().daemon().start(() -> {
                    long x = 0;
                    while (!Thread.currentThread().isInterrupted()) x += System.nanoTime() & 1;
                });
                try {
                    for (int i = 0; i < 400; i++) {
                        long len = 4097 + (i * 4099L) % (buf.byteSize() - 4097);
                        assertEquals(len, s.read(zero, buf.asSlice(0, len)), "read of /dev/zero, " + len + " bytes, round " + i);
                        assertEquals(len, s.read(urandom, buf.asSlice(0, len)), "read of /dev/urandom, " + len + " bytes, round " + i);
                    }
                } finally {
                    load.interrupt();
                }
            } finally {
                closeDirect(zero);
                closeDirect(urandom);
            }
        }
    }

    /**
     * Calls of zero bytes: read(2) and pread64(2) still check the file (EISDIR for a
     * directory), io_uring's read returns 0 without looking; splice(2) returns 0 before it
     * checks the descriptors, io_uring's splice checks them first. Found by the fuzzer.
     */
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    void aZeroLengthReadOfADirectoryIsEisdirAsFromTheSyscall(Engine kind) throws Exception {
        try (UringEngine e = open(kind); Arena a = Arena.ofConfined()) {
            int dir = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            try {
                MemorySegment empty = a.allocate(0);
                assertEquals(dev.flexsc.Errno.EISDIR, assertThrows(dev.flexsc.ErrnoException.class,
                        () -> e.syscalls().read(dir, empty)).errno());
                assertEquals(dev.flexsc.Errno.EISDIR, assertThrows(dev.flexsc.ErrnoException.class,
                        () -> e.syscalls().pread(dir, empty, 0)).errno());
                // splice(2) of zero bytes returns 0 before it looks at the descriptors; io_uring's checks them.
                assertEquals(0, DirectSyscalls.syscalls().splice(dir, -1, -1, -1, 0, 0));
                assertEquals(0, e.syscalls().splice(dir, -1, -1, -1, 0, 0));
            } finally {
                closeDirect(dir);
            }
        }
    }
}
