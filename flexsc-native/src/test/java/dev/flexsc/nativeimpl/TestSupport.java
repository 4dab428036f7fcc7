package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.EngineProvider;
import dev.flexsc.spi.page.PageEngine;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The test fixture shared by every module's engine tests (flexsc-native's test-jar, which
 * flexsc-threads' tests depend on): the engine under test and its configuration
 * ({@value #ENGINE_PROPERTY}), the engines a contract test runs against
 * ({@link #enginesUnderTest()}), opening an engine or skipping with the reason, pipes and
 * files made by direct calls, and the batch scenarios. Direct calls go through
 * {@link DirectSyscalls}, never through the engine under test.
 */
public final class TestSupport {
    private TestSupport() {}

    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

    /**
     * System property naming the engine the tests run against: the engine of
     * {@link #config()} (default SYSCALL_THREADS), and the only one of
     * {@link #enginesUnderTest()} when set.
     */
    public static final String ENGINE_PROPERTY = "flexsc.test.engine";
    /** If true, an unavailable engine fails the tests instead of skipping them (the guest run sets it). */
    public static final String REQUIRED_PROPERTY = "flexsc.test.engineRequired";
    /** Percentage of the long loops' iterations to run (default 100; the TCG guest run lowers it). */
    public static final String SCALE_PROPERTY = "flexsc.test.scalePercent";

    /** The engine named by {@value #ENGINE_PROPERTY}, SYSCALL_THREADS without it. */
    public static Engine engineUnderTest() {
        return Engine.valueOf(System.getProperty(ENGINE_PROPERTY, "SYSCALL_THREADS").trim().toUpperCase(java.util.Locale.ROOT));
    }

    /**
     * The engines a contract test (one that every engine must pass, such as DifferentialTest)
     * runs against: the one named by {@value #ENGINE_PROPERTY}, or without it every engine
     * this build can run without a kernel module (SYSCALL_THREADS, IO_URING,
     * IO_URING_SQPOLL). Each is skipped, with the reason printed, where it cannot run.
     */
    public static List<Engine> enginesUnderTest() {
        if (System.getProperty(ENGINE_PROPERTY) != null) return List.of(engineUnderTest());
        return List.of(Engine.SYSCALL_THREADS, Engine.IO_URING, Engine.IO_URING_SQPOLL);
    }

    /**
     * Caller spin iterations before sleeping (default: FlexscConfig's). The TCG guest lowers
     * it: there PAUSE exits to QEMU's main loop, so eight callers spinning on one vCPU starve
     * the syscall threads for milliseconds per call.
     */
    public static final String CALLER_SPIN_PROPERTY = "flexsc.test.callerSpin";

    /**
     * The engine under test with every call posted ({@link CallPolicy#EXCEPTIONLESS}): the
     * engine tests test the exception-less path, also from platform threads, which the
     * default ADAPTIVE policy would call directly.
     */
    public static FlexscConfig config() {
        return config(engineUnderTest());
    }

    /** {@link #config()} for engine {@code kind}. */
    public static FlexscConfig config(Engine kind) {
        FlexscConfig.Builder b = FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS);
        Integer spin = Integer.getInteger(CALLER_SPIN_PROPERTY);
        if (spin != null) b.callerSpin(spin);
        return b.build();
    }

    /**
     * Skips the calling test, printing the engine's reason, unless engine {@code kind} can
     * run here; fails instead when {@value #REQUIRED_PROPERTY} is set and {@code kind} is the
     * engine under test (the guest run must not skip the module).
     */
    public static void assumeAvailable(Engine kind) {
        String why = unavailabilityCause(kind);
        if (why == null) return;
        String msg = kind + " unavailable: " + why;
        if (Boolean.getBoolean(REQUIRED_PROPERTY) && kind == engineUnderTest()) Assertions.fail(msg);
        System.out.println("skipped: " + msg);
        Assumptions.abort(msg);
    }

    /**
     * Opens cfg's engine through its ServiceLoader provider (as applications do), or skips
     * the calling test as {@link #assumeAvailable} says.
     */
    public static FlexscEngine openEngine(FlexscConfig cfg) throws IOException {
        assumeAvailable(cfg.engine());
        return Flexsc.open(cfg);
    }

    /**
     * {@link #openEngine} for a test of the syscall-page data plane: skips (printing why)
     * if cfg's engine is not a page engine (io_uring under {@value #ENGINE_PROPERTY}).
     */
    public static PageEngine open(FlexscConfig cfg) throws IOException {
        FlexscEngine e = openEngine(cfg);
        if (e instanceof PageEngine p) return p;
        e.close();
        String msg = cfg.engine() + " is not a syscall-page engine; this test needs one";
        System.out.println("skipped: " + msg);
        Assumptions.abort(msg);
        throw new AssertionError("unreachable");
    }

    public static String unavailabilityCause(Engine engine) {
        for (EngineProvider p : java.util.ServiceLoader.load(EngineProvider.class)) {
            if (p.engine() == engine) return p.unavailabilityCause();
        }
        return "no provider registered in META-INF/services";
    }

    /**
     * Runs a C helper the build compiled into target/test-bin (src/test/c) and returns the
     * NAME=VALUE lines it prints: the C headers' values for a conformance test.
     */
    public static java.util.Map<String, Long> helperValues(String helper) throws Exception {
        Path bin = Path.of("target/test-bin", helper);
        Assertions.assertTrue(Files.isExecutable(bin), bin + " was not built (src/test/c, generate-test-resources)");
        Process p = new ProcessBuilder(bin.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        Assertions.assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), bin + " did not finish");
        Assertions.assertEquals(0, p.exitValue(), out);
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        for (String line : out.split("\n")) {
            if (line.isBlank()) continue;
            int eq = line.indexOf('=');
            m.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
        }
        return m;
    }

    /** Name of the engine's syscall threads (native threads of libflexsc). */
    public static String syscallThreadName() {
        return engineUnderTest() == Engine.KERNEL_MODULE ? KernelModuleEngine.THREAD_NAME : "flexsc-exec";
    }

    /** n scaled by {@value #SCALE_PROPERTY} percent (at least 1). */
    public static int scaled(int n) {
        return Math.max(1, (int) ((long) n * Integer.getInteger(SCALE_PROPERTY, 100) / 100));
    }

    /** A pipe made by a direct call: {read fd, write fd}. */
    public static int[] pipe() {
        return pipe(OpenFlags.O_CLOEXEC);
    }

    /** A pipe with pipe2 flags (O_NONBLOCK = 04000): {read fd, write fd}. */
    public static int[] pipe(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8);
            long r = DirectSyscalls.raw(SyscallTable.PIPE2, fds.address(), flags, 0, 0, 0, 0);
            if (r < 0) throw new IllegalStateException("pipe2: " + r);
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    /** Closes descriptors with direct calls (errors ignored: cleanup). */
    public static void closeDirect(int... fds) {
        for (int fd : fds) DirectSyscalls.raw(SyscallTable.CLOSE, fd, 0, 0, 0, 0, 0);
    }

    public static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    /** Threads of this process whose name (/proc/self/task/TID/comm) matches. */
    public static long threadsMatching(java.util.function.Predicate<String> name) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return name.test(Files.readString(t.resolve("comm")).trim());
                } catch (IOException gone) {
                    return false; // the thread exited between list and read
                }
            }).count();
        }
    }

    /**
     * Syscall threads of the engine under test (native threads named flexsc-exec or
     * flexsc-kserve). Counting every OS thread would be flaky: the JVM starts and stops
     * JIT and GC threads on its own.
     */
    public static long syscallThreads() throws IOException {
        String n = syscallThreadName();
        return threadsMatching(n::equals);
    }

    /** Threads owned by FlexSC engines: libflexsc's (flexsc-*) and io_uring's (iou-sqp-*, iou-wrk-*). */
    public static long engineThreads() throws IOException {
        return threadsMatching(n -> n.startsWith("flexsc-") || n.startsWith("iou-"));
    }

    /**
     * The engine's stats once its executed count reached {@code expected}, at most 10 s: the
     * syscall side adds its counts after it finished a batch, so they may trail the
     * completions the caller already saw. Asserting equality on the result still catches a
     * call executed twice.
     */
    public static dev.flexsc.EngineStats statsOnceExecuted(dev.flexsc.FlexscEngine e, long expected) {
        return statsOnce(e, st -> st.executed() >= expected);
    }

    /**
     * The engine's stats once {@code reached} holds for them, at most 10 s (then the last
     * ones, for the caller's assertion to report): for the counters the syscall side adds
     * after the completions they count ({@code executed}, {@code refused}, {@code batches}).
     */
    public static dev.flexsc.EngineStats statsOnce(dev.flexsc.FlexscEngine e,
                                                   java.util.function.Predicate<dev.flexsc.EngineStats> reached) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        dev.flexsc.EngineStats st = e.stats();
        while (!reached.test(st) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
            st = e.stats();
        }
        return st;
    }

    public static long openFds() throws IOException {
        return count(Path.of("/proc/self/fd"));
    }

    public static long mappings() throws IOException {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.count();
        }
    }

    public static MemorySegment bytes(Arena a, String s) {
        byte[] b = s.getBytes();
        MemorySegment m = a.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m;
    }

    /**
     * One thread's rounds for the batch tests: batches of pread from a file where byte i is
     * (byte) (i * 31 + 7), with (length, offset) unique per call, checked byte by byte.
     */
    public static void batchRounds(dev.flexsc.Syscalls s, int fd, int id, int rounds, int per) throws IOException {
        try (Arena a = Arena.ofConfined(); dev.flexsc.SyscallBatch b = s.batch()) {
            MemorySegment bufs = a.allocate(per * 64L);
            dev.flexsc.SyscallBatch.Result[] rs = new dev.flexsc.SyscallBatch.Result[per];
            for (int r = 0; r < rounds; r++) {
                bufs.fill((byte) 0);
                for (int i = 0; i < per; i++) {
                    int len = 1 + (i + r + id) % 64;
                    long off = (id * 997L + r * 61L + i * 13L) % 8000;
                    rs[i] = b.pread(fd, bufs.asSlice(i * 64L, len), off);
                }
                b.submitAndWait();
                for (int i = 0; i < per; i++) {
                    int len = 1 + (i + r + id) % 64;
                    long off = (id * 997L + r * 61L + i * 13L) % 8000;
                    if (rs[i].get() != len) throw new AssertionError("thread " + id + " round " + r + " call " + i + ": " + rs[i].get() + " != " + len);
                    for (int k = 0; k < len; k++) {
                        if (bufs.get(ValueLayout.JAVA_BYTE, i * 64L + k) != (byte) ((off + k) * 31 + 7)) {
                            throw new AssertionError("thread " + id + " round " + r + " call " + i + ": wrong data at " + k);
                        }
                    }
                }
            }
        }
    }

    /** {@code dir/pattern.dat}: 8192 bytes where byte i is (byte) (i * 31 + 7), the file {@link #batchRounds} reads. */
    public static Path patterned(Path dir) throws IOException {
        byte[] b = new byte[8192];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 31 + 7);
        return Files.write(dir.resolve("pattern.dat"), b);
    }

    /** {@link #batchRounds} on {@code threads} platform threads at once (ids 0..threads-1); rethrows the first failure. */
    public static void batchRoundsOnThreads(dev.flexsc.Syscalls s, int fd, int threads, int rounds, int per)
            throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    batchRounds(s, fd, id, rounds, per);
                } catch (Throwable x) {
                    failure.compareAndSet(null, x);
                }
            }));
        }
        for (Thread t : ts) t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    /**
     * Interrupting a thread blocked in a batch: the thread that {@code start} starts submits a
     * read on an empty pipe (it blocks: nobody writes) and a getpid through {@code s}, and is
     * interrupted 200 ms later. Checks that the submit returns, the read fails with
     * InterruptedIOException, the getpid completes, and the interrupt status stays set.
     */
    public static void assertInterruptCancelsBlockingBatchRead(dev.flexsc.Syscalls s, Function<Runnable, Thread> start)
            throws InterruptedException {
        int[] p = pipe();
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(16);
            AtomicReference<Object[]> out = new AtomicReference<>();
            CountDownLatch posted = new CountDownLatch(1);
            Thread t = start.apply(() -> {
                try (dev.flexsc.SyscallBatch b = s.batch()) {
                    dev.flexsc.SyscallBatch.Result rd = b.read(p[0], buf); // blocks: nobody writes
                    dev.flexsc.SyscallBatch.Result pid = b.getpid();
                    posted.countDown();
                    b.submitAndWait();
                    Object r;
                    try {
                        r = rd.get();
                    } catch (IOException e) {
                        r = e;
                    }
                    out.set(new Object[] {r, pid.get(), Thread.currentThread().isInterrupted()});
                } catch (Throwable x) {
                    out.set(new Object[] {x});
                }
            });
            posted.await();
            Thread.sleep(200); // the read is running on a syscall thread (or in the kernel) by now
            t.interrupt();
            t.join(10_000);
            Assertions.assertFalse(t.isAlive(), "submit did not return after the interrupt");
            Object[] r = out.get();
            Assertions.assertEquals(3, r.length, () -> String.valueOf(r[0]));
            Assertions.assertInstanceOf(java.io.InterruptedIOException.class, r[0]);
            Assertions.assertEquals(ProcessHandle.current().pid(), r[1]);
            Assertions.assertEquals(true, r[2]);
        } finally {
            closeDirect(p[0]);
            closeDirect(p[1]);
        }
    }

    /** A test body run against one engine. */
    @FunctionalInterface
    public interface EngineBody {
        void run(Engine kind, FlexscEngine engine) throws Exception;
    }

    /**
     * Runs {@code body} against a fresh SYSCALL_THREADS and a fresh IO_URING engine under
     * {@code policy}, one after the other; an engine this machine cannot run is skipped with
     * its reason printed.
     */
    public static void onEachEngine(CallPolicy policy, EngineBody body) throws Exception {
        for (Engine kind : new Engine[] {Engine.SYSCALL_THREADS, Engine.IO_URING}) {
            String why = unavailabilityCause(kind);
            if (why != null) {
                System.out.println("skipped " + kind + ": " + why);
                continue;
            }
            try (FlexscEngine e = openEngine(config(kind).toBuilder().policy(policy).build())) {
                body.run(kind, e);
            }
        }
    }

    /**
     * This thread's write-class system calls so far ({@code syscw} of /proc/thread-self/io:
     * write, pwrite64, writev, pwritev2..., each counted once whatever its result): how a test
     * tells a plain write from one tried without waiting first.
     */
    public static long threadSyscw() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/io"))) {
            if (line.startsWith("syscw:")) return Long.parseLong(line.substring(6).trim());
        }
        throw new AssertionError("no syscw in /proc/thread-self/io");
    }

    /** Skips the calling test, printing why, where {@link #threadSyscw} cannot count. */
    public static void assumeThreadIo() {
        boolean there = Files.isReadable(Path.of("/proc/thread-self/io"));
        if (!there) System.out.println("skipped: no /proc/thread-self/io (CONFIG_TASK_IO_ACCOUNTING) to count system calls with");
        Assumptions.assumeTrue(there, "no /proc/thread-self/io");
    }
}
