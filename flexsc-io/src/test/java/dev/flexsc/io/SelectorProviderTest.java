package dev.flexsc.io;

import dev.flexsc.io.IoTestSupport.On;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.threads.FlexscRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.channels.SelectionKey.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * FlexSC's selector provider, channel by channel and selector semantics one by one, each
 * test run on FlexSC's provider and, as the control that the expectation is the JDK's, on
 * the JDK's own provider ({@link Impl}); the operations on platform threads and on FlexSC
 * green threads ({@link On}). The random sequences against the JDK are in
 * {@code ChannelsDifferentialTest}.
 */
class SelectorProviderTest extends IoRuntimeTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** Whose provider a test runs on. */
    enum Impl {
        FLEXSC, JDK;

        SelectorProvider provider() {
            return this == FLEXSC ? FlexscSelectorProvider.of(sys) : SelectorProvider.provider();
        }
    }

    /** A connected pair of the provider's socket channels, in blocking mode. */
    private record Pair(ServerSocketChannel listener, SocketChannel client, SocketChannel server) implements AutoCloseable {
        static Pair open(SelectorProvider p) throws Exception {
            ServerSocketChannel l = p.openServerSocketChannel().bind(new InetSocketAddress(LOOPBACK, 0));
            SocketChannel c = p.openSocketChannel();
            c.connect(l.getLocalAddress());
            SocketChannel s = l.accept();
            return new Pair(l, c, s);
        }

        @Override
        public void close() throws java.io.IOException {
            client.close();
            server.close();
            listener.close();
        }
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void nonBlockingAcceptConnectReadWrite(Impl impl) throws Exception {
        SelectorProvider p = impl.provider();
        try (ServerSocketChannel l = p.openServerSocketChannel(); SocketChannel c = p.openSocketChannel()) {
            l.bind(new InetSocketAddress(LOOPBACK, 0));
            l.configureBlocking(false);
            assertNull(l.accept(), "nothing queued");
            c.configureBlocking(false);
            boolean now = c.connect(l.getLocalAddress());
            assertEquals(now, c.isConnected());
            assertNotEquals(now, c.isConnectionPending());
            while (!c.finishConnect()) Thread.onSpinWait();
            assertTrue(c.isConnected());
            assertFalse(c.isConnectionPending());
            SocketChannel accepted;
            while ((accepted = l.accept()) == null) Thread.onSpinWait();
            try (SocketChannel s = accepted) {
                assertTrue(s.isBlocking(), "an accepted channel starts in blocking mode");
                s.configureBlocking(false);
                assertEquals(0, s.read(ByteBuffer.allocate(16)), "no data yet");
                assertEquals(5, c.write(bytes("hello")));
                ByteBuffer b = ByteBuffer.allocate(16);
                while (b.position() < 5) assertTrue(s.read(b) >= 0);
                assertEquals("hello", new String(b.array(), 0, 5, java.nio.charset.StandardCharsets.ISO_8859_1));
                c.close();
                int r;
                while ((r = s.read(b.clear())) == 0) Thread.onSpinWait();
                assertEquals(-1, r, "the peer closed");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void nonBlockingWriteFillsTheSocketThenReturnsZero(Impl impl) throws Exception {
        try (Pair pr = Pair.open(impl.provider())) {
            pr.client().configureBlocking(false);
            pr.client().setOption(StandardSocketOptions.SO_SNDBUF, 8192);
            ByteBuffer big = ByteBuffer.allocateDirect(1 << 20);
            long total = 0;
            int n;
            while ((n = pr.client().write(big.clear())) > 0) total += n;
            assertEquals(0, n);
            assertTrue(total > 0);
            // the peer drains it all, in blocking mode
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            long got = 0;
            while (got < total) got += pr.server().read(in.clear());
            assertEquals(total, got);
        }
    }

    @Test
    @Timeout(60)
    void aBlockingReadOnAGreenThreadParksOnlyThatThread() throws Exception {
        // one carrier: if the read blocked it, nothing else would run
        int cpu = TestSupport.config().userCpus()[0];
        try (FlexscRuntime one = FlexscRuntime.open(TestSupport.config().toBuilder().userCpus(cpu).build());
             Pair pr = Pair.open(FlexscSelectorProvider.of(one.syscalls()))) {
            CompletableFuture<String> reader = new CompletableFuture<>();
            Thread r = one.threadFactory().newThread(() -> {
                try {
                    ByteBuffer b = ByteBuffer.allocate(8);
                    int n = pr.server().read(b);
                    reader.complete(new String(b.array(), 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
                } catch (Throwable t) {
                    reader.completeExceptionally(t);
                }
            });
            r.start();
            Thread.sleep(200);
            assertFalse(reader.isDone(), "the read must wait for data");
            AtomicInteger ran = new AtomicInteger();
            List<Thread> others = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Thread t = one.threadFactory().newThread(ran::incrementAndGet);
                t.start();
                others.add(t);
            }
            for (Thread t : others) t.join(10_000);
            assertEquals(20, ran.get(), "other green threads ran on the carrier while the read waited");
            assertFalse(reader.isDone());
            pr.client().write(bytes("ping"));
            assertEquals("ping", reader.get(10, TimeUnit.SECONDS));
        }
    }

    // ---- close and interrupt of blocked operations ----

    private enum How { CLOSE, INTERRUPT }

    /** Runs {@code op} on a thread of kind {@code on}, blocks it, wakes it by {@code how}; returns what it threw. */
    private static Throwable wake(On on, java.nio.channels.Channel ch, How how, IoCall op) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> interrupted = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread t = on.start(rt, () -> {
            started.countDown();
            try {
                op.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
            interrupted.set(Thread.currentThread().isInterrupted());
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
        Thread.sleep(300);
        assertTrue(t.isAlive(), "the operation did not block");
        if (how == How.CLOSE) ch.close();
        else t.interrupt();
        t.join(5000);
        assertFalse(t.isAlive(), how + " did not wake the blocked operation");
        assertFalse(ch.isOpen());
        assertEquals(how == How.INTERRUPT, interrupted.get(), "the interrupt status");
        return thrown.get();
    }

    @FunctionalInterface
    private interface IoCall {
        void run() throws Exception;
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void closeAndInterruptWakeBlockedReadWriteAndPipeRead(On on) throws Exception {
        for (Impl impl : Impl.values()) {
            for (How how : How.values()) {
                Class<?> expected = how == How.CLOSE ? AsynchronousCloseException.class : ClosedByInterruptException.class;
                try (Pair pr = Pair.open(impl.provider())) {
                    Throwable t = wake(on, pr.server(), how, () -> pr.server().read(ByteBuffer.allocate(8)));
                    assertEquals(expected, t == null ? null : t.getClass(), impl + " read " + how + ": " + t);
                }
                // (The JDK's channel on a virtual thread returns from a blocking write as soon as
                // part of it went out, so a write there is not reliably blocked at the close.)
                if (!(impl == Impl.JDK && on == On.GREEN)) try (Pair pr = Pair.open(impl.provider())) {
                    pr.client().setOption(StandardSocketOptions.SO_SNDBUF, 8192);
                    // fill the socket (the peer never reads), so that the blocking write makes no progress
                    pr.client().configureBlocking(false);
                    ByteBuffer big = ByteBuffer.allocate(1 << 20);
                    long round;
                    do { // until the receiver's window stops growing: a round writes nothing
                        round = 0;
                        int n;
                        while ((n = pr.client().write(big.clear())) > 0) round += n;
                        Thread.sleep(50);
                    } while (round > 0);
                    pr.client().configureBlocking(true);
                    long[] wrote = {-1};
                    Throwable t = wake(on, pr.client(), how, () -> wrote[0] = pr.client().write(big.clear()));
                    if (t == null) {
                        // The receiver's window may still open after the fill (seen at load average
                        // 40): a write that moved bytes before the close returns their count, as the
                        // JDK's does; one that moved none must throw.
                        assertTrue(wrote[0] > 0, impl + " write " + how + " returned " + wrote[0] + " instead of throwing");
                    } else {
                        assertEquals(expected, t.getClass(), impl + " write " + how + ": " + t);
                    }
                }
                Pipe pipe = impl.provider().openPipe();
                try (Pipe.SinkChannel sink = pipe.sink()) {
                    Throwable t = wake(on, pipe.source(), how, () -> pipe.source().read(ByteBuffer.allocate(8)));
                    assertEquals(expected, t == null ? null : t.getClass(), impl + " pipe read " + how + ": " + t);
                }
            }
        }
    }

    @Test
    @Timeout(30)
    void aRegisteredChannelsDescriptorClosesWhenItsKeyIsDeregistered() throws Exception {
        FlexscSelectorProvider p = FlexscSelectorProvider.of(sys);
        try (Selector sel = p.openSelector(); Pair pr = Pair.open(p)) {
            FlexscSocketChannel c = (FlexscSocketChannel) pr.client();
            int fd = c.channelFd().fd();
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd)).toString();
            c.configureBlocking(false);
            c.register(sel, OP_READ);
            sel.selectNow();
            c.close();
            assertEquals(target, java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd)).toString(),
                    "still in the epoll set: the descriptor stays open");
            assertEquals(1, sel.keys().size(), "the cancelled key goes at the next selection");
            sel.selectNow();
            assertEquals(0, sel.keys().size());
            java.nio.file.Path fdPath = java.nio.file.Path.of("/proc/self/fd/" + fd);
            assertTrue(!java.nio.file.Files.exists(fdPath, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    || !java.nio.file.Files.readSymbolicLink(fdPath).toString().equals(target), "closed after deregistration");
        }
    }

    // ---- the selector ----

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void readinessOfEachOperation(Impl impl) throws Exception {
        SelectorProvider p = impl.provider();
        try (Selector sel = p.openSelector(); ServerSocketChannel l = p.openServerSocketChannel();
             SocketChannel c = p.openSocketChannel()) {
            l.bind(new InetSocketAddress(LOOPBACK, 0)).configureBlocking(false);
            SelectionKey lk = l.register(sel, OP_ACCEPT);
            c.configureBlocking(false);
            boolean connected = c.connect(l.getLocalAddress());
            SelectionKey ck = c.register(sel, connected ? OP_WRITE : OP_CONNECT);
            assertTrue(sel.select(5000) >= 1);
            if (!connected) {
                assertTrue(sel.selectedKeys().contains(ck) || waitFor(sel, ck));
                assertEquals(OP_CONNECT, ck.readyOps());
                assertTrue(c.finishConnect());
                ck.interestOps(OP_WRITE);
            }
            assertTrue(waitFor(sel, lk));
            assertEquals(OP_ACCEPT, lk.readyOps());
            SocketChannel s = l.accept();
            try (s) {
                s.configureBlocking(false);
                SelectionKey sk = s.register(sel, OP_READ);
                sel.selectedKeys().clear();
                assertTrue(waitFor(sel, ck));
                assertEquals(OP_WRITE, ck.readyOps());
                assertFalse(sel.selectedKeys().contains(sk), "nothing to read yet");
                c.write(bytes("x"));
                assertTrue(waitFor(sel, sk));
                assertEquals(OP_READ, sk.readyOps());
                ck.interestOps(0);
                sel.selectedKeys().clear();
                sel.selectNow();
                assertFalse(sel.selectedKeys().contains(ck), "no interest, never selected");
            }
        }
    }

    /** Selects (up to 5 s) until {@code k} is in the selected-key set. */
    private static boolean waitFor(Selector sel, SelectionKey k) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!sel.selectedKeys().contains(k)) {
            if (System.nanoTime() > deadline) return false;
            sel.select(100);
        }
        return true;
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void wakeupBeforeAndDuringSelect(Impl impl) throws Exception {
        try (Selector sel = impl.provider().openSelector()) {
            sel.wakeup();
            long t0 = System.nanoTime();
            assertEquals(0, sel.select(10_000));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "a wakeup before select makes it return at once");
            sel.wakeup();
            assertEquals(0, sel.selectNow(), "selectNow consumes the wakeup");
            t0 = System.nanoTime();
            assertEquals(0, sel.select(300));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250), "no wakeup left: the timeout runs");
            CompletableFuture<Integer> selecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return sel.select();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200);
            assertFalse(selecting.isDone());
            sel.wakeup();
            assertEquals(0, selecting.get(5, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void closingTheSelectorWhileAnotherThreadSelects(Impl impl) throws Exception {
        Selector sel = impl.provider().openSelector();
        Pipe pipe = impl.provider().openPipe();
        pipe.source().configureBlocking(false);
        SelectionKey k = pipe.source().register(sel, OP_READ);
        CompletableFuture<Integer> selecting = CompletableFuture.supplyAsync(() -> {
            try {
                return sel.select();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(200);
        sel.close();
        assertEquals(0, selecting.get(5, TimeUnit.SECONDS));
        assertFalse(k.isValid(), "closing the selector deregisters its keys");
        assertFalse(pipe.source().isRegistered());
        assertThrows(ClosedSelectorException.class, sel::selectNow);
        assertThrows(ClosedSelectorException.class, sel::keys);
        assertThrows(ClosedSelectorException.class, sel::selectedKeys);
        sel.wakeup(); // no effect, no exception
        pipe.source().close();
        pipe.sink().close();
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void closingAChannelWhileAnotherThreadSelects(Impl impl) throws Exception {
        try (Selector sel = impl.provider().openSelector()) {
            Pipe pipe = impl.provider().openPipe();
            pipe.source().configureBlocking(false);
            SelectionKey k = pipe.source().register(sel, OP_READ);
            CompletableFuture<Integer> selecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return sel.select(2000);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200);
            pipe.source().close();
            assertFalse(k.isValid());
            sel.wakeup();
            assertEquals(0, selecting.get(5, TimeUnit.SECONDS));
            sel.selectNow();
            assertTrue(sel.keys().isEmpty(), "the cancelled key is gone after a selection");
            assertThrows(CancelledKeyException.class, k::readyOps);
            pipe.sink().close();
        }
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void cancelledKeysSelectNowConsumerAndAccumulatedReadySets(Impl impl) throws Exception {
        SelectorProvider p = impl.provider();
        try (Selector sel = p.openSelector()) {
            Pipe a = p.openPipe(), b = p.openPipe();
            a.source().configureBlocking(false);
            b.sink().configureBlocking(false);
            SelectionKey ka = a.source().register(sel, OP_READ);
            SelectionKey kb = b.sink().register(sel, OP_WRITE);
            assertEquals(1, sel.selectNow(), "the sink is writable, the source has nothing");
            assertEquals(java.util.Set.of(kb), sel.selectedKeys());
            assertThrows(UnsupportedOperationException.class, () -> sel.selectedKeys().add(ka));
            assertEquals(0, sel.selectNow(), "kb stays selected, its ready set unchanged: not counted again");
            a.sink().write(bytes("z"));
            assertEquals(1, sel.selectNow());
            assertEquals(java.util.Set.of(ka, kb), sel.selectedKeys());
            // select(Consumer): the action sees each ready key; the selected-key set is left alone
            sel.selectedKeys().clear();
            List<SelectionKey> seen = new ArrayList<>();
            assertEquals(2, sel.selectNow(seen::add));
            assertEquals(2, seen.size());
            assertTrue(sel.selectedKeys().isEmpty());
            // a key cancelled stays in the key set until the next selection
            kb.cancel();
            assertTrue(sel.keys().contains(kb));
            assertFalse(kb.isValid());
            assertEquals(1, sel.selectNow());
            assertFalse(sel.keys().contains(kb));
            assertThrows(CancelledKeyException.class, () -> kb.interestOps(OP_WRITE));
            // a selection inside an action is refused
            assertThrows(IllegalStateException.class, () -> sel.selectNow(k -> {
                try {
                    sel.selectNow();
                } catch (java.io.IOException e) {
                    throw new RuntimeException(e);
                }
            }));
            for (Pipe x : List.of(a, b)) {
                x.source().close();
                x.sink().close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void anInterruptWakesSelectAndStaysSet(Impl impl) throws Exception {
        try (Selector sel = impl.provider().openSelector()) {
            AtomicReference<Boolean> status = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    sel.select();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                status.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            Thread.sleep(200);
            t.interrupt();
            t.join(5000);
            assertFalse(t.isAlive());
            assertEquals(Boolean.TRUE, status.get());
            assertTrue(sel.isOpen(), "an interrupt does not close a selector");
        }
    }

    @Test
    @Timeout(30)
    void aJdkChannelCannotRegisterWithAFlexscSelector() throws Exception {
        try (Selector sel = FlexscSelectorProvider.of(sys).openSelector(); SocketChannel jdk = SocketChannel.open()) {
            jdk.configureBlocking(false);
            assertThrows(IllegalSelectorException.class, () -> jdk.register(sel, OP_READ));
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(30)
    void aSelectorOnGreenThreads(On on) throws Exception {
        on.run(rt, () -> {
            FlexscSelectorProvider p = FlexscSelectorProvider.of(sys);
            try (Selector sel = p.openSelector(); Pair pr = Pair.open(p)) {
                pr.server().configureBlocking(false);
                SelectionKey k = pr.server().register(sel, OP_READ);
                CompletableFuture.runAsync(() -> {
                    try {
                        Thread.sleep(100);
                        pr.client().write(bytes("later"));
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(1, sel.select(5000));
                assertEquals(OP_READ, k.readyOps());
                assertEquals(0, sel.select(50), "timeout: nothing new");
            }
            return null;
        });
    }

    // ---- adaptors ----

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void socketAdaptors(Impl impl) throws Exception {
        SelectorProvider p = impl.provider();
        try (ServerSocketChannel l = p.openServerSocketChannel()) {
            ServerSocket ss = l.socket();
            assertFalse(ss.isBound());
            assertEquals(-1, ss.getLocalPort());
            ss.bind(new InetSocketAddress(LOOPBACK, 0), 10); // how the JDK's HttpServer binds
            assertTrue(ss.isBound());
            assertSame(l, ss.getChannel());
            ss.setSoTimeout(100);
            assertThrows(SocketTimeoutException.class, ss::accept);
            try (SocketChannel c = p.openSocketChannel()) {
                Socket cs = c.socket();
                assertFalse(cs.isConnected());
                cs.connect(ss.getLocalSocketAddress(), 5000);
                assertTrue(cs.isConnected());
                ss.setSoTimeout(0);
                Socket s = ss.accept();
                assertNotNull(s.getChannel());
                s.setTcpNoDelay(true);
                assertTrue(s.getTcpNoDelay());
                s.setReceiveBufferSize(32768);
                assertTrue(s.getReceiveBufferSize() > 0);
                s.setSendBufferSize(32768);
                s.setKeepAlive(true);
                assertTrue(s.getKeepAlive());
                s.setSoLinger(true, 2);
                assertEquals(2, s.getSoLinger());
                assertEquals(cs.getLocalPort(), s.getPort());
                assertEquals(ss.getLocalPort(), s.getLocalPort());
                OutputStream out = cs.getOutputStream();
                out.write("stream".getBytes());
                InputStream in = s.getInputStream();
                assertEquals("stream", new String(in.readNBytes(6)));
                s.setSoTimeout(100);
                assertThrows(SocketTimeoutException.class, in::read);
                cs.shutdownOutput();
                assertTrue(cs.isOutputShutdown());
                assertEquals(-1, in.read());
                s.getChannel().configureBlocking(false);
                assertThrows(IllegalBlockingModeException.class, in::read);
                s.close();
                assertTrue(s.isClosed());
                assertThrows(java.net.SocketException.class, () -> s.setTcpNoDelay(true));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Impl.class)
    @Timeout(30)
    void ipv6Loopback(Impl impl) throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        SelectorProvider p = impl.provider();
        ServerSocketChannel l;
        try {
            l = p.openServerSocketChannel(StandardProtocolFamily.INET6).bind(new InetSocketAddress(v6, 0));
        } catch (java.net.SocketException | UnsupportedOperationException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here: " + e);
            return;
        }
        try (l; SocketChannel c = p.openSocketChannel(StandardProtocolFamily.INET6)) {
            c.connect(l.getLocalAddress());
            try (SocketChannel s = l.accept()) {
                assertInstanceOf(Inet6Address.class, ((InetSocketAddress) s.getRemoteAddress()).getAddress());
                c.write(bytes("v6"));
                ByteBuffer b = ByteBuffer.allocate(2);
                while (b.hasRemaining()) s.read(b);
                assertEquals("v6", new String(b.array()));
            }
        }
        // a dual-stack socket takes IPv4 peers too, with IPv4 addresses, as the JDK's
        try (ServerSocketChannel l4 = p.openServerSocketChannel().bind(new InetSocketAddress(0));
             SocketChannel c4 = p.openSocketChannel(StandardProtocolFamily.INET)) {
            c4.connect(new InetSocketAddress(LOOPBACK, ((InetSocketAddress) l4.getLocalAddress()).getPort()));
            try (SocketChannel s4 = l4.accept()) {
                assertEquals(LOOPBACK, ((InetSocketAddress) s4.getRemoteAddress()).getAddress());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(30)
    void pipesInBothModes(On on) throws Exception {
        on.run(rt, () -> {
            Pipe pipe = FlexscSelectorProvider.of(sys).openPipe();
            try (Pipe.SourceChannel src = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
                src.configureBlocking(false);
                assertEquals(0, src.read(ByteBuffer.allocate(4)));
                assertEquals(3, sink.write(bytes("abc")));
                ByteBuffer b = ByteBuffer.allocate(8);
                assertEquals(3, src.read(b));
                src.configureBlocking(true);
                CompletableFuture.runAsync(() -> {
                    try {
                        Thread.sleep(100);
                        sink.write(new ByteBuffer[] {bytes("de"), bytes("f")});
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                ByteBuffer[] parts = {ByteBuffer.allocate(1), ByteBuffer.allocateDirect(4)};
                assertEquals(3, src.read(parts), "a blocking scatter read waits for the writer");
                sink.close();
                assertEquals(-1, src.read(ByteBuffer.allocate(4)), "the writer closed");
            }
            return null;
        });
    }

    @Test
    void unixDomainSocketsAndDatagramsAreTheJdksOrRefusedByName() throws Exception {
        FlexscSelectorProvider p = FlexscSelectorProvider.of(sys);
        if (PlatformChannels.providerOrNull() == null) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, p::openDatagramChannel);
            assertTrue(e.getMessage().contains("--add-exports java.base/sun.nio.ch=ALL-UNNAMED"), e.getMessage());
            assertThrows(UnsupportedOperationException.class, () -> p.openSocketChannel(StandardProtocolFamily.UNIX));
        } else {
            try (var d = p.openDatagramChannel()) {
                assertNotSame(p, d.provider(), "the JDK's channel");
            }
        }
        assertThrows(UnsupportedOperationException.class, () -> p.openSocketChannel(() -> "APPLETALK"));
    }
}
