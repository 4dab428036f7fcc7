package dev.flexsc.bench.http;

import dev.flexsc.ErrnoException;
import dev.flexsc.Stat;
import dev.flexsc.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/1.1 static-file server whose every system call goes through one {@link Syscalls}:
 * accept4, recvfrom, openat, fstat, sendto, sendfile, close. With direct calls on
 * {@code Executors.newFixedThreadPool} it is the paper's NPTL baseline; with an engine's
 * calls on {@code FlexscExecutors} it is the FlexSC server. One task per connection.
 */
public final class SyscallHttpServer implements HttpBench.Server {
    private static final int AF_INET = 2, SOCK_STREAM = 1, SOCK_CLOEXEC = 02000000, SOL_SOCKET = 1,
            SO_REUSEADDR = 2, O_RDONLY = 0, O_CLOEXEC = 02000000, SHUT_RDWR = 2, IPPROTO_TCP = 6, TCP_NODELAY = 1;

    private final Syscalls sys;
    private final ExecutorService pool;
    private final String root;
    private final int listenFd;
    private final int port;
    private final Thread acceptor;
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean closed;

    /** Binds 127.0.0.1 on an ephemeral port and starts accepting. */
    public SyscallHttpServer(Syscalls sys, ExecutorService pool, Path root) throws IOException {
        this.sys = sys;
        this.pool = pool;
        this.root = root.toAbsolutePath() + "/";
        this.listenFd = sys.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sys.setsockopt(listenFd, SOL_SOCKET, SO_REUSEADDR, 1);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(16, 4);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
            addr.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 4, 0x7f000001);
            sys.bind(listenFd, addr);
            sys.listen(listenFd, 4096);
            // getsockname is not on the allow-list (nor needed exception-less): ask the JDK-free way
            MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, 16);
            long r = dev.flexsc.nativeimpl.DirectSyscalls.raw(51, listenFd, addr.address(), len.address(), 0, 0, 0);
            if (r < 0) throw new ErrnoException("getsockname(fd=" + listenFd + ")", (int) -r);
            this.port = Short.toUnsignedInt(addr.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 2));
        }
        this.acceptor = Thread.ofPlatform().name("http-accept").start(this::acceptLoop);
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public long requests() {
        return requests.get();
    }

    private void acceptLoop() {
        while (!closed) {
            int fd;
            try {
                fd = sys.accept4(listenFd, null, SOCK_CLOEXEC);
            } catch (IOException e) {
                if (closed) return;
                continue; // ECONNABORTED and friends: keep serving
            }
            try {
                pool.execute(() -> serve(fd));
            } catch (RuntimeException rejected) {
                closeQuietly(fd);
            }
        }
    }

    private void serve(int fd) {
        try (Arena a = Arena.ofConfined()) {
            sys.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
            MemorySegment in = a.allocate(8192);
            byte[] head = new byte[8192];
            int have = 0;
            while (!closed) {
                int end = HttpRequests.headEnd(head, have);
                if (end < 0) {
                    if (have == head.length) return; // head too large: drop the connection
                    long n = sys.recvfrom(fd, in.asSlice(0, head.length - have), 0, null);
                    if (n <= 0) return;
                    MemorySegment.copy(in, ValueLayout.JAVA_BYTE, 0, head, have, (int) n);
                    have += (int) n;
                    continue;
                }
                boolean keep = HttpRequests.keepAlive(head, end);
                respond(a, fd, HttpRequests.fileName(HttpRequests.target(head, end)), keep);
                requests.incrementAndGet();
                System.arraycopy(head, end, head, 0, have - end);
                have -= end;
                if (!keep) return;
            }
        } catch (IOException e) {
            // peer went away (EPIPE, ECONNRESET): end the connection
        } finally {
            closeQuietly(fd);
        }
    }

    private void respond(Arena a, int fd, String name, boolean keep) throws IOException {
        int file;
        try {
            file = name == null ? -1 : sys.openat(Syscalls.AT_FDCWD, root + name, O_RDONLY | O_CLOEXEC, 0);
        } catch (ErrnoException e) {
            file = -1;
        }
        if (file < 0) {
            sendAll(a, fd, HttpRequests.NOT_FOUND);
            return;
        }
        try {
            Stat st = sys.fstat(file);
            sendAll(a, fd, HttpRequests.okHead(st.size(), keep));
            long off = 0;
            while (off < st.size()) {
                long n = sys.sendfile(fd, file, off, st.size() - off);
                if (n <= 0) throw new IOException("sendfile made no progress");
                off += n;
            }
        } finally {
            sys.close(file);
        }
    }

    private void sendAll(Arena a, int fd, byte[] b) throws IOException {
        MemorySegment m = a.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        long off = 0;
        while (off < b.length) off += sys.sendto(fd, m.asSlice(off), 0x4000 /* MSG_NOSIGNAL */, null);
    }

    private void closeQuietly(int fd) {
        try {
            sys.close(fd);
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Stops accepting (shutdown wakes the blocked accept) and closes the listening socket. */
    @Override
    public void close() throws IOException {
        closed = true;
        try {
            sys.shutdown(listenFd, SHUT_RDWR);
        } catch (IOException ignored) {
            // not connected: accept still wakes with EINVAL
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sys.close(listenFd);
    }
}
