package dev.flexsc.io;

import dev.flexsc.io.IoTestSupport.On;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The InterruptibleChannel contract: close() wakes a thread blocked in the channel with
 * AsynchronousCloseException; interrupting a blocked thread closes the channel and throws
 * ClosedByInterruptException with the interrupt status set. Blocked accept and blocked
 * read, on platform and green threads. And the descriptor is really closed afterwards.
 */
class CloseAndInterruptTest extends IoRuntimeTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private enum How { CLOSE, INTERRUPT }

    /** What the blocked thread saw. */
    private record Seen(Throwable thrown, boolean interruptStatus) {}

    /**
     * Starts {@code blocked} on a thread of kind {@code on}, waits until it is blocked, then
     * closes {@code ch} or interrupts the thread; returns what the thread saw.
     */
    private static Seen wake(On on, Channel ch, How how, BlockingCall blocked) throws Exception {
        AtomicReference<Seen> seen = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread t = on.start(rt, () -> {
            started.countDown();
            Throwable thrown = null;
            try {
                blocked.run();
            } catch (Throwable e) {
                thrown = e;
            }
            seen.set(new Seen(thrown, Thread.currentThread().isInterrupted()));
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
        Thread.sleep(300); // let the call reach the syscall thread and block in the kernel
        assertTrue(t.isAlive(), "the call did not block");
        assertNull(seen.get());
        long t0 = System.nanoTime();
        if (how == How.CLOSE) ch.close();
        else t.interrupt();
        t.join(5000);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertFalse(t.isAlive(), how + " did not wake the blocked thread");
        assertTrue(ms < 5000, "waking took " + ms + " ms"); // liveness: a close that does not wake it never does
        assertFalse(ch.isOpen(), "the channel must be closed");
        return seen.get();
    }

    @FunctionalInterface
    private interface BlockingCall {
        void run() throws Exception;
    }

    private static void check(How how, Seen s) {
        assertNotNull(s.thrown(), "the blocked call returned normally");
        if (how == How.CLOSE) {
            assertEquals(AsynchronousCloseException.class, s.thrown().getClass(), () -> "got " + s.thrown());
            assertFalse(s.interruptStatus());
        } else {
            assertEquals(ClosedByInterruptException.class, s.thrown().getClass(), () -> "got " + s.thrown());
            assertTrue(s.interruptStatus(), "the interrupt status must stay set");
        }
    }

    /** The fd is closed: its /proc/self/fd entry is gone or now names something else. */
    private static void assertFdReleased(int fd, String was) throws Exception {
        Path p = Path.of("/proc/self/fd/" + fd);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
            if (!Files.readSymbolicLink(p).toString().equals(was)) return; // reused by someone else: ours was closed
            Thread.sleep(10);
        }
        fail("fd " + fd + " (" + was + ") is still open");
    }

    private static String fdTarget(int fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void blockedAccept(On on) throws Exception {
        for (How how : How.values()) {
            FlexscServerSocketChannel server = FlexscServerSocketChannel.open(sys);
            server.bind(new InetSocketAddress(LOOPBACK, 0));
            int fd = server.channelFdForTest();
            String target = fdTarget(fd);
            Seen s = wake(on, server, how, server::accept);
            check(how, s);
            assertFdReleased(fd, target);
            assertThrows(ClosedChannelException.class, server::accept);
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void blockedRead(On on) throws Exception {
        for (How how : How.values()) {
            try (ServerSocketChannel jdkServer = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
                FlexscSocketChannel c = FlexscSocketChannel.open(sys, jdkServer.getLocalAddress());
                try (SocketChannel peer = jdkServer.accept()) {
                    int fd = c.channelFd().fd();
                    String target = fdTarget(fd);
                    ByteBuffer b = on == On.GREEN ? ByteBuffer.allocate(100) : ByteBuffer.allocateDirect(100);
                    Seen s = wake(on, c, how, () -> c.read(b));
                    check(how, s);
                    assertEquals(0, b.position(), "nothing was read");
                    assertFdReleased(fd, target);
                    // The peer sees the connection end.
                    assertEquals(-1, peer.read(ByteBuffer.allocate(1)));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void blockedWriteToAPeerThatDoesNotRead(On on) throws Exception {
        for (How how : How.values()) {
            try (ServerSocketChannel jdkServer = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
                FlexscSocketChannel c = FlexscSocketChannel.open(sys, jdkServer.getLocalAddress());
                try (SocketChannel peer = jdkServer.accept()) {
                    ByteBuffer big = ByteBuffer.allocateDirect(16 << 20);
                    // Fills the socket buffers, then blocks in sendto. A write cut short by the close
                    // returns its partial count (as the JDK's does) and the next one finds the channel closed.
                    Seen s = wake(on, c, how, () -> {
                        while (true) c.write(big.clear());
                    });
                    assertNotNull(s.thrown());
                    if (how == How.CLOSE) {
                        assertTrue(s.thrown().getClass() == AsynchronousCloseException.class
                                || s.thrown().getClass() == ClosedChannelException.class, () -> "got " + s.thrown());
                    } else {
                        check(how, s);
                    }
                    assertNotNull(peer);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void anInterruptedThreadClosesAFileChannelOnItsNextCall(On on) throws Exception {
        Path f = dir.resolve("f-" + on);
        Files.write(f, new byte[100]);
        FlexscFileChannel ch = FlexscFileChannel.open(sys, f);
        Seen s = on.run(rt, () -> {
            Thread.currentThread().interrupt();
            try {
                ch.read(ByteBuffer.allocate(10));
                return new Seen(null, Thread.currentThread().isInterrupted());
            } catch (Exception e) {
                return new Seen(e, Thread.interrupted());
            }
        });
        assertInstanceOf(ClosedByInterruptException.class, s.thrown());
        assertTrue(s.interruptStatus());
        assertFalse(ch.isOpen());
        // And the JDK does the same.
        try (java.nio.channels.FileChannel j = java.nio.channels.FileChannel.open(f)) {
            Thread.currentThread().interrupt();
            assertThrows(ClosedByInterruptException.class, () -> j.read(ByteBuffer.allocate(10)));
            assertTrue(Thread.interrupted());
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void closeDuringManyConcurrentReadsNeverBreaksAnotherFile(On on) throws Exception {
        // Readers hammer one channel while it is closed; every read either completes with the
        // right bytes or throws AsynchronousCloseException / ClosedChannelException: none may
        // read from a reused descriptor (a second file with other bytes is opened meanwhile).
        Path a = dir.resolve("a-" + on), b = dir.resolve("b-" + on);
        Files.write(a, filled((byte) 'a', 4096));
        Files.write(b, filled((byte) 'b', 4096));
        for (int round = 0; round < 20; round++) {
            FlexscFileChannel ch = FlexscFileChannel.open(sys, a);
            AtomicReference<Throwable> bad = new AtomicReference<>();
            Thread[] readers = new Thread[4];
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < readers.length; i++) {
                readers[i] = on.start(rt, () -> {
                    try {
                        go.await();
                        ByteBuffer buf = ByteBuffer.allocate(4096);
                        while (true) {
                            buf.clear();
                            int n = ch.read(buf, 0);
                            for (int k = 0; k < n; k++) {
                                if (buf.get(k) != 'a') throw new AssertionError("read byte " + buf.get(k) + " from a reused fd");
                            }
                        }
                    } catch (ClosedChannelException expected) { // AsynchronousCloseException included
                        // the close reached this reader
                    } catch (Throwable t) {
                        bad.compareAndSet(null, t);
                    }
                });
            }
            go.countDown();
            Thread.sleep(5);
            ch.close();
            try (FlexscFileChannel other = FlexscFileChannel.open(sys, b)) { // likely takes the same number
                other.read(ByteBuffer.allocate(1), 0);
                for (Thread t : readers) t.join(10_000);
            }
            for (Thread t : readers) assertFalse(t.isAlive());
            assertNull(bad.get(), () -> "round: " + bad.get());
        }
    }

    private static byte[] filled(byte v, int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, v);
        return b;
    }
}
