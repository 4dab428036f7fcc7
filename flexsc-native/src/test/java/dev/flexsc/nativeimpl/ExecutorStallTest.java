package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.page.PageEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * SYSCALL_THREADS executors stuck inside calls (libflexsc's stall monitor) and interrupted
 * calls (never retried). A TCP socket stands in for a hung NFS or FUSE file: close() with
 * SO_LINGER blocks while unsent data cannot leave (the peer never reads), and the allow-list
 * does not flag close as may-block; a connect to a listener whose accept queue is full blocks
 * (SYNs are dropped) with the connection attempt in progress.
 */
class ExecutorStallTest {
    private static final int AF_INET = 2, SOCK_STREAM = 1, SOL_SOCKET = 1, SO_LINGER = 13, F_SETFL = 4,
            O_NONBLOCK = 04000, SYS_SOCKET = 41, SYS_CONNECT = 42, SYS_WRITE = 1, SYS_FCNTL = 72,
            SYS_SETSOCKOPT = 54, SYS_CLOSE = 3, SYS_TGKILL = 234;
    /** FLEXSC_SIG in flexsc.c: SIGRTMIN (34 under glibc) + 6. */
    private static final int FLEXSC_SIG = 40;
    private static final int EALREADY = 114, EINPROGRESS = 115;

    private static FlexscConfig config(int poolThreads) {
        return TestSupport.config().toBuilder().engine(Engine.SYSCALL_THREADS).poolThreads(poolThreads)
                .policy(CallPolicy.EXCEPTIONLESS).build();
    }

    private static MemorySegment sockaddr(Arena a, int port) {
        MemorySegment s = a.allocate(16);
        s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
        s.set(ValueLayout.JAVA_BYTE, 2, (byte) (port >>> 8));
        s.set(ValueLayout.JAVA_BYTE, 3, (byte) port);
        s.set(ValueLayout.JAVA_INT, 4, 0x0100007f); // 127.0.0.1, network order
        return s;
    }

    private static long raw(int nr, long... a) {
        long[] x = new long[6];
        System.arraycopy(a, 0, x, 0, a.length);
        return DirectSyscalls.raw(nr, x[0], x[1], x[2], x[3], x[4], x[5]);
    }

    /**
     * A connected socket with SO_LINGER 3 s whose send queue is full and whose peer never
     * reads: close() of it blocks for the linger time.
     */
    private static int lingeringSocket(Arena a, int port) {
        int fd = (int) raw(SYS_SOCKET, AF_INET, SOCK_STREAM, 0);
        assertTrue(fd >= 0, "socket: " + fd);
        MemorySegment linger = a.allocate(8);
        linger.set(ValueLayout.JAVA_INT, 0, 1);
        linger.set(ValueLayout.JAVA_INT, 4, 3);
        assertEquals(0, raw(SYS_SETSOCKOPT, fd, SOL_SOCKET, SO_LINGER, linger.address(), 8));
        assertEquals(0, raw(SYS_CONNECT, fd, sockaddr(a, port).address(), 16));
        assertEquals(0, raw(SYS_FCNTL, fd, F_SETFL, O_NONBLOCK));
        MemorySegment buf = a.allocate(65536);
        long w;
        while ((w = raw(SYS_WRITE, fd, buf.address(), buf.byteSize())) > 0) {
            // fill the send queue and the peer's receive buffer
        }
        assertEquals(-Errno.EAGAIN, w);
        return fd;
    }

    /**
     * {@code stuck} lingering closes posted on a pool of 2, then a getpid: returns how long the
     * getpid took, after checking that the closes really blocked (the stand-in worked).
     */
    private static long getpidBehindStuckCloses(int stuck) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0), 8);
             Arena a = Arena.ofShared();
             PageEngine e = open(config(2))) {
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            List<CompletableFuture<Long>> closes = new ArrayList<>();
            for (int i = 0; i < stuck; i++) {
                int fd = lingeringSocket(a, port);
                closes.add(CompletableFuture.supplyAsync(() -> {
                    long t0 = System.nanoTime();
                    try {
                        e.syscalls().close(fd);
                    } catch (Exception x) {
                        throw new RuntimeException(x);
                    }
                    return (System.nanoTime() - t0) / 1_000_000;
                }));
            }
            Thread.sleep(300); // the closes are inside the kernel now
            long t0 = System.nanoTime();
            assertEquals(ProcessHandle.current().pid(), e.syscalls().getpid());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            for (CompletableFuture<Long> c : closes) {
                long closeMs = c.get();
                assertTrue(closeMs >= 1000, "a close did not block (" + closeMs + " ms): the stand-in did not work");
            }
            System.out.println("stall: getpid behind " + stuck + " stuck close(s) took " + ms + " ms");
            return ms;
        }
    }

    /**
     * One executor stuck in a call the allow-list does not flag (close with a lingering
     * socket): a getpid posted behind it must not wait for it. Before the stall monitor the
     * group's only executor held the group (counted as running, so no submitter woke another)
     * and getpid took the whole linger time (about 3 s).
     */
    @Test
    @Timeout(60)
    void aCallStuckOutsideTheMayBlockFlagDoesNotStallTheGroup() throws Exception {
        long ms = getpidBehindStuckCloses(1);
        assertTrue(ms < 1500, "getpid waited " + ms + " ms behind a call stuck in close()");
    }

    /**
     * Calls stuck at the pool's size: poolThreads (2) lingering closes, then a getpid. The
     * monitor brings in executors beyond poolThreads (up to 4 x), so the getpid is not stuck
     * behind them.
     */
    @Test
    @Timeout(60)
    void poolThreadsStuckCallsDoNotDeadlockTheNextCall() throws Exception {
        long ms = getpidBehindStuckCloses(2);
        assertTrue(ms < 1500, "getpid waited " + ms + " ms behind poolThreads stuck calls");
    }

    /**
     * A call interrupted by FLEXSC_SIG returns EINTR and is never made again: a connect in
     * progress, retried, answers EALREADY (and a retried close could close a reused number).
     * The signal stands in for a cancel that arrives after its own call ended.
     */
    @Test
    @Timeout(60)
    void anInterruptedCallIsNotRetried() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0), 1);
             Arena a = Arena.ofShared();
             PageEngine e = open(config(2))) {
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            MemorySegment addr = sockaddr(a, port);
            // Fill the accept queue: connects that complete; the first one that does not
            // within 300 ms is blocked on a full queue (its SYN dropped).
            List<Integer> fillers = new ArrayList<>();
            boolean full = false;
            for (int i = 0; i < 16 && !full; i++) {
                int fd = (int) raw(SYS_SOCKET, AF_INET, SOCK_STREAM | O_NONBLOCK, 0);
                fillers.add(fd);
                long r = raw(SYS_CONNECT, fd, addr.address(), 16);
                if (r == -EINPROGRESS) {
                    Thread.sleep(300);
                    full = raw(SYS_CONNECT, fd, addr.address(), 16) == -EALREADY;
                }
            }
            assertTrue(full, "could not fill the listener's accept queue");
            int fd = (int) raw(SYS_SOCKET, AF_INET, SOCK_STREAM, 0);
            CompletableFuture<Integer> connect = CompletableFuture.supplyAsync(() -> {
                try {
                    e.syscalls().connect(fd, addr);
                    return 0;
                } catch (ErrnoException x) {
                    return x.errno();
                } catch (Exception x) {
                    throw new RuntimeException(x);
                }
            });
            // The connect waits for a SYN-ACK that does not come: signal the executor inside it,
            // once it is there (a fixed pause could signal before the call started on a loaded
            // host, and the connect then waited for the 60 s timeout).
            int inConnect = awaitThreadInSyscall("flexsc-exec", SYS_CONNECT, 10_000);
            raw(SYS_TGKILL, ProcessHandle.current().pid(), inConnect, FLEXSC_SIG);
            int errno = connect.get();
            assertEquals(Errno.EINTR, errno, "the interrupted connect ended with " + Errno.symbol(errno)
                    + " (EALREADY: it was made again)");
            raw(SYS_CLOSE, fd);
            for (int f : fillers) raw(SYS_CLOSE, f);
        }
    }

    /** A thread named {@code name} blocked in system call {@code nr} (/proc/self/task/TID/syscall). */
    private static int awaitThreadInSyscall(String name, int nr, long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            for (int tid : threadIds(name)) {
                try {
                    String sc = Files.readString(Path.of("/proc/self/task/" + tid + "/syscall")).trim();
                    if (sc.startsWith(nr + " ")) return tid;
                } catch (java.io.IOException gone) {
                    // the thread ended
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no " + name + " thread entered system call " + nr + " within " + timeoutMillis + " ms");
    }

    private static List<Integer> threadIds(String name) throws Exception {
        List<Integer> ids = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    if (Files.readString(t.resolve("comm")).trim().equals(name)) {
                        ids.add(Integer.parseInt(t.getFileName().toString()));
                    }
                } catch (java.io.IOException gone) {
                    // the thread ended
                }
            }
        }
        return ids;
    }
}
