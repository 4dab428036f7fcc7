package dev.flexsc.io;

import dev.flexsc.io.IoTestSupport.On;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** FlexSC socket channels against the JDK's on loopback: echo, large transfers, shutdown, EOF, errors. */
class SocketChannelTest extends IoRuntimeTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** Own threads: the common pool has one thread on a 2-CPU machine, too few for both ends. */
    private static final java.util.concurrent.ExecutorService POOL = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "socket-test-peer");
        t.setDaemon(true);
        return t;
    });

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Reads exactly n bytes or fails at end of stream. */
    private static byte[] readFully(SocketChannel ch, int n, boolean direct) throws IOException {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException("EOF after " + b.position() + " of " + n);
        }
        byte[] out = new byte[n];
        b.flip().get(out);
        return out;
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void flexscServerEchoesToJdkClientsAndReportsAddresses(On on) throws Exception {
        try (FlexscServerSocketChannel server = FlexscServerSocketChannel.open(sys)) {
            server.bind(new InetSocketAddress(LOOPBACK, 0));
            InetSocketAddress addr = (InetSocketAddress) server.getLocalAddress();
            assertTrue(addr.getPort() > 0);
            int clients = 4, size = 2 << 20;
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                try {
                    on.run(rt, () -> {
                        for (int c = 0; c < clients; c++) {
                            try (FlexscSocketChannel s = server.accept()) {
                                assertTrue(s.isConnected());
                                assertEquals(LOOPBACK, ((InetSocketAddress) s.getRemoteAddress()).getAddress());
                                assertEquals(addr.getPort(), ((InetSocketAddress) s.getLocalAddress()).getPort());
                                ByteBuffer b = (c % 2 == 0) ? ByteBuffer.allocate(65536) : ByteBuffer.allocateDirect(65536);
                                while (s.read(b.clear()) >= 0) { // echo until the client shuts its output
                                    b.flip();
                                    while (b.hasRemaining()) s.write(b);
                                }
                                s.shutdownOutput();
                            }
                        }
                        return null;
                    });
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, POOL);
            for (int c = 0; c < clients; c++) {
                byte[] data = random(size, c);
                try (SocketChannel client = SocketChannel.open(addr)) {
                    CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                        try {
                            byte[] got = readFully(client, size, false);
                            assertEquals(-1, client.read(ByteBuffer.allocate(1)), "EOF after the server's shutdownOutput");
                            return got;
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }, POOL);
                    ByteBuffer out = ByteBuffer.wrap(data);
                    while (out.hasRemaining()) client.write(out);
                    client.shutdownOutput();
                    assertArrayEquals(data, back.get(30, TimeUnit.SECONDS), "echo of client " + c);
                }
            }
            serving.get(30, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void flexscClientTalksToJdkServerWithScatterGatherShutdownAndEof(On on) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
            InetSocketAddress addr = (InetSocketAddress) server.getLocalAddress();
            byte[] a = random(100_000, 1), b = random(3_000_000, 2), fromServer = random(5_000_000, 3);
            CompletableFuture<byte[]> serverSide = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel s = server.accept()) {
                    byte[] got = readFully(s, a.length + b.length, true);
                    ByteBuffer out = ByteBuffer.wrap(fromServer);
                    while (out.hasRemaining()) s.write(out);
                    assertEquals(-1, s.read(ByteBuffer.allocate(1)), "the FlexSC client shut its output");
                    return got;
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }, POOL);
            on.run(rt, () -> {
                try (FlexscSocketChannel c = FlexscSocketChannel.open(sys)) {
                    assertThrows(NotYetConnectedException.class, () -> c.read(ByteBuffer.allocate(1)));
                    assertTrue(c.connect(addr));
                    assertEquals(addr, c.getRemoteAddress());
                    InetSocketAddress local = (InetSocketAddress) c.getLocalAddress();
                    assertTrue(local.getPort() > 0 && local.getAddress().isLoopbackAddress(), local.toString());
                    ByteBuffer d = ByteBuffer.allocateDirect(b.length).put(b).flip();
                    ByteBuffer[] gather = {ByteBuffer.wrap(a), d};
                    long sent = 0;
                    while (gather[1].hasRemaining()) sent += c.write(gather);
                    assertEquals(a.length + b.length, sent);
                    c.shutdownOutput();
                    assertThrows(ClosedChannelException.class, () -> c.write(ByteBuffer.wrap(new byte[1])));
                    // Scatter into a heap and a direct buffer.
                    ByteBuffer h1 = ByteBuffer.allocate(1_000_000), d2 = ByteBuffer.allocateDirect(fromServer.length - 1_000_000);
                    ByteBuffer[] scatter = {h1, d2};
                    long got = 0;
                    while (d2.hasRemaining()) {
                        long n = c.read(scatter);
                        assertTrue(n > 0, "early EOF");
                        got += n;
                    }
                    assertEquals(fromServer.length, got);
                    byte[] all = new byte[fromServer.length];
                    h1.flip().get(all, 0, 1_000_000);
                    d2.flip().get(all, 1_000_000, fromServer.length - 1_000_000);
                    assertArrayEquals(fromServer, all);
                    assertEquals(-1, c.read(ByteBuffer.allocate(16)), "EOF once the server closed");
                    c.shutdownInput();
                    assertEquals(-1, c.read(ByteBuffer.allocate(16)));
                }
                return null;
            });
            byte[] got = serverSide.get(30, TimeUnit.SECONDS);
            assertArrayEquals(a, Arrays.copyOf(got, a.length));
            assertArrayEquals(b, Arrays.copyOfRange(got, a.length, got.length));
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void transferToASocketUsesTheFileBytes(On on) throws Exception {
        byte[] data = random(3_000_000, 7);
        Path f = dir.resolve("payload");
        Files.write(f, data);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel s = server.accept()) {
                    return readFully(s, data.length - 1000, false);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }, POOL);
            on.run(rt, () -> {
                try (FlexscFileChannel fc = FlexscFileChannel.open(sys, f);
                     FlexscSocketChannel c = FlexscSocketChannel.open(sys, server.getLocalAddress())) {
                    assertEquals(data.length - 1000, fc.transferTo(1000, Long.MAX_VALUE, c));
                    assertEquals(0, fc.position(), "transferTo leaves the position alone");
                }
                return null;
            });
            assertArrayEquals(Arrays.copyOfRange(data, 1000, data.length), received.get(30, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void transferFromASocketWritesAtThePosition(On on) throws Exception {
        byte[] data = random(1_500_000, 9);
        Path f = dir.resolve("received-" + on);
        Files.write(f, new byte[10]);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try (SocketChannel s = server.accept()) {
                    ByteBuffer b = ByteBuffer.wrap(data);
                    while (b.hasRemaining()) s.write(b);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }, POOL);
            long n = on.run(rt, () -> {
                try (FlexscSocketChannel c = FlexscSocketChannel.open(sys, server.getLocalAddress());
                     FlexscFileChannel fc = FlexscFileChannel.open(sys, f, java.nio.file.StandardOpenOption.WRITE)) {
                    long total = 0, k;
                    while ((k = fc.transferFrom(c, 5 + total, Long.MAX_VALUE)) > 0) total += k;
                    assertEquals(0, fc.position(), "transferFrom leaves the position alone");
                    return total;
                }
            });
            sender.get(30, TimeUnit.SECONDS);
            assertEquals(data.length, n);
            byte[] all = Files.readAllBytes(f);
            assertEquals(5 + data.length, all.length);
            assertArrayEquals(data, Arrays.copyOfRange(all, 5, all.length));
        }
    }

    @Test
    @Timeout(30)
    void refusedConnectThrowsConnectExceptionAndClosesTheChannel() throws Exception {
        int port;
        try (ServerSocketChannel s = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0))) {
            port = ((InetSocketAddress) s.getLocalAddress()).getPort();
        }
        FlexscSocketChannel c = FlexscSocketChannel.open(sys);
        assertThrows(ConnectException.class, () -> c.connect(new InetSocketAddress(LOOPBACK, port)));
        assertFalse(c.isOpen(), "a failed connect closes the channel, as the JDK");
        // And the JDK agrees on the class.
        SocketChannel j = SocketChannel.open();
        assertThrows(ConnectException.class, () -> j.connect(new InetSocketAddress(LOOPBACK, port)));
    }

    @Test
    @Timeout(30)
    void aResetNamesTheCallThatSawItAndStaysSticky() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0));
             FlexscSocketChannel c = FlexscSocketChannel.open(sys, server.getLocalAddress())) {
            try (SocketChannel s = server.accept()) {
                s.setOption(java.net.StandardSocketOptions.SO_LINGER, 0); // close sends RST
            }
            ByteBuffer[] bufs = {ByteBuffer.allocate(4), ByteBuffer.allocateDirect(4)};
            for (int i = 0; i < 2; i++) { // the kernel reports the reset once; the channel every time after
                java.net.SocketException x = assertThrows(java.net.SocketException.class, () -> c.read(bufs));
                assertEquals("Connection reset", x.getMessage());
                assertTrue(x.getCause().getMessage().startsWith("recvmsg(fd="), x.getCause().getMessage());
            }
            java.net.SocketException x = assertThrows(java.net.SocketException.class, () -> c.read(ByteBuffer.allocate(4)));
            assertTrue(x.getCause().getMessage().startsWith("recvfrom(fd="), x.getCause().getMessage());
        }
    }

    @Test
    @Timeout(30)
    void bindTwiceOnOnePortIsABindException() throws Exception {
        try (FlexscServerSocketChannel a = FlexscServerSocketChannel.open(sys);
             FlexscServerSocketChannel b = FlexscServerSocketChannel.open(sys)) {
            a.bind(new InetSocketAddress(LOOPBACK, 0));
            assertThrows(java.net.BindException.class, () -> b.bind(a.getLocalAddress()));
            assertThrows(java.nio.channels.AlreadyBoundException.class, () -> a.bind(null));
            a.configureBlocking(false);
            assertFalse(a.isBlocking());
            assertNull(a.accept(), "non-blocking accept with no connection queued");
        }
    }

    @Test
    @Timeout(30)
    void optionsRoundTrip() throws Exception {
        try (FlexscSocketChannel c = FlexscSocketChannel.open(sys)) {
            c.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            assertTrue(c.getOption(java.net.StandardSocketOptions.TCP_NODELAY));
            c.setOption(java.net.StandardSocketOptions.SO_LINGER, 3);
            assertEquals(3, c.getOption(java.net.StandardSocketOptions.SO_LINGER));
            c.setOption(java.net.StandardSocketOptions.SO_LINGER, -1);
            assertEquals(-1, c.getOption(java.net.StandardSocketOptions.SO_LINGER));
            c.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 65536);
            assertTrue(c.getOption(java.net.StandardSocketOptions.SO_RCVBUF) >= 65536);
            assertThrows(UnsupportedOperationException.class,
                    () -> c.getOption(java.net.StandardSocketOptions.IP_MULTICAST_TTL));
        }
    }
}
