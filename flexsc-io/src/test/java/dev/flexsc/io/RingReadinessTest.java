package dev.flexsc.io;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineStats;
import dev.flexsc.FlexscConfig;
import dev.flexsc.io.IoTestSupport.On;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.nativeimpl.uring.UringEngine;
import dev.flexsc.nativeimpl.uring.UringStats;
import dev.flexsc.threads.FlexscRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The channels' readiness waits on the io_uring engine: a one-shot IORING_OP_POLL_ADD entry
 * in the waiting green thread's carrier ring (a platform thread's poll(2), made directly in
 * slices), never a poll(2) handed to a syscall thread of the fallback. Every wait here is for a condition
 * with a generous deadline; the counts asserted are the ones the engine guarantees (the
 * fallback's per-call counts, SQEs against CQEs once nothing is in flight). Skipped, with
 * the reason printed, where io_uring is unavailable.
 */
class RingReadinessTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** A hang guard, not a timing: every condition here holds within milliseconds on an idle machine. */
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(30);
    /**
     * Two syscall threads on the fallback: before the waits went to the rings, two idle
     * connections held them all and every later readiness wait queued behind them.
     */
    private static final int FALLBACK_THREADS = 2;

    private static FlexscRuntime rt;
    private static UringEngine engine;

    @BeforeAll
    static void open() throws IOException {
        TestSupport.assumeAvailable(Engine.IO_URING);
        // ADAPTIVE, as servers run: the receive is tried without waiting, the wait is the poll entry.
        FlexscConfig cfg = TestSupport.config(Engine.IO_URING).toBuilder()
                .policy(CallPolicy.ADAPTIVE).poolThreads(FALLBACK_THREADS).build();
        rt = FlexscRuntime.open(cfg);
        engine = (UringEngine) rt.engine();
    }

    @AfterAll
    static void close() {
        if (rt != null) rt.close();
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail("not within 30 s: " + what + "; " + engine.uringStats());
            Thread.sleep(1);
        }
    }

    /** Readiness waits of this engine's own: poll entries of green threads, sliced poll(2) of platform threads. */
    private static long polls() {
        UringStats u = engine.uringStats();
        return u.ringCalls().getOrDefault("poll", 0L) + u.directCalls().getOrDefault("poll", 0L);
    }

    /** Poll entries in the carriers' rings. */
    private static long ringPolls() {
        return engine.uringStats().ringCalls().getOrDefault("poll", 0L);
    }

    /** Readiness waits started: poll entries, and poll(2) calls handed to the fallback. */
    private static long readinessWaits() {
        return ringPolls() + engine.uringStats().fallbackCalls().getOrDefault("poll", 0L);
    }

    /** Nothing in flight on the carriers' rings and every SQE of a call reaped once: no lost or duplicated CQE. */
    private static void awaitQuiet() throws InterruptedException {
        await("every poll entry completed", () -> engine.uringStats().inFlight() == 0);
        await("as many CQEs as SQEs", () -> {
            EngineStats s = engine.stats();
            return s.submitted() == s.executed();
        });
        EngineStats s = engine.stats();
        assertEquals(s.submitted(), s.executed(), () -> "SQEs against CQEs: " + s);
    }

    private static void assertNoFallbackPolls() {
        UringStats u = engine.uringStats();
        assertNull(u.fallbackCalls().get("poll"), () -> "readiness waits went to the fallback: " + u.fallbackCalls());
        assertNull(u.fallbackCalls().get("epoll_wait"), () -> "selections went to the fallback: " + u.fallbackCalls());
    }

    /** A connected pair: the FlexSC end (accepted) and the JDK's client end. */
    private record Pair(FlexscSocketChannel flexsc, SocketChannel peer) implements AutoCloseable {
        static Pair open() throws IOException {
            try (FlexscServerSocketChannel server = FlexscServerSocketChannel.open(rt.syscalls())) {
                server.bind(new InetSocketAddress(LOOPBACK, 0));
                SocketChannel peer = SocketChannel.open(server.getLocalAddress());
                return new Pair(server.accept(), peer);
            }
        }

        @Override
        public void close() throws IOException {
            try (peer) {
                flexsc.close();
            }
        }
    }

    @Test
    @Timeout(120)
    void aGreenThreadBlockedOnASocketReadParksWithAPollEntryAndNoSyscallThread() throws Exception {
        try (Pair p = Pair.open()) {
            long before = ringPolls();
            AtomicReference<Object> got = new AtomicReference<>();
            Thread reader = On.GREEN.start(rt, () -> {
                try {
                    ByteBuffer b = ByteBuffer.allocate(1);
                    got.set(p.flexsc().read(b) == 1 ? b.get(0) : "read returned less");
                } catch (Throwable t) {
                    got.set(t);
                }
            });
            await("the read's poll entry armed", () -> ringPolls() > before && engine.uringStats().inFlight() >= 1);
            assertEquals(Thread.State.WAITING, awaitState(reader), "the reader parks while its entry is armed");
            assertNoFallbackPolls();
            p.peer().write(ByteBuffer.wrap(new byte[] {42}));
            reader.join(TimeUnit.NANOSECONDS.toMillis(DEADLINE_NANOS));
            assertEquals((byte) 42, got.get(), "the byte the peer wrote");
            awaitQuiet();
            assertNoFallbackPolls();
            assertNull(engine.uringStats().fallback(), "the fallback was never opened: no syscall thread exists");
        }
    }

    /** The state of a thread that parked, once it is parked (it may run a little after its entry is posted). */
    private static Thread.State awaitState(Thread t) throws InterruptedException {
        await("the thread parks", () -> t.getState() == Thread.State.WAITING || !t.isAlive());
        return t.getState();
    }

    @Test
    @Timeout(180)
    void idleSlowClientsHoldNothingButPollEntriesAndAFreshRequestIsServed() throws Exception {
        int idle = 16 * FALLBACK_THREADS;
        long before = readinessWaits();
        AtomicInteger handlers = new AtomicInteger();
        List<SocketChannel> slow = new ArrayList<>();
        FlexscServerSocketChannel server = FlexscServerSocketChannel.open(rt.syscalls());
        // The server closes before the executor's close waits for its threads (the finally below).
        try (ExecutorService green = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
            server.bind(new InetSocketAddress(LOOPBACK, 0));
            // A thread-per-connection echo server on green threads: each handler blocks in read.
            green.execute(() -> {
                while (server.isOpen()) {
                    FlexscSocketChannel s;
                    try {
                        s = server.accept();
                    } catch (IOException closed) {
                        return;
                    }
                    handlers.incrementAndGet();
                    green.execute(() -> echo(s));
                }
            });
            try {
                for (int i = 0; i < idle; i++) slow.add(SocketChannel.open(server.getLocalAddress()));
                // Every idle connection's handler waits for readiness (plus the acceptor): counted
                // wherever the wait went, so that the fresh request below is what is tested.
                await(idle + " handlers waiting", () -> handlers.get() == idle && readinessWaits() >= idle + 1 + before);
                try (SocketChannel fresh = SocketChannel.open(server.getLocalAddress())) {
                    CompletableFuture<Byte> reply = CompletableFuture.supplyAsync(() -> {
                        try {
                            fresh.write(ByteBuffer.wrap(new byte[] {7}));
                            ByteBuffer b = ByteBuffer.allocate(1);
                            if (fresh.read(b) != 1) throw new IOException("end of stream");
                            return b.get(0);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    assertEquals((byte) 7, reply.get(DEADLINE_NANOS, TimeUnit.NANOSECONDS),
                            "the fresh request's echo, with " + idle + " idle connections open");
                }
                assertTrue(engine.uringStats().inFlight() >= idle, "the idle connections still wait, each in its entry");
                assertNoFallbackPolls();
            } finally {
                server.close();
                for (SocketChannel s : slow) s.close(); // each handler sees end of stream and ends
            }
        }
        awaitQuiet();
    }

    private static void echo(FlexscSocketChannel s) {
        try (s) {
            ByteBuffer b = ByteBuffer.allocate(64);
            while (s.read(b.clear()) > 0) {
                b.flip();
                while (b.hasRemaining()) s.write(b);
            }
        } catch (IOException ignored) {
            // the test closes the connections at its end
        }
    }

    private enum How { CLOSE, INTERRUPT }

    /** What the blocked reader reads: a socket (whose close also shuts it down) or a pipe (where only the wait's cancel wakes it). */
    private enum Kind { SOCKET, PIPE }

    @ParameterizedTest
    @CsvSource({"PLATFORM,SOCKET", "GREEN,SOCKET", "PLATFORM,PIPE", "GREEN,PIPE"})
    @Timeout(120)
    void closeCancelsAnArmedWait(On on, Kind kind) throws Exception {
        cancelsArmedWait(on, kind, How.CLOSE);
    }

    @ParameterizedTest
    @CsvSource({"PLATFORM,SOCKET", "GREEN,SOCKET", "PLATFORM,PIPE", "GREEN,PIPE"})
    @Timeout(120)
    void interruptCancelsAnArmedWait(On on, Kind kind) throws Exception {
        cancelsArmedWait(on, kind, How.INTERRUPT);
    }

    private static void cancelsArmedWait(On on, Kind kind, How how) throws Exception {
        Pair sockets = kind == Kind.SOCKET ? Pair.open() : null;
        Pipe pipe = kind == Kind.PIPE ? FlexscSelectorProvider.of(rt.syscalls()).openPipe() : null;
        ReadableByteChannel ch = sockets != null ? sockets.flexsc() : pipe.source();
        try {
            long before = polls();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Boolean> interruptStatus = new AtomicReference<>();
            Thread reader = on.start(rt, () -> {
                try {
                    ch.read(ByteBuffer.allocate(16));
                } catch (Throwable t) {
                    thrown.set(t);
                }
                interruptStatus.set(Thread.currentThread().isInterrupted());
            });
            await("the read's wait started", () -> polls() > before);
            if (on == On.GREEN) awaitState(reader);
            if (how == How.CLOSE) ch.close();
            else reader.interrupt();
            reader.join(TimeUnit.NANOSECONDS.toMillis(DEADLINE_NANOS));
            assertFalse(reader.isAlive(), how + " did not end the wait");
            Class<?> expected = how == How.CLOSE ? AsynchronousCloseException.class : ClosedByInterruptException.class;
            assertEquals(expected, thrown.get() == null ? null : thrown.get().getClass(), () -> "got " + thrown.get());
            assertEquals(how == How.INTERRUPT, interruptStatus.get(), "the interrupt status");
            assertFalse(ch.isOpen());
            awaitQuiet();
            assertNoFallbackPolls();
        } finally {
            if (sockets != null) sockets.close();
            if (pipe != null) {
                pipe.sink().close();
                pipe.source().close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(120)
    void aTimedReadCancelsItsEntryAtTheDeadlineAndLosesNoData(On on) throws Exception {
        try (Pair p = Pair.open()) {
            InputStream in = p.flexsc().socket().getInputStream();
            p.flexsc().socket().setSoTimeout(100);
            Supplier<Object> read = () -> {
                try {
                    return in.read();
                } catch (Throwable t) {
                    return t;
                }
            };
            long before = polls();
            Object first = on.run(rt, read::get);
            assertInstanceOf(SocketTimeoutException.class, first, "with nothing to read");
            assertTrue(polls() > before, "the timed wait was the engine's own (a poll entry, or poll(2) on a platform thread)");
            awaitQuiet();
            p.peer().write(ByteBuffer.wrap(new byte[] {9}));
            assertEquals(9, on.run(rt, read::get), "the byte written after the timeout");
            awaitQuiet();
            assertNoFallbackPolls();
        }
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(120)
    void aSelectorWaitsInAPollEntryAndItsTimeoutCancelsIt(On on) throws Exception {
        try (Pair p = Pair.open(); Selector sel = FlexscSelectorProvider.of(rt.syscalls()).openSelector()) {
            p.flexsc().configureBlocking(false);
            SelectionKey key = p.flexsc().register(sel, SelectionKey.OP_READ);
            long before = polls();
            assertEquals(0, (int) on.run(rt, () -> sel.select(50)), "nothing to read: the timeout");
            assertTrue(polls() > before, "the selection waited in the engine's own wait");
            awaitQuiet();
            CompletableFuture<Integer> selecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return on.run(rt, sel::select);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            await("the selection's wait started", () -> polls() > before + 1);
            p.peer().write(ByteBuffer.wrap(new byte[] {1}));
            assertEquals(1, selecting.get(DEADLINE_NANOS, TimeUnit.NANOSECONDS), "the readable key");
            assertTrue(key.isReadable());
            awaitQuiet();
            assertNoFallbackPolls();
        }
    }
}
