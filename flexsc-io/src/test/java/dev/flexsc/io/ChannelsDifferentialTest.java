package dev.flexsc.io;

import dev.flexsc.Engine;
import dev.flexsc.nativeimpl.fuzz.FuzzSetup;
import dev.flexsc.nativeimpl.fuzz.FuzzSetup.OnEngine;
import dev.flexsc.threads.FlexscRuntime;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.channels.SelectionKey.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * FlexSC's channels and selector against the JDK's on random operation sequences: the same
 * program runs on a world made by FlexSC's provider and on one made by the JDK's, and every
 * step must give the same result (values, bytes, ready sets) or the same exception
 * ({@link IoTestSupport#sameKind}). Three properties:
 * <ul>
 * <li>a connected pair of socket channels (the one under test, A, the client or the accepted
 *     end; its peer B): reads and writes (heap and direct, scatter and gather), blocking and
 *     non-blocking mode, shutdowns, close, a peer that closes or resets, options, addresses,
 *     registration, interest sets and selectNow readiness;</li>
 * <li>a selector over three pipes: registration, interest changes, cancel, writes and reads
 *     that change readiness, closes, selectNow, select(Consumer), timed select, wakeup,
 *     removals from the selected-key set, the key sets and ready sets after each step;</li>
 * <li>concurrent close and interrupt of a blocked read at a random moment: the outcome is one
 *     the JDK allows (AsynchronousCloseException or ClosedChannelException for a close,
 *     ClosedByInterruptException for an interrupt), nothing hangs, the channel is closed.</li>
 * </ul>
 * Blocking operations run only where they cannot wait for ever (data or room known to be
 * there, from the results so far); a step that still waits after {@value #STEP_LIMIT_MS} ms
 * fails the property.
 *
 * <p>Tries and seed: flexsc-native's {@link FuzzSetup}. The seed is fixed (the same programs
 * every run of the suite) unless {@code -Dflexsc.fuzz.seed=random}; each property prints
 * {@code fuzz LABEL: STATUS in S s (seed S)}, and a failure prints the shrunk program with each
 * step's outcome on both providers. Rerun a failing one with
 * {@code mvn -B -o test -pl flexsc-io -Dtest=ChannelsDifferentialTest -Dflexsc.fuzz.seed=SEED}
 * (jqwik also replays the last failing sample first, from {@code target/jqwik-database});
 * more programs with {@code -Dflexsc.fuzz.tries=N}.
 */
@AddLifecycleHook(FuzzSetup.class)
class ChannelsDifferentialTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static FlexscRuntime rt;

    @BeforeContainer
    static void open() throws Exception {
        rt = IoTestSupport.openRuntime();
    }

    @AfterContainer
    static void close() {
        if (rt != null) rt.close();
    }

    private static SelectorProvider flexsc() {
        return FlexscSelectorProvider.of(rt.syscalls());
    }

    // ---- outcomes ----

    /** A step's outcome: a value, or an exception compared by class. */
    record Outcome(String value, Throwable error) {
        static Outcome of(Callable<Object> c) {
            try {
                Object v = c.call();
                return new Outcome(String.valueOf(v), null);
            } catch (Throwable t) {
                return new Outcome(null, t);
            }
        }

        boolean sameAs(Outcome jdk) {
            if (jdk.error != null || error != null) return jdk.error != null && error != null && IoTestSupport.sameKind(jdk.error, error);
            return jdk.value.equals(value);
        }

        @Override
        public String toString() {
            return error != null ? "threw " + error : value;
        }
    }

    /** How long one step may take: every step a program holds returns at once, or after a select(1). */
    private static final long STEP_LIMIT_MS = 10_000;
    private static final ScheduledThreadPoolExecutor WATCHDOG = new ScheduledThreadPoolExecutor(1,
            Thread.ofPlatform().daemon().name("differential-watchdog").factory());

    static {
        WATCHDOG.setRemoveOnCancelPolicy(true);
    }

    /** One step of a program on one world. */
    @FunctionalInterface
    interface Step<O> {
        Object apply(O op) throws Exception;
    }

    /**
     * Runs the steps of {@code program} in turn and returns their outcomes. A step still
     * running after {@value #STEP_LIMIT_MS} ms fails the property, once {@code world}'s close
     * made it return: either the generator let through a step that waits for ever (a test
     * bug) or a channel waited where it should have returned.
     */
    static <O> List<Outcome> runSteps(List<O> program, Step<O> step, AutoCloseable world) {
        List<Outcome> out = new ArrayList<>();
        for (O op : program) {
            AtomicBoolean fired = new AtomicBoolean();
            ScheduledFuture<?> dog = WATCHDOG.schedule(() -> {
                fired.set(true);
                try {
                    world.close();
                } catch (Exception e) {
                    // the step's outcome reports what the close did to it
                }
            }, STEP_LIMIT_MS, TimeUnit.MILLISECONDS);
            Outcome o = Outcome.of(() -> step.apply(op));
            dog.cancel(false);
            // fired's set happens before the close that ended the step: a step that returned
            // because of it sees it set here
            if (fired.get()) fail("step " + out.size() + " " + op + " did not return in " + STEP_LIMIT_MS + " ms: " + o);
            out.add(o);
        }
        return out;
    }

    /** The channels of one provider, on which a program runs. */
    interface World<O> extends AutoCloseable {
        List<Outcome> run(List<O> program);
    }

    /** Makes a world of a provider's channels. */
    @FunctionalInterface
    interface WorldOf<O> {
        World<O> open(SelectorProvider p) throws IOException;
    }

    /** Runs {@code program} on a world of the JDK's provider and on one of FlexSC's, and compares them step by step. */
    private static <O> void differential(List<O> program, WorldOf<O> world) throws Exception {
        List<Outcome> jdk, mine;
        try (World<O> w = world.open(SelectorProvider.provider())) {
            jdk = w.run(program);
        }
        try (World<O> w = world.open(flexsc())) {
            mine = w.run(program);
        }
        compare(program, jdk, mine);
    }

    private static void compare(List<?> program, List<Outcome> jdk, List<Outcome> mine) {
        for (int i = 0; i < Math.min(jdk.size(), mine.size()); i++) {
            if (!mine.get(i).sameAs(jdk.get(i))) {
                StringBuilder sb = new StringBuilder("step " + i + " " + program.get(i) + ": JDK " + jdk.get(i) + ", FlexSC "
                        + mine.get(i) + "\nprogram and outcomes (JDK | FlexSC):\n");
                for (int j = 0; j <= i; j++) sb.append("  ").append(program.get(j)).append(": ").append(jdk.get(j)).append(" | ")
                        .append(mine.get(j)).append('\n');
                fail(sb.toString());
            }
        }
        assertEquals(jdk.size(), mine.size());
    }

    private static String bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate().flip();
        byte[] a = new byte[d.remaining()];
        d.get(a);
        return Arrays.toString(a);
    }

    // ---- property 1: a socket channel pair ----

    enum SockKind {
        A_WRITE, A_GATHER_WRITE, A_READ, A_SCATTER_READ, A_BLOCKING_READ, A_BLOCKING_WRITE, B_WRITE, B_DRAIN,
        B_SHUTDOWN_OUTPUT, B_CLOSE, B_RESET, A_SHUTDOWN_INPUT, A_SHUTDOWN_OUTPUT, A_CLOSE, A_CONFIGURE, A_REGISTER,
        A_INTEREST, A_CANCEL, SELECT_NOW, A_SET_OPTION, A_GET_OPTION, A_ADDRESSES, A_STATE
    }

    record SockOp(SockKind kind, int size, boolean direct, int arg) {
        @Override
        public String toString() {
            return kind + "(" + size + (direct ? ", direct" : "") + ", " + arg + ")";
        }
    }

    @Provide
    Arbitrary<List<SockOp>> socketPrograms() {
        Arbitrary<SockOp> op = Combinators.combine(Arbitraries.of(SockKind.class), Arbitraries.integers().between(0, 5000),
                Arbitraries.of(true, false), Arbitraries.integers().between(0, 15)).as(SockOp::new);
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property
    @OnEngine(value = Engine.SYSCALL_THREADS, triesDivisor = 2)
    void socketChannelsAsTheJdks(@ForAll("socketPrograms") List<SockOp> program, @ForAll boolean aIsServer) throws Exception {
        differential(program, p -> new SockWorld(p, aIsServer));
    }

    /** A listener, a connected pair A/B of one provider's channels, a selector. */
    static final class SockWorld implements World<SockOp> {
        private static final List<SocketOption<?>> OPTIONS = List.of(StandardSocketOptions.TCP_NODELAY,
                StandardSocketOptions.SO_KEEPALIVE, StandardSocketOptions.SO_LINGER, StandardSocketOptions.SO_RCVBUF,
                StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
                StandardSocketOptions.IP_TOS);

        final ServerSocketChannel listener;
        final SocketChannel a, b;
        final Selector sel;
        SelectionKey key;
        /**
         * Bytes written and not read that a direction may hold before writes are skipped: a
         * blocking write then always finds room, as the receiver's buffer (SO_RCVBUF 32 KiB or
         * more, doubled by the kernel) and the sender's hold this much and one more write.
         */
        static final long PENDING = 16 << 10;
        /** Bytes B wrote that A has not read; bytes A wrote that B has not read. */
        long toA, toB;
        boolean bOutputDone, aInputDone, reset;

        SockWorld(SelectorProvider p, boolean aIsServer) throws IOException {
            listener = p.openServerSocketChannel().bind(new InetSocketAddress(LOOPBACK, 0));
            SocketChannel c = p.openSocketChannel();
            c.connect(listener.getLocalAddress());
            SocketChannel s = listener.accept();
            a = aIsServer ? s : c;
            b = aIsServer ? c : s;
            sel = p.openSelector();
        }

        @Override
        public List<Outcome> run(List<SockOp> program) {
            return runSteps(program, this::step, this);
        }

        /**
         * A read of A in blocking mode with nothing known to arrive: nothing unread from B, B's
         * output open, A's input open, no reset.
         */
        private boolean mayWaitForever() {
            return a.isBlocking() && a.isOpen() && toA == 0 && !bOutputDone && !aInputDone && !reset;
        }

        private ByteBuffer buffer(int size, boolean direct, long seed) {
            ByteBuffer buf = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
            for (int i = 0; i < size; i++) buf.put(i, (byte) (seed + i * 7));
            return buf;
        }

        private Object step(SockOp op) throws Exception {
            int size = op.size() % 4096 + 1;
            switch (op.kind()) {
                case A_WRITE -> {
                    if (toB > PENDING) return "skip: the peer is behind";
                    int n = a.write(buffer(size, op.direct(), op.arg()));
                    toB += n;
                    return n;
                }
                case A_GATHER_WRITE -> {
                    if (toB > PENDING) return "skip: the peer is behind";
                    ByteBuffer[] bufs = {buffer(size / 2 + 1, op.direct(), 1), buffer(size / 3 + 1, !op.direct(), 2),
                            buffer(op.arg() + 1, op.direct(), 3)};
                    long n = a.write(bufs, op.arg() % 2, 3 - op.arg() % 2);
                    toB += n;
                    return n;
                }
                case A_READ -> {
                    if (mayWaitForever()) return "skip: it could wait forever";
                    ByteBuffer buf = op.direct() ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
                    int n = a.read(buf);
                    if (n > 0) toA -= n;
                    return n + " " + bytes(buf);
                }
                case A_SCATTER_READ -> {
                    if (mayWaitForever()) return "skip: it could wait forever";
                    ByteBuffer[] bufs = {ByteBuffer.allocate(op.arg() + 1), ByteBuffer.allocateDirect(size), ByteBuffer.allocate(3)};
                    long n = a.read(bufs);
                    if (n > 0) toA -= n;
                    return n + " " + bytes(bufs[0]) + bytes(bufs[1]) + bytes(bufs[2]);
                }
                case A_BLOCKING_READ -> {
                    if (!a.isBlocking() || mayWaitForever()) return "skip: it could wait forever";
                    ByteBuffer buf = ByteBuffer.allocate(size);
                    int n = a.read(buf);
                    if (n > 0) toA -= n;
                    return n + " " + bytes(buf);
                }
                case A_BLOCKING_WRITE -> {
                    if (!a.isBlocking() || toB > PENDING) return "skip: it could wait forever";
                    int n = a.write(buffer(size, op.direct(), op.arg()));
                    toB += n;
                    return n;
                }
                case B_WRITE -> {
                    if (toA > PENDING || !b.isOpen()) return "skip";
                    int n = b.write(buffer(size, false, op.arg()));
                    toA += n;
                    return n;
                }
                case B_DRAIN -> {
                    if (!b.isOpen()) return "skip";
                    long got = 0;
                    ByteBuffer buf = ByteBuffer.allocate(8192);
                    while (toB > 0) {
                        int n = b.read(buf.clear());
                        if (n < 0) break;
                        got += n;
                        toB -= n;
                    }
                    return got;
                }
                case B_SHUTDOWN_OUTPUT -> {
                    if (!b.isOpen()) return "skip";
                    b.shutdownOutput();
                    bOutputDone = true;
                    return "ok";
                }
                case B_CLOSE -> {
                    b.close();
                    bOutputDone = true;
                    return "ok";
                }
                case B_RESET -> {
                    if (!b.isOpen()) return "skip";
                    b.setOption(StandardSocketOptions.SO_LINGER, 0);
                    b.close(); // RST
                    reset = true;
                    bOutputDone = true;
                    return "ok";
                }
                case A_SHUTDOWN_INPUT -> {
                    a.shutdownInput();
                    aInputDone = true;
                    return "ok";
                }
                case A_SHUTDOWN_OUTPUT -> {
                    a.shutdownOutput();
                    return "ok";
                }
                case A_CLOSE -> {
                    a.close();
                    return "ok";
                }
                case A_CONFIGURE -> {
                    a.configureBlocking(op.direct());
                    return a.isBlocking();
                }
                case A_REGISTER -> {
                    key = a.register(sel, op.arg() & (OP_READ | OP_WRITE));
                    return key.interestOps();
                }
                case A_INTEREST -> {
                    if (key == null) return "no key";
                    return key.interestOps(op.arg() & (OP_READ | OP_WRITE | OP_CONNECT)).interestOps();
                }
                case A_CANCEL -> {
                    if (key == null) return "no key";
                    key.cancel();
                    return key.isValid();
                }
                case SELECT_NOW -> {
                    int n = sel.selectNow();
                    String ready = key != null && key.isValid() && sel.selectedKeys().contains(key)
                            ? "ready " + key.readyOps() : "not selected";
                    sel.selectedKeys().clear();
                    return n + " " + ready + " keys " + sel.keys().size();
                }
                case A_SET_OPTION -> {
                    SocketOption<?> o = OPTIONS.get(op.arg() % OPTIONS.size());
                    setOption(o, op.size());
                    return get(o);
                }
                case A_GET_OPTION -> {
                    return get(OPTIONS.get(op.arg() % OPTIONS.size()));
                }
                case A_ADDRESSES -> {
                    return "local=" + a.getLocalAddress().equals(peerRemote()) + " remote="
                            + a.getRemoteAddress().equals(peerLocal());
                }
                case A_STATE -> {
                    return "open=" + a.isOpen() + " connected=" + a.isConnected() + " pending=" + a.isConnectionPending()
                            + " blocking=" + a.isBlocking() + " registered=" + a.isRegistered() + " key="
                            + (a.keyFor(sel) != null);
                }
            }
            throw new AssertionError(op);
        }

        private Object peerRemote() {
            try {
                return b.getRemoteAddress();
            } catch (IOException e) {
                return "b closed";
            }
        }

        private Object peerLocal() {
            try {
                return b.getLocalAddress();
            } catch (IOException e) {
                return "b closed";
            }
        }

        @SuppressWarnings("unchecked")
        private void setOption(SocketOption<?> o, int v) throws IOException {
            if (o.type() == Boolean.class) {
                a.setOption((SocketOption<Boolean>) o, (v & 1) == 1);
            } else if (o == StandardSocketOptions.SO_LINGER) {
                a.setOption((SocketOption<Integer>) o, v % 7 - 1);
            } else if (o == StandardSocketOptions.IP_TOS) {
                a.setOption((SocketOption<Integer>) o, (v % 64) * 4);
            } else {
                a.setOption((SocketOption<Integer>) o, (32 << 10) + v * 13); // see PENDING
            }
        }

        private Object get(SocketOption<?> o) throws IOException {
            return a.getOption(o);
        }

        @Override
        public void close() throws IOException {
            sel.close();
            a.close();
            b.close();
            listener.close();
        }
    }

    // ---- property 2: a selector over pipes ----

    enum SelKind {
        CONFIGURE, REGISTER, INTEREST, CANCEL, WRITE, DRAIN, CLOSE_END, SELECT_NOW, SELECT_CONSUMER, SELECT_TIMED, WAKEUP,
        REMOVE_SELECTED, CLEAR_SELECTED, CLOSE_SELECTOR
    }

    /** {@code pipe} 0-2, {@code sink}: the write end (else the read end). */
    record SelOp(SelKind kind, int pipe, boolean sink, int arg) {
        @Override
        public String toString() {
            return kind + "(" + pipe + (sink ? " sink" : " source") + ", " + arg + ")";
        }
    }

    @Provide
    Arbitrary<List<SelOp>> selectorPrograms() {
        Arbitrary<SelKind> kinds = Arbitraries.of(SelKind.class).edgeCases(c -> c.includeOnly(SelKind.SELECT_NOW));
        Arbitrary<SelKind> weighted = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(SelKind.CLOSE_SELECTOR)), net.jqwik.api.Tuple.of(60, kinds));
        Arbitrary<SelOp> op = Combinators.combine(weighted, Arbitraries.integers().between(0, 2), Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 600)).as(SelOp::new);
        return op.list().ofMinSize(1).ofMaxSize(50);
    }

    @Property
    @OnEngine(value = Engine.SYSCALL_THREADS)
    void selectorsAsTheJdks(@ForAll("selectorPrograms") List<SelOp> program) throws Exception {
        differential(program, SelWorld::new);
    }

    /** Three pipes and a selector of one provider. */
    static final class SelWorld implements World<SelOp> {
        final Selector sel;
        final Pipe[] pipes = new Pipe[3];
        /** Bytes written into each pipe and not drained. */
        final long[] inPipe = new long[3];

        SelWorld(SelectorProvider p) throws IOException {
            sel = p.openSelector();
            for (int i = 0; i < 3; i++) pipes[i] = p.openPipe();
        }

        private SelectableChannel end(SelOp op) {
            return op.sink() ? pipes[op.pipe()].sink() : pipes[op.pipe()].source();
        }

        private String name(SelectionKey k) {
            for (int i = 0; i < 3; i++) {
                if (k.channel() == pipes[i].sink()) return i + "w";
                if (k.channel() == pipes[i].source()) return i + "r";
            }
            return "?";
        }

        private String keys(java.util.Set<SelectionKey> ks) {
            TreeSet<String> names = new TreeSet<>();
            for (SelectionKey k : ks) names.add(name(k) + (k.isValid() ? ":" + k.readyOps() : ":cancelled"));
            return names.toString();
        }

        @Override
        public List<Outcome> run(List<SelOp> program) {
            return runSteps(program, op -> step(op) + " | keys " + keys(sel.keys()) + " selected " + keys(sel.selectedKeys()),
                    this);
        }

        private Object step(SelOp op) throws Exception {
            SelectableChannel ch = end(op);
            switch (op.kind()) {
                case CONFIGURE -> {
                    ch.configureBlocking((op.arg() & 1) == 1);
                    return ch.isBlocking();
                }
                case REGISTER -> {
                    SelectionKey k = ch.register(sel, op.arg() & ch.validOps());
                    return k.interestOps();
                }
                case INTEREST -> {
                    SelectionKey k = ch.keyFor(sel);
                    if (k == null) return "no key";
                    return k.interestOps(op.arg() & ch.validOps()).interestOps();
                }
                case CANCEL -> {
                    SelectionKey k = ch.keyFor(sel);
                    if (k == null) return "no key";
                    k.cancel();
                    return k.isValid();
                }
                case WRITE -> {
                    Pipe.SinkChannel sink = pipes[op.pipe()].sink();
                    // a pipe holds 64 KiB: a blocking write with more pending could wait forever
                    if (inPipe[op.pipe()] > 32 << 10) return "skip";
                    int n = sink.write(ByteBuffer.allocate(op.arg() % 512 + 1));
                    inPipe[op.pipe()] += n;
                    return n;
                }
                case DRAIN -> {
                    Pipe.SourceChannel src = pipes[op.pipe()].source();
                    if (src.isBlocking() && inPipe[op.pipe()] == 0 && pipes[op.pipe()].sink().isOpen()) return "skip";
                    ByteBuffer b = ByteBuffer.allocate(op.arg() + 1);
                    int n = src.read(b);
                    if (n > 0) inPipe[op.pipe()] -= n;
                    return n;
                }
                case CLOSE_END -> {
                    ch.close();
                    return ch.isOpen();
                }
                case SELECT_NOW -> {
                    return sel.selectNow();
                }
                case SELECT_CONSUMER -> {
                    List<String> seen = new ArrayList<>();
                    int n = sel.selectNow(k -> seen.add(name(k) + ":" + k.readyOps()));
                    java.util.Collections.sort(seen);
                    return n + " " + seen;
                }
                case SELECT_TIMED -> {
                    return sel.select(1);
                }
                case WAKEUP -> {
                    sel.wakeup();
                    return "ok";
                }
                case REMOVE_SELECTED -> {
                    SelectionKey k = ch.keyFor(sel);
                    return k != null && sel.selectedKeys().remove(k);
                }
                case CLEAR_SELECTED -> {
                    sel.selectedKeys().clear();
                    return "ok";
                }
                case CLOSE_SELECTOR -> {
                    sel.close();
                    return sel.isOpen();
                }
            }
            throw new AssertionError(op);
        }

        @Override
        public void close() throws IOException {
            sel.close();
            for (Pipe p : pipes) {
                p.sink().close();
                p.source().close();
            }
        }
    }

    // ---- property 3: concurrent close and interrupt ----

    @Property
    @OnEngine(value = Engine.SYSCALL_THREADS, triesDivisor = 10)
    void aBlockedReadEndsAsTheJdkAllowsWhenClosedOrInterrupted(@ForAll boolean flexsc, @ForAll boolean interrupt,
                                                               @ForAll boolean green, @ForAll boolean pipe,
                                                               @ForAll @net.jqwik.api.constraints.IntRange(max = 30) int delayMs)
            throws Exception {
        SelectorProvider p = flexsc ? flexsc() : SelectorProvider.provider();
        java.nio.channels.ReadableByteChannel reading;
        AutoCloseable rest;
        if (pipe) {
            Pipe pp = p.openPipe();
            reading = pp.source();
            rest = pp.sink();
        } else {
            ServerSocketChannel l = p.openServerSocketChannel().bind(new InetSocketAddress(LOOPBACK, 0));
            SocketChannel c = p.openSocketChannel();
            c.connect(l.getLocalAddress());
            SocketChannel s = l.accept();
            reading = s;
            rest = () -> {
                c.close();
                l.close();
            };
        }
        try (rest) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Boolean> status = new AtomicReference<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            Runnable body = () -> {
                try {
                    reading.read(ByteBuffer.allocate(16));
                } catch (Throwable t) {
                    thrown.set(t);
                }
                status.set(Thread.currentThread().isInterrupted());
                done.complete(null);
            };
            Thread t = green ? rt.threadFactory().newThread(body) : new Thread(body);
            t.start();
            if (delayMs > 0) Thread.sleep(delayMs);
            if (interrupt) t.interrupt();
            else reading.close();
            done.get(10, TimeUnit.SECONDS); // never hangs
            assertFalse(reading.isOpen(), "closed by the close or by the interrupt");
            Throwable e = thrown.get();
            assertNotNull(e, "the read cannot have returned: nothing was written");
            if (interrupt) {
                assertEquals(ClosedByInterruptException.class, e.getClass(), () -> "got " + e);
                assertTrue(status.get(), "the interrupt status stays set");
            } else {
                assertTrue(e.getClass() == AsynchronousCloseException.class || e.getClass() == ClosedChannelException.class,
                        () -> "got " + e);
                assertFalse(status.get());
            }
        }
    }
}
