package dev.flexsc.nativeimpl.fuzz;

import dev.flexsc.CallPolicy;
import dev.flexsc.EngineClosedException;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.fuzz.FuzzSetup.OnEngine;
import dev.flexsc.spi.SyscallInvoker;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.flexsc.nativeimpl.fuzz.FuzzBuffer.Kind.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The differential fuzzer: random programs of allow-listed calls through {@link Syscalls}
 * on an engine against the same programs through the direct calls (the FFM baseline), on
 * two identical sandboxes of files, pipes, sockets and directories, with hostile segments
 * (closed, confined to another thread, automatic under GC pressure, read-only, empty, huge),
 * hostile paths (a lone surrogate, NUL, not UTF-8, 5000 bytes) and lengths, and the engine's
 * own descriptor. Invariants: every call gives the same result or the same errno or the same
 * Java exception as the direct call made the same way; no byte is written outside a buffer
 * (guard bytes) or into memory the caller no longer owns (canaries); the engine refuses its
 * own descriptor; the sandboxes end identical. A second property interrupts or closes the
 * engine under reads blocked on pipes: a read delivers a prefix of what was written or
 * fails with the interrupt's or the close's exception, and no byte is lost or delivered
 * twice. Tries, seed and replay: {@link FuzzSetup}.
 */
@AddLifecycleHook(FuzzSetup.class)
class SyscallsFuzzTest {
    private static Path root;
    private static final Map<String, FlexscEngine> ENGINES = new ConcurrentHashMap<>();
    private static final AtomicInteger TRY = new AtomicInteger();
    private static FuzzBuffer.ForeignThread foreign;
    private static Thread gcPressure;
    private static volatile boolean stop;

    @BeforeContainer
    static void setUp() throws Exception {
        root = Files.createTempDirectory("flexsc-fuzz");
        foreign = new FuzzBuffer.ForeignThread();
        stop = false;
        // GC pressure: automatic arenas' memory is freed as soon as nothing references it.
        gcPressure = Thread.ofPlatform().daemon().name("fuzz-gc").start(() -> {
            while (!stop) {
                byte[][] garbage = new byte[64][];
                for (int i = 0; i < garbage.length; i++) garbage[i] = new byte[16 * 1024];
                System.gc();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @AfterContainer
    static void tearDown() throws Exception {
        stop = true;
        gcPressure.interrupt();
        ENGINES.values().forEach(FlexscEngine::close);
        ENGINES.clear();
        foreign.close();
        try (var all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }

    /** The engine of {@code kind}, every call posted or under the default ADAPTIVE policy; opened once. */
    private static FlexscEngine engine(Engine kind, boolean posted) {
        return ENGINES.computeIfAbsent(kind + "/" + posted, k -> {
            try {
                return Flexsc.open(FlexscConfig.builder().engine(kind)
                        .policy(posted ? CallPolicy.EXCEPTIONLESS : CallPolicy.ADAPTIVE).build());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    // ---- the differential property, per engine ----

    @Property
    @OnEngine(Engine.SYSCALL_THREADS)
    void syscallThreadsGivesTheDirectCallsResults(@ForAll("programs") List<FuzzOp> program, @ForAll boolean posted,
                                                  @ForAll @IntRange(max = 1000) int content) throws Exception {
        differential(Engine.SYSCALL_THREADS, posted, program, content);
    }

    @Property
    @OnEngine(Engine.IO_URING)
    void ioUringGivesTheDirectCallsResults(@ForAll("programs") List<FuzzOp> program, @ForAll boolean posted,
                                           @ForAll @IntRange(max = 1000) int content) throws Exception {
        differential(Engine.IO_URING, posted, program, content);
    }

    @Property
    @OnEngine(Engine.IO_URING_SQPOLL)
    void ioUringSqpollGivesTheDirectCallsResults(@ForAll("programs") List<FuzzOp> program, @ForAll boolean posted,
                                                 @ForAll @IntRange(max = 1000) int content) throws Exception {
        differential(Engine.IO_URING_SQPOLL, posted, program, content);
    }

    @Property
    @OnEngine(Engine.KERNEL_MODULE)
    void kernelModuleGivesTheDirectCallsResults(@ForAll("programs") List<FuzzOp> program, @ForAll boolean posted,
                                                @ForAll @IntRange(max = 1000) int content) throws Exception {
        differential(Engine.KERNEL_MODULE, posted, program, content);
    }

    private static void differential(Engine kind, boolean posted, List<FuzzOp> program, int content) throws Exception {
        FlexscEngine e = engine(kind, posted);
        Syscalls flexsc = e.syscalls(), direct = DirectSyscalls.syscalls();
        int[] owned = e instanceof SyscallInvoker si ? si.ownedFds().fds() : new int[0];
        int own = owned.length > 0 ? owned[0] : -1;
        int n = TRY.incrementAndGet();
        try (Sandbox a = Sandbox.create(root.resolve("t" + n + "-engine"), content);
             Sandbox b = Sandbox.create(root.resolve("t" + n + "-direct"), content)) {
            List<String> violations = new ArrayList<>();
            boolean ring = kind == Engine.IO_URING || kind == Engine.IO_URING_SQPOLL;
            for (FuzzOp op : program) {
                if (ring && op.differsOnTheRing(a)) continue; // documented in docs/engines.md ("Left as they are")
                if (op.call() == FuzzOp.Call.BATCH && (op.slot() == FuzzOp.OWN || op.slot2() == FuzzOp.OWN)) {
                    continue; // the adder refuses that call and the others run: no direct twin (UringSafetyTest covers it)
                }
                // The engine's descriptor where the call takes a descriptor: the direct calls have
                // nothing to refuse, so only the engine runs it, and must refuse it.
                boolean ownFd = own >= 0 && op.usesSlot() && usesOwnInAnFdArgument(op);
                String ra = watched(op, () -> op.run(flexsc, a, own, foreign, violations));
                if (ownFd) {
                    assertTrue(refusedBeforeTheKernel(op, ra), () -> op + " on the engine's own descriptor " + own + " gave " + ra);
                    assertTrue(new java.io.File("/proc/self/fd/" + own).exists(), "the engine's descriptor was closed");
                    continue;
                }
                String rb = watched(op, () -> op.run(direct, b, -1, foreign, violations));
                assertEquals(List.of(), violations, () -> op + ": memory written that must not be");
                java.util.Set<String> refusals = op.refusals();
                if (refusals != null) {
                    assertTrue(refusals.contains(ra), () -> op + " must be refused with one of " + refusals + ", got " + ra);
                }
                if (ring && op.call() == FuzzOp.Call.RENAMEAT && op.path2() == FuzzOp.PathKind.LONG
                        && ra.equals("ErrnoException ENAMETOOLONG") && rb.startsWith("ErrnoException")) {
                    continue; // documented: io_uring copies both names before it resolves the old one
                }
                assertEquals(rb, ra, () -> kind + (posted ? " posted" : " adaptive") + ": " + op + " differs from the direct call");
            }
            assertEquals(b.state(), a.state(), "the sandboxes differ after the program");
        }
    }

    /** The calls run on this thread, one at a time, so that one that never returns fails the try instead of hanging the run. */
    private static java.util.concurrent.ExecutorService caller = newCaller();

    private static java.util.concurrent.ExecutorService newCaller() {
        return java.util.concurrent.Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("fuzz-caller").unstarted(r));
    }

    /** Runs {@code op} on the caller thread; fails if it does not return within 20 s. */
    private static String watched(FuzzOp op, java.util.concurrent.Callable<String> run) throws Exception {
        java.util.concurrent.Future<String> f = caller.submit(run);
        try {
            return f.get(20, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException hung) {
            caller = newCaller(); // the hung thread is left behind; the next tries get a new one
            throw new AssertionError(op + " did not return within 20 s");
        }
    }

    /** Whether op passes the OWN slot where its call takes a descriptor (else it is just a number). */
    private static boolean usesOwnInAnFdArgument(FuzzOp op) {
        return op.slot() == FuzzOp.OWN || (op.slot2() == FuzzOp.OWN
                && (op.call() == FuzzOp.Call.SPLICE || op.call() == FuzzOp.Call.SENDFILE || op.call() == FuzzOp.Call.BATCH));
    }

    /**
     * A call naming the engine's descriptor never reaches the kernel: it is refused
     * (RefusedCallException), or an argument check refuses it first (a heap segment where a
     * native one is needed, a closed or another thread's segment). A batch's adder refuses it.
     */
    private static boolean refusedBeforeTheKernel(FuzzOp op, String outcome) {
        if (op.call() == FuzzOp.Call.BATCH) return outcome.contains("adder ");
        return java.util.Set.of("RefusedCallException", "IllegalArgumentException", "IllegalStateException",
                "WrongThreadException").contains(outcome);
    }

    @Provide
    Arbitrary<List<FuzzOp>> programs() {
        Arbitrary<FuzzOp.Call> call = Arbitraries.of(FuzzOp.Call.class);
        Arbitrary<Integer> slot = Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.integers().between(0, 11)),
                Tuple.of(1, Arbitraries.of(FuzzOp.BAD, FuzzOp.OWN)));
        Arbitrary<FuzzBuffer.Kind> buf = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(CONFINED, SHARED, AUTO, GLOBAL, HEAP)),
                Tuple.of(1, Arbitraries.of(READ_ONLY, EMPTY, CLOSED, FOREIGN, AUTO_DROPPED, HUGE)));
        Arbitrary<Integer> size = Arbitraries.oneOf(Arbitraries.of(0, 1, 7, 64, 100, 256, 4096, 4097, 65536),
                Arbitraries.integers().between(0, 70_000));
        Arbitrary<Long> offset = Arbitraries.oneOf(Arbitraries.of(-1L, 0L, 1L, 100L, 4096L, 1L << 20),
                Arbitraries.longs().between(0, 20_000));
        Arbitrary<Integer> flags = Arbitraries.integers().between(0, 7);
        Arbitrary<FuzzOp.PathKind> path = Arbitraries.of(FuzzOp.PathKind.class);
        // MAX_RW_COUNT and around, 2^31 (negative as an int), beyond the SQE's 32 bits.
        Arbitrary<Long> huge = Arbitraries.of(0x7ffff000L, 0x7ffff001L, 1L << 31, (1L << 32) + 5);
        Arbitrary<Byte> fill = Arbitraries.bytes();
        Arbitrary<FuzzOp> op = Combinators.combine(call, slot, slot, buf, size, offset, flags, path)
                .flatAs((c, s1, s2, b, sz, off, fl, p) -> Combinators.combine(path, huge, fill)
                        .as((p2, h, f) -> new FuzzOp(c, s1, s2, b, sz, off, fl, p, p2, h, f)));
        // Lengths at and past what one read or write moves, on the descriptors where the kernel
        // touches only what it must: /dev/null, /dev/zero, the files, the pipe and sockets.
        Arbitrary<FuzzOp> hugeOp = Combinators.combine(
                Arbitraries.of(FuzzOp.Call.WRITE, FuzzOp.Call.PWRITE, FuzzOp.Call.READ, FuzzOp.Call.PREAD,
                        FuzzOp.Call.SENDTO, FuzzOp.Call.RECVFROM, FuzzOp.Call.GETRANDOM),
                Arbitraries.of(Sandbox.NULL, Sandbox.ZERO, Sandbox.F0, Sandbox.PIPE_W, Sandbox.SOCK_B),
                Arbitraries.longs().between(0, 9000), huge, fill)
                .as((c, sl, off, h, f) -> new FuzzOp(c, sl, sl, HUGE, 0, off, 0, FuzzOp.PathKind.F0, FuzzOp.PathKind.F0, h, f));
        return Arbitraries.frequencyOf(Tuple.of(4, op), Tuple.of(1, hugeOp)).list().ofMinSize(1).ofMaxSize(8);
    }

    // ---- interrupts and closes of blocked reads, per engine ----

    /** A read blocked on a pipe, then woken by an interrupt or by closing the engine. */
    record BlockedRead(boolean closeEngine, boolean batch, FuzzBuffer.Kind kind, int size, int preBytes, int writeAfterMs,
                       int writeBytes, int wakeAfterMs) {}

    @Provide
    Arbitrary<BlockedRead> blockedReads() {
        return Combinators.combine(Arbitraries.of(false, true), Arbitraries.of(false, true),
                Arbitraries.of(CONFINED, SHARED, AUTO, AUTO_DROPPED, GLOBAL, HEAP), Arbitraries.integers().between(1, 300),
                Arbitraries.of(0, 0, 5, 200), Arbitraries.integers().between(-1, 40), Arbitraries.integers().between(1, 400),
                Arbitraries.integers().between(0, 40)).as(BlockedRead::new);
    }

    @Property
    @OnEngine(value = Engine.SYSCALL_THREADS, triesDivisor = 8)
    void syscallThreadsNeverLosesOrTearsABlockedRead(@ForAll("blockedReads") BlockedRead r) throws Exception {
        blockedRead(Engine.SYSCALL_THREADS, r);
    }

    @Property
    @OnEngine(value = Engine.IO_URING, triesDivisor = 8)
    void ioUringNeverLosesOrTearsABlockedRead(@ForAll("blockedReads") BlockedRead r) throws Exception {
        blockedRead(Engine.IO_URING, r);
    }

    @Property
    @OnEngine(value = Engine.IO_URING_SQPOLL, triesDivisor = 8)
    void ioUringSqpollNeverLosesOrTearsABlockedRead(@ForAll("blockedReads") BlockedRead r) throws Exception {
        blockedRead(Engine.IO_URING_SQPOLL, r);
    }

    @Property
    @OnEngine(value = Engine.KERNEL_MODULE, triesDivisor = 8)
    void kernelModuleNeverLosesOrTearsABlockedRead(@ForAll("blockedReads") BlockedRead r) throws Exception {
        blockedRead(Engine.KERNEL_MODULE, r);
    }

    private static void blockedRead(Engine kind, BlockedRead r) throws Exception {
        FlexscEngine e = r.closeEngine()
                ? Flexsc.open(FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).closeTimeoutMillis(300).build())
                : engine(kind, true);
        int[] p = pipe();
        byte[] data = new byte[r.preBytes() + r.writeBytes()];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7 + 3);
        try {
            if (r.preBytes() > 0) writeDirect(p[1], data, 0, r.preBytes());
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicReference<byte[]> delivered = new AtomicReference<>();
            AtomicReference<String> violation = new AtomicReference<>();
            AtomicReference<Boolean> interruptStatus = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try (FuzzBuffer b = FuzzBuffer.make(r.kind(), r.size(), 0, (byte) 0, null)) {
                    long t0 = System.nanoTime();
                    try {
                        long n;
                        if (r.batch()) {
                            try (SyscallBatch batch = e.syscalls().batch()) {
                                SyscallBatch.Result res = batch.read(p[0], b.segment);
                                batch.submit();
                                n = res.get();
                            }
                        } else {
                            n = e.syscalls().read(p[0], b.segment);
                        }
                        outcome.set(n);
                        delivered.set(b.contents(n));
                    } catch (Throwable x) {
                        outcome.set(x);
                    }
                    violation.set(b.violation(t0, System.nanoTime()));
                    interruptStatus.set(Thread.currentThread().isInterrupted());
                }
            });
            Thread writer = null;
            boolean writes = r.writeAfterMs() >= 0;
            if (writes) {
                writer = Thread.ofPlatform().start(() -> {
                    sleep(r.writeAfterMs());
                    writeDirect(p[1], data, r.preBytes(), r.writeBytes());
                });
            }
            sleep(r.wakeAfterMs());
            if (r.closeEngine()) e.close();
            else reader.interrupt();
            reader.join(15_000);
            assertFalse(reader.isAlive(), () -> r + ": the blocked read never came back");
            if (writer != null) writer.join();
            int written = r.preBytes() + (writes ? r.writeBytes() : 0);
            byte[] left = drain(p[0]);
            Object o = outcome.get();
            assertNull(violation.get(), () -> r + ": " + violation.get());
            long n;
            if (o instanceof Long count) {
                n = count;
                assertTrue(n > 0 && n <= r.size(), () -> r + ": read returned " + n);
                byte[] got = delivered.get();
                if (got != null) {
                    assertArrayEquals(Arrays.copyOfRange(data, 0, (int) Math.min(n, got.length)), got,
                            () -> r + ": the read delivered other bytes than were written first");
                }
            } else {
                n = 0;
                Class<?> expected = r.closeEngine() ? EngineClosedException.class : InterruptedIOException.class;
                assertInstanceOf(expected, o, () -> r + ": " + o);
                if (!r.closeEngine()) assertEquals(Boolean.TRUE, interruptStatus.get(), () -> r + ": the interrupt status was lost");
            }
            assertEquals(written - n, left.length, () -> r + ": bytes lost or delivered twice (read " + n + " of "
                    + written + ", " + left.length + " left)");
            assertArrayEquals(Arrays.copyOfRange(data, (int) n, written), left, () -> r + ": the bytes left are not the rest");
        } finally {
            closeDirect(p[0]);
            closeDirect(p[1]);
            if (r.closeEngine()) e.close();
        }
    }

    private static void sleep(int ms) {
        try {
            if (ms > 0) Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A blocking pipe: {read end, write end}. */
    private static int[] pipe() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment two = a.allocate(8, 4);
            long rc = DirectSyscalls.raw(293, two.address(), 02000000, 0, 0, 0, 0);
            if (rc < 0) throw new IllegalStateException("pipe2: " + rc);
            return new int[] {two.get(ValueLayout.JAVA_INT, 0), two.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    private static void writeDirect(int fd, byte[] data, int off, int len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(Math.max(1, len));
            MemorySegment.copy(data, off, m, ValueLayout.JAVA_BYTE, 0, len);
            long w = DirectSyscalls.raw(1, fd, m.address(), len, 0, 0, 0);
            if (w != len) throw new IllegalStateException("write: " + w);
        }
    }

    /** What the pipe still holds (the read end made non-blocking first). */
    private static byte[] drain(int fd) {
        DirectSyscalls.raw(72, fd, 4 /* F_SETFL */, 04000 /* O_NONBLOCK */, 0, 0, 0);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(4096);
            long n;
            while ((n = DirectSyscalls.raw(0, fd, m.address(), 4096, 0, 0, 0)) > 0) {
                out.writeBytes(m.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            }
        }
        return out.toByteArray();
    }

    private static void closeDirect(int fd) {
        DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
    }
}
