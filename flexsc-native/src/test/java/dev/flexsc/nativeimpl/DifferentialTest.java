package dev.flexsc.nativeimpl;

import dev.flexsc.Engine;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Stat;
import dev.flexsc.Syscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;
import static dev.flexsc.SocketConstants.*;

/**
 * Every typed call through the engine against the same call made directly (FFM
 * downcall on the calling thread): equal results and equal side effects. A contract every
 * engine must meet: the suite runs once per engine of {@link TestSupport#enginesUnderTest()}
 * (the one named by -Dflexsc.test.engine, else SYSCALL_THREADS, IO_URING and
 * IO_URING_SQPOLL), each skipped with the reason where it cannot run.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.flexsc.nativeimpl.TestSupport#enginesUnderTest")
class DifferentialTest {
    /** The engine of the current invocation, opened before its tests and closed after them. */
    private static FlexscEngine engine;
    private static Syscalls flexsc;
    private static final Syscalls direct = DirectSyscalls.syscalls();

    @Parameter
    Engine kind;

    @TempDir
    Path dir;

    @BeforeParameterizedClassInvocation
    static void open(Engine kind) throws IOException {
        engine = TestSupport.openEngine(config(kind));
        flexsc = engine.syscalls();
    }

    @AfterParameterizedClassInvocation
    static void close() {
        if (engine != null) engine.close();
        engine = null;
        flexsc = null;
    }

    @Test
    void identityCalls() throws IOException {
        assertEquals(direct.getpid(), flexsc.getpid());
        assertEquals(ProcessHandle.current().pid(), flexsc.getpid());
        assertEquals(direct.getppid(), flexsc.getppid());
        assertEquals(direct.getuid(), flexsc.getuid());
        assertEquals(direct.getgid(), flexsc.getgid());
        assertEquals(direct.uname(), flexsc.uname());
        assertEquals("Linux", flexsc.uname().sysname());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(64);
            assertEquals(64, flexsc.getrandom(r, 0));
            byte[] heap = new byte[32];
            assertEquals(32, flexsc.getrandom(MemorySegment.ofArray(heap), 0));
        }
    }

    /** Runs one script of file operations with the given calls; returns every result in order. */
    private List<Object> fileScript(Syscalls s, Path file) throws IOException {
        List<Object> out = new ArrayList<>();
        Random rnd = new Random(42);
        try (Arena a = Arena.ofConfined()) {
            int fd = s.openat(Syscalls.AT_FDCWD, file.toString(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            out.add(fd >= 0);
            MemorySegment buf = a.allocate(4096);
            byte[] data = new byte[4096];
            for (int i = 0; i < 20; i++) {
                rnd.nextBytes(data);
                MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
                int len = 1 + rnd.nextInt(4096);
                switch (i % 5) {
                    case 0 -> out.add(s.write(fd, buf.asSlice(0, len)));
                    case 1 -> out.add(s.write(fd, java.util.Arrays.copyOf(data, len))); // heap copy path
                    case 2 -> out.add(s.pwrite(fd, buf.asSlice(0, len), rnd.nextInt(20000)));
                    case 3 -> out.add(s.pwrite(fd, data, 0, len, rnd.nextInt(20000)));
                    default -> out.add(s.writev(fd, buf.asSlice(0, len / 2), MemorySegment.ofArray(data).asSlice(0, len - len / 2)));
                }
                out.add(s.lseek(fd, 0, SEEK_CUR));
            }
            out.add(s.lseek(fd, 100, SEEK_SET));
            MemorySegment rb = a.allocate(1000);
            out.add(s.read(fd, rb));
            out.add(rb.toArray(ValueLayout.JAVA_BYTE));
            byte[] hb = new byte[777];
            out.add(s.read(fd, hb));
            out.add(hb);
            out.add(s.pread(fd, rb, 5));
            out.add(rb.toArray(ValueLayout.JAVA_BYTE));
            out.add(s.pread(fd, hb, 1, 500, 9000));
            out.add(hb);
            MemorySegment v1 = a.allocate(10), v2 = MemorySegment.ofArray(new byte[20]);
            out.add(s.readv(fd, v1, v2));
            out.add(v1.toArray(ValueLayout.JAVA_BYTE));
            out.add(v2.toArray(ValueLayout.JAVA_BYTE));
            out.add(s.lseek(fd, 0, SEEK_END));
            Stat st = s.fstat(fd);
            out.add(st.size());
            out.add(st.mode());
            out.add(st.isRegularFile());
            s.ftruncate(fd, 12345);
            out.add(s.fstat(fd).size());
            s.fallocate(fd, 0, 0, 50000);
            out.add(s.fstat(fd).size());
            s.fadvise(fd, 0, 0, 0);
            s.fsync(fd);
            s.fdatasync(fd);
            out.add(s.pread(fd, rb, 1_000_000)); // past the end: 0
            s.close(fd);
        }
        return out;
    }

    @Test
    void fileCallsMatchDirectCalls() throws IOException {
        Path f1 = dir.resolve("flexsc.bin"), f2 = dir.resolve("direct.bin");
        List<Object> viaFlexsc = fileScript(flexsc, f1);
        List<Object> viaDirect = fileScript(direct, f2);
        assertEquals(viaDirect.size(), viaFlexsc.size());
        for (int i = 0; i < viaDirect.size(); i++) {
            Object d = viaDirect.get(i), f = viaFlexsc.get(i);
            if (d instanceof byte[] db) assertArrayEquals(db, (byte[]) f, "result " + i);
            else assertEquals(d, f, "result " + i);
        }
        assertArrayEquals(Files.readAllBytes(f2), Files.readAllBytes(f1), "file contents differ");
        assertEquals(50000, Files.size(f1));
    }

    @Test
    void directoryCallsMatchDirectCalls() throws IOException {
        for (Syscalls s : List.of(flexsc, direct)) {
            Path d = dir.resolve(s == flexsc ? "f" : "d");
            s.mkdirat(Syscalls.AT_FDCWD, d.toString(), 0755);
            assertTrue(Files.isDirectory(d));
            int fd = s.openat(Syscalls.AT_FDCWD, d.resolve("a").toString(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            s.close(fd);
            s.renameat2(Syscalls.AT_FDCWD, d.resolve("a").toString(), Syscalls.AT_FDCWD, d.resolve("b").toString(), 0);
            assertTrue(Files.exists(d.resolve("b")));
            assertFalse(Files.exists(d.resolve("a")));
            Stat st = s.fstatat(Syscalls.AT_FDCWD, d.resolve("b").toString(), 0);
            assertEquals(Files.getAttribute(d.resolve("b"), "unix:ino"), st.ino());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sx = a.allocate(256, 8);
                s.statx(Syscalls.AT_FDCWD, d.resolve("b").toString(), 0, 0xfff, sx);
                assertEquals(st.ino(), sx.get(ValueLayout.JAVA_LONG, 32)); // stx_ino
                int dfd = s.openat(Syscalls.AT_FDCWD, d.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
                MemorySegment ents = a.allocate(4096, 8);
                long n = s.getdents64(dfd, ents);
                assertTrue(n > 0);
                List<String> names = new ArrayList<>();
                for (long off = 0; off < n; ) {
                    int reclen = Short.toUnsignedInt(ents.get(ValueLayout.JAVA_SHORT, off + 16));
                    names.add(ents.getString(off + 19));
                    off += reclen;
                }
                assertTrue(names.containsAll(List.of(".", "..", "b")), names.toString());
                assertEquals(0, s.getdents64(dfd, ents));
                s.close(dfd);
            }
            s.unlinkat(Syscalls.AT_FDCWD, d.resolve("b").toString(), 0);
            s.unlinkat(Syscalls.AT_FDCWD, d.toString(), 0x200);
            assertFalse(Files.exists(d));
        }
    }

    @Test
    void sendfileAndSpliceMoveTheSameBytes() throws IOException {
        byte[] content = new byte[100_000];
        new Random(7).nextBytes(content);
        Path src = dir.resolve("src");
        Files.write(src, content);
        for (Syscalls s : List.of(flexsc, direct)) {
            Path dst = dir.resolve(s == flexsc ? "dst-f" : "dst-d");
            int in = s.openat(Syscalls.AT_FDCWD, src.toString(), O_RDONLY | O_CLOEXEC, 0);
            int out = s.openat(Syscalls.AT_FDCWD, dst.toString(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            assertEquals(1000, s.sendfile(out, in, 10, 1000));
            assertEquals(0, s.lseek(in, 0, SEEK_CUR), "sendfile with an offset leaves the position");
            assertEquals(500, s.sendfile(out, in, -1, 500));
            assertEquals(500, s.lseek(in, 0, SEEK_CUR), "sendfile without an offset advances it");
            int[] p = pipe();
            assertEquals(300, s.splice(in, 2000, p[1], -1, 300, 0));
            assertEquals(300, s.splice(p[0], -1, out, -1, 300, 0));
            closeDirect(p[0]);
            closeDirect(p[1]);
            s.close(in);
            s.close(out);
            byte[] got = Files.readAllBytes(dst);
            byte[] want = new byte[1800];
            System.arraycopy(content, 10, want, 0, 1000);
            System.arraycopy(content, 0, want, 1000, 500);
            System.arraycopy(content, 2000, want, 1500, 300);
            assertArrayEquals(want, got);
        }
    }

    @Test
    void madviseOnAnonymousMemory() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment region = a.allocate(64 * 4096, 4096);
            flexsc.madvise(region, 3 /* MADV_WILLNEED */);
            direct.madvise(region, 3);
        }
    }

    @Test
    void readinessCallsAsDirect() throws IOException {
        Syscalls s = flexsc;
        int[] p = s.pipe2(O_NONBLOCK | O_CLOEXEC);
        int ep = -1, efd = -1;
        try (Arena a = Arena.ofConfined()) {
            // poll and the engine's readiness wait: nothing yet, then data
            MemorySegment pf = a.allocate(8, 4);
            pf.set(ValueLayout.JAVA_INT, 0, p[0]);
            pf.set(ValueLayout.JAVA_SHORT, 4, (short) dev.flexsc.PollFlags.POLLIN);
            assertEquals(0, s.poll(pf, 1, 0));
            assertEquals(0, s.poll(pf, 1, 20), "timeout");
            assertEquals(0, s.awaitReady(p[0], dev.flexsc.PollFlags.POLLIN, 20), "timeout");
            assertEquals(dev.flexsc.PollFlags.POLLOUT, s.awaitReady(p[1], dev.flexsc.PollFlags.POLLOUT, -1));
            assertEquals(1, direct.write(p[1], new byte[] {7}));
            assertEquals(1, s.poll(pf, 1, -1));
            assertEquals(dev.flexsc.PollFlags.POLLIN, pf.get(ValueLayout.JAVA_SHORT, 6));
            assertEquals(dev.flexsc.PollFlags.POLLIN, s.awaitReady(p[0], dev.flexsc.PollFlags.POLLIN, -1));
            // epoll: the event's data comes back, EEXIST as directly, drained list is empty
            ep = s.epollCreate1(dev.flexsc.PollFlags.EPOLL_CLOEXEC);
            s.epollCtl(ep, dev.flexsc.PollFlags.EPOLL_CTL_ADD, p[0], dev.flexsc.PollFlags.EPOLLIN, 0x1234_5678_9abc_def0L);
            int epfd = ep;
            dev.flexsc.ErrnoException dup = assertThrows(dev.flexsc.ErrnoException.class,
                    () -> s.epollCtl(epfd, dev.flexsc.PollFlags.EPOLL_CTL_ADD, p[0], dev.flexsc.PollFlags.EPOLLIN, 0));
            assertEquals(dev.flexsc.Errno.EEXIST, dup.errno());
            MemorySegment evs = a.allocate(12 * 4, 4);
            assertEquals(1, s.epollWait(ep, evs, 4, -1));
            assertEquals(dev.flexsc.PollFlags.EPOLLIN, evs.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0x1234_5678_9abc_def0L, evs.get(ValueLayout.JAVA_LONG_UNALIGNED, 4));
            assertEquals(dev.flexsc.PollFlags.POLLIN, s.awaitReady(ep, dev.flexsc.PollFlags.POLLIN, -1), "epoll fd readable");
            assertEquals(1, direct.read(p[0], new byte[1]));
            assertEquals(0, s.epollWait(ep, evs, 4, 0));
            assertEquals(0, s.epollWait(ep, evs, 4, 20), "timeout");
            s.epollCtl(ep, dev.flexsc.PollFlags.EPOLL_CTL_DEL, p[0], 0, 0);
            // eventfd: a write makes it readable
            efd = s.eventfd2(0, dev.flexsc.PollFlags.EFD_NONBLOCK | dev.flexsc.PollFlags.EFD_CLOEXEC);
            assertEquals(0, s.awaitReady(efd, dev.flexsc.PollFlags.POLLIN, 0));
            MemorySegment one = a.allocate(8);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            assertEquals(8, s.write(efd, one));
            assertEquals(dev.flexsc.PollFlags.POLLIN, s.awaitReady(efd, dev.flexsc.PollFlags.POLLIN, -1));
            // errors as directly
            dev.flexsc.ErrnoException bad = assertThrows(dev.flexsc.ErrnoException.class, () -> s.epollWait(-1, evs, 4, 0));
            assertEquals(dev.flexsc.Errno.EBADF, bad.errno());
            assertEquals(dev.flexsc.PollFlags.POLLNVAL, s.awaitReady(999_999, dev.flexsc.PollFlags.POLLIN, 0),
                    "poll of a closed descriptor reports POLLNVAL");
        } finally {
            closeDirect(p[0], p[1]);
            if (ep >= 0) closeDirect(ep);
            if (efd >= 0) closeDirect(efd);
        }
    }

    @Test
    void socketCallsWorkEndToEnd() throws IOException {
        Syscalls s = flexsc;
        try (Arena a = Arena.ofConfined()) {
            int srv = s.socket(AF_INET, SOCK_STREAM | O_CLOEXEC, 0);
            s.setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, 1);
            assertEquals(1, s.getsockoptInt(srv, SOL_SOCKET, SO_REUSEADDR));
            assertEquals(SOCK_STREAM, s.getsockoptInt(srv, SOL_SOCKET, SO_TYPE));
            MemorySegment addr = a.allocate(16, 4);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
            addr.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 4, 0x7f000001);
            s.bind(srv, addr);
            s.listen(srv, 16);
            assertEquals(16, s.getsockname(srv, addr)); // the port the kernel chose
            int cli = s.socket(AF_INET, SOCK_STREAM | O_CLOEXEC, 0);
            s.connect(cli, addr);
            MemorySegment peer = a.allocate(16, 4);
            int conn = s.accept4(srv, peer, O_CLOEXEC);
            assertEquals(AF_INET, peer.get(ValueLayout.JAVA_SHORT, 0));
            MemorySegment named = a.allocate(16, 4), direct16 = a.allocate(16, 4);
            assertEquals(16, s.getpeername(conn, named));
            assertEquals(16, direct.getpeername(conn, direct16));
            assertEquals(-1, named.mismatch(direct16), "getpeername through the engine and directly");
            assertEquals(-1, named.mismatch(peer), "getpeername is what accept4 reported");
            assertEquals(5, s.sendto(cli, bytes(a, "hello"), 0, null));
            MemorySegment rb = a.allocate(16);
            assertEquals(5, s.recvfrom(conn, rb, 0, null));
            assertEquals("hello", new String(rb.asSlice(0, 5).toArray(ValueLayout.JAVA_BYTE)));
            // sendmsg/recvmsg with one iovec each
            MemorySegment iov = a.allocate(16, 8), msg = a.allocate(56, 8);
            MemorySegment payload = bytes(a, "world!");
            iov.set(ValueLayout.JAVA_LONG, 0, payload.address());
            iov.set(ValueLayout.JAVA_LONG, 8, payload.byteSize());
            msg.set(ValueLayout.JAVA_LONG, 16, iov.address());
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            assertEquals(6, s.sendmsg(conn, msg, 0));
            MemorySegment rin = a.allocate(32), riov = a.allocate(16, 8), rmsg = a.allocate(56, 8);
            riov.set(ValueLayout.JAVA_LONG, 0, rin.address());
            riov.set(ValueLayout.JAVA_LONG, 8, rin.byteSize());
            rmsg.set(ValueLayout.JAVA_LONG, 16, riov.address());
            rmsg.set(ValueLayout.JAVA_LONG, 24, 1);
            assertEquals(6, s.recvmsg(cli, rmsg, 0));
            assertEquals("world!", new String(rin.asSlice(0, 6).toArray(ValueLayout.JAVA_BYTE)));
            s.shutdown(cli, 1 /* SHUT_WR */);
            assertEquals(0, s.read(conn, rb), "orderly shutdown reads 0");
            s.close(conn);
            s.close(cli);
            s.close(srv);
        }
    }

    /** The call's result, or "errno N" if it failed with an ErrnoException. */
    private static Object outcome(IoCall call) {
        try {
            return call.run();
        } catch (dev.flexsc.ErrnoException e) {
            return "errno " + e.errno();
        } catch (IOException e) {
            return e.toString();
        }
    }

    @FunctionalInterface
    interface IoCall {
        Object run() throws IOException;
    }

    /** Corner cases where an engine could differ from the syscall: errors, non-seekable and non-blocking files. */
    private List<Object> edgeScript(Syscalls s, Path file) throws IOException {
        List<Object> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            int[] p = pipe(O_CLOEXEC);
            int[] nb = pipe(O_CLOEXEC | O_NONBLOCK);
            int fd = s.openat(Syscalls.AT_FDCWD, file.toString(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            try {
                out.add(outcome(() -> s.write(fd, "0123456789".getBytes())));
                out.add(outcome(() -> s.pread(fd, buf, -1)));            // EINVAL, not "the file position"
                out.add(outcome(() -> s.pwrite(fd, buf.asSlice(0, 4), -2)));
                out.add(outcome(() -> s.lseek(fd, 3, SEEK_SET)));
                out.add(outcome(() -> s.read(fd, buf.asSlice(0, 4))));   // at the position: 4 bytes from 3
                out.add(outcome(() -> buf.asSlice(0, 4).toArray(ValueLayout.JAVA_BYTE)));
                out.add(outcome(() -> s.lseek(fd, 0, SEEK_CUR)));        // read advanced it to 7
                out.add(outcome(() -> s.pread(fd, buf.asSlice(0, 4), 0)));
                out.add(outcome(() -> s.lseek(fd, 0, SEEK_CUR)));        // pread did not move it
                out.add(outcome(() -> s.readv(fd)));                     // no buffers: 0
                out.add(outcome(() -> s.write(p[1], "xyz".getBytes())));
                out.add(outcome(() -> s.pread(p[0], buf.asSlice(0, 3), 0))); // ESPIPE on a pipe
                out.add(outcome(() -> s.read(p[0], buf.asSlice(0, 3))));
                // EAGAIN: O_NONBLOCK and empty
                out.add(outcome(() -> s.read(nb[0], buf.asSlice(0, 3))));
                out.add(outcome(() -> { s.fsync(p[0]); return 0; })); // EINVAL on a pipe
                out.add(outcome(() -> { s.ftruncate(fd, -1); return 0; })); // EINVAL
                out.add(outcome(() -> { s.ftruncate(987654, 1); return 0; })); // EBADF
                out.add(outcome(() -> { s.fallocate(fd, 0, 0, -1); return 0; })); // EINVAL
                out.add(outcome(() -> s.write(-1, new byte[1])));              // EBADF
                out.add(outcome(() -> s.read(fd, MemorySegment.ofAddress(16).reinterpret(8)))); // EFAULT (3 bytes left to copy)
                out.add(outcome(() -> s.openat(Syscalls.AT_FDCWD, file + ".missing/x", O_RDONLY, 0))); // ENOENT
                out.add(outcome(() -> { s.mkdirat(Syscalls.AT_FDCWD, file.toString(), 0755); return 0; })); // EEXIST
                out.add(outcome(() -> { s.unlinkat(Syscalls.AT_FDCWD, file.toString(), 0x1234); return 0; })); // EINVAL
                out.add(outcome(() -> s.sendto(p[1], buf.asSlice(0, 1), 0, null)));  // ENOTSOCK
                out.add(outcome(() -> s.accept4(fd, null, 0)));                     // ENOTSOCK
                out.add(outcome(() -> s.accept4(fd, null, 0x4000_0000)));           // EINVAL (bad flags)
                out.add(outcome(() -> s.socket(2, 1 | 0x4000_0000, 0)));            // EINVAL (bad type flags)
                out.add(outcome(() -> s.getdents64(fd, a.allocate(256))));          // ENOTDIR
                out.add(outcome(() -> s.lseek(fd, 0, SEEK_END)));
                // A write larger than the pipe (64 KiB) with a reader draining it: all of it, as the blocking syscall.
                byte[] big = new byte[300_000];
                new Random(3).nextBytes(big);
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                Thread reader = Thread.ofPlatform().start(() -> {
                    try {
                        byte[] rb = new byte[8192];
                        long n;
                        while (got.size() < big.length && (n = direct.read(p[0], rb)) > 0) got.write(rb, 0, (int) n);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                out.add(outcome(() -> s.write(p[1], big)));
                try {
                    reader.join(10_000);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                out.add(java.util.Arrays.equals(big, got.toByteArray()));
            } finally {
                s.close(fd);
                for (int x : new int[] {p[0], p[1], nb[0], nb[1]}) closeDirect(x);
            }
        }
        return out;
    }

    @Test
    void errorsAndFilePositionsMatchDirectCalls() throws IOException {
        List<Object> viaDirect = edgeScript(direct, dir.resolve("edge-d"));
        List<Object> viaFlexsc = edgeScript(flexsc, dir.resolve("edge-f"));
        assertEquals(viaDirect.size(), viaFlexsc.size());
        for (int i = 0; i < viaDirect.size(); i++) {
            Object d = viaDirect.get(i), f = viaFlexsc.get(i);
            if (d instanceof byte[] db) assertArrayEquals(db, (byte[]) f, "edge case " + i);
            else assertEquals(d, f, "edge case " + i + " (direct " + viaDirect + ")");
        }
        assertEquals(Boolean.TRUE, viaDirect.get(viaDirect.size() - 1));
    }
}
