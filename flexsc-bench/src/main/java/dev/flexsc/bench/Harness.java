package dev.flexsc.bench;

import dev.flexsc.EngineStats;
import dev.flexsc.FdKind;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.SyscallInvoker;
import dev.flexsc.threads.FlexscRuntime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The bench harness: N threads (platform, stock virtual or FlexSC green, per the variant)
 * make one kind of call for a warm-up and a measured window. Reports calls per second; the
 * application side's CPU per call (the whole process's CPU time minus the syscall side's:
 * callers, carriers, JIT and GC, so no variant hides a cost; time blocked is not CPU time);
 * and the syscall side's CPU per call (the engine's own threads, see
 * {@link Variant#syscallThreadNames()}). A variant whose engine this machine cannot run
 * yields a {@linkplain Result#skipped() skipped} row with the reason. It never passes or
 * fails on timing, but it fails loudly when the calls stall (workers still inside a call
 * long after the window) instead of reporting a number.
 */
public final class Harness {
    private Harness() {}

    /**
     * One measurement, or a skip ({@link #skipReason} non-null, figures NaN).
     *
     * @param maxStallMillis the longest stretch of the window in which no call completed
     *        (sampled every {@value #SAMPLE_MILLIS} ms): a healthy run shows a few ms at most
     * @param engineDelta the engine's counters over the window (null for baselines and skips)
     */
    public record Result(Variant variant, CallKind call, int threads, long calls, double seconds,
                         double callsPerSecond, double appCpuNsPerCall, double syscallCpuNsPerCall,
                         double maxStallMillis, EngineStats engineDelta, String skipReason) {
        /** A row for a variant that cannot run here, with the reason. */
        public static Result skip(Variant v, CallKind call, int threads, String why) {
            return new Result(v, call, threads, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, null, why);
        }

        public boolean skipped() {
            return skipReason != null;
        }
    }

    /** One thread's operation: returns the raw result (negative = -errno). */
    @FunctionalInterface
    interface Op {
        long run() throws IOException;
    }

    /** Main-thread sampling period for {@link Result#maxStallMillis()}. */
    static final int SAMPLE_MILLIS = 5;
    /** Stop: how long workers may take to leave their last call before the run counts as stalled. */
    static final long STOP_TIMEOUT_MILLIS = 30_000;

    private static final VarHandle PHASE = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    /** Counters are 16 longs apart: one worker per 128 bytes, no false sharing. */
    private static final int STRIDE = 16;

    /**
     * Measures {@code variant} making {@code call} from {@code threads} threads; a skipped
     * result if the variant cannot run here.
     *
     * @throws IllegalStateException if a worker failed, or the calls stalled
     */
    public static Result measure(Variant variant, CallKind call, int threads, double warmupSeconds,
                                 double measureSeconds) throws Exception {
        return measure(variant, null, call, threads, warmupSeconds, measureSeconds, null);
    }

    /**
     * As {@link #measure(Variant, CallKind, int, double, double)}, for a FlexSC variant with
     * its runtime or engine opened with {@code config} instead of the variant's own (null:
     * the variant's); {@code window}, if not null, gets the engine's counters at the start
     * and the end of the measured window (the same snapshots as {@link Result#engineDelta()}).
     */
    public static Result measure(Variant variant, dev.flexsc.FlexscConfig config, CallKind call, int threads,
                                 double warmupSeconds, double measureSeconds,
                                 java.util.function.BiConsumer<EngineStats, EngineStats> window) throws Exception {
        if (!variant.supports(call)) throw new IllegalArgumentException(variant + " has no " + call);
        if (config != null && !variant.flexsc) throw new IllegalArgumentException(variant + " opens no engine");
        String why = variant.unavailabilityCause();
        if (why != null) return Result.skip(variant, call, threads, why);
        try (Rig rig = Rig.open(variant, config, call)) {
            Window w = runWindow(threads, t -> rig.op(), rig::newThread, rig::pinCpu, warmupSeconds, measureSeconds,
                    new ThreadCpuTracker(variant.syscallThreadNames()), rig::engineStats);
            if (w.failure != null) throw new IllegalStateException(variant + " " + call + " failed", w.failure);
            if (w.stuck > 0) {
                throw new IllegalStateException(String.format(
                        "%s, %s, %d threads: %d worker(s) still inside a call %d s after the window ended (a stall;"
                                + " calls counted in the window: %d; engine now: %s)", variant.label, call.label, threads,
                        w.stuck, STOP_TIMEOUT_MILLIS / 1000, w.calls, rig.engineStats()));
            }
            if (window != null) window.accept(w.engine0, w.engine1);
            double secs = w.nanos / 1e9;
            long appCpu = w.processCpu - w.syscallCpu;
            return new Result(variant, call, threads, w.calls, secs, w.calls / secs,
                    w.calls == 0 ? Double.NaN : (double) appCpu / w.calls,
                    w.calls == 0 ? Double.NaN : !variant.flexsc ? 0 : (double) w.syscallCpu / w.calls,
                    w.maxStallNanos / 1e6, delta(w.engine0, w.engine1), null);
        }
    }

    /** A CPU clock that may read /proc. */
    @FunctionalInterface
    interface CpuClock {
        long nanos() throws IOException;

        /** Called about every {@value #TICK_MILLIS} ms inside the window (a tracker samples threads that may exit). */
        default void tick() throws IOException {
        }
    }

    /** How often the window lets the syscall-CPU tracker sample. */
    static final int TICK_MILLIS = 100;

    /**
     * CPU time of a set of threads (by name prefix) that may come and go, as io_uring's io-wq
     * workers do: per-thread deltas from the first sample, so a thread that exits takes its
     * time up to its last sample with it instead of making the sum go backwards (which gave
     * negative syscall CPU with IO_URING_SQPOLL). Time a thread ran between its last sample
     * and its exit is not seen: a lower bound, by at most {@value #TICK_MILLIS} ms per exiting thread.
     */
    static final class ThreadCpuTracker implements CpuClock {
        private final String[] prefixes;
        private final java.util.Map<String, long[]> seen = new java.util.HashMap<>(); // tid -> {baseline, last}
        private boolean first = true;

        ThreadCpuTracker(String... prefixes) {
            this.prefixes = prefixes;
        }

        @Override
        public long nanos() throws IOException {
            tick();
            long sum = 0;
            for (long[] v : seen.values()) sum += v[1] - v[0];
            return sum;
        }

        @Override
        public void tick() throws IOException {
            if (prefixes.length == 0) return;
            boolean baseline = first;
            first = false;
            forEachThread(prefixes, (tid, comm, cpu) -> {
                // tid + name: a recycled tid is another thread
                long[] v = seen.computeIfAbsent(tid + "/" + comm, k -> new long[] {baseline ? cpu : 0, 0});
                v[1] = Math.max(v[1], cpu);
            });
        }
    }

    /** What one window measured: calls completed inside it, its length, CPU, stalls, and how the workers ended. */
    record Window(long calls, long nanos, long processCpu, long syscallCpu, long maxStallNanos, EngineStats engine0,
                  EngineStats engine1, Throwable failure, int stuck) {}

    /**
     * Runs {@code threads} workers, each calling its op in a loop, for a warm-up and a
     * measured window. Calls are counted by per-worker counters that the main thread
     * samples at both ends of the window together with the CPU clocks, so a worker inside
     * a long call across a boundary is counted where its call completes, never credited
     * with calls made before the window.
     */
    static Window runWindow(int threads, java.util.function.IntFunction<Op> ops,
                            java.util.function.BiFunction<Runnable, Integer, Thread> factory,
                            java.util.function.IntUnaryOperator pinCpu, double warmupSeconds, double measureSeconds,
                            CpuClock syscallCpu, java.util.function.Supplier<EngineStats> stats) throws Exception {
        return runWindow(threads, ops, factory, pinCpu, warmupSeconds, measureSeconds, syscallCpu, stats,
                STOP_TIMEOUT_MILLIS, null);
    }

    /**
     * {@link #runWindow} with the bound on how long workers may take to stop (stuck after
     * that), and {@code afterStop} (or null), run once right after the stop is published:
     * for workers whose op waits on one another (a parked worker whose partner already left
     * needs a last unpark).
     */
    static Window runWindow(int threads, java.util.function.IntFunction<Op> ops,
                            java.util.function.BiFunction<Runnable, Integer, Thread> factory,
                            java.util.function.IntUnaryOperator pinCpu, double warmupSeconds, double measureSeconds,
                            CpuClock syscallCpu, java.util.function.Supplier<EngineStats> stats, long stopTimeoutMillis,
                            Runnable afterStop)
            throws Exception {
        long[] count = new long[threads * STRIDE];
        // phase: 0 running, 1 stop. One volatile read per call (a few ns, the same for every variant).
        int[] phase = new int[1];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int slot = t * STRIDE;
                Op op = ops.apply(t);
                int pin = pinCpu.applyAsInt(t);
                Runnable body = () -> {
                    try {
                        // FlexSC from platform threads: callers on the user CPUs, the syscall CPU left
                        // to the syscall side (equal core budget with the baselines: all cores).
                        if (pin >= 0) LibFlexsc.flexsc_pin_self(pin);
                        ready.countDown();
                        go.await();
                        long n = 0;
                        do {
                            long r = op.run();
                            if (r < 0) throw new IOException("the call failed: errno " + -r);
                            // Opaque: the main thread samples the counters with opaque reads; only
                            // atomicity matters (a plain store on x86).
                            COUNT.setOpaque(count, slot, ++n);
                        } while ((int) PHASE.getVolatile(phase, 0) == 0);
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                        ready.countDown();
                    }
                };
                Thread w = factory.apply(body, t);
                w.start();
                workers.add(w);
            }
            ready.await();
            go.countDown();
            Thread.sleep((long) (warmupSeconds * 1000));
            EngineStats e0 = stats.get();
            long sc0 = syscallCpu.nanos(), cpu0 = OS.getProcessCpuTime(), t0 = System.nanoTime();
            long n0 = sum(count);
            long lastProgress = t0, lastN = n0, maxStall = 0;
            long end = t0 + (long) (measureSeconds * 1e9);
            long now;
            long nextTick = t0 + TICK_MILLIS * 1_000_000L;
            while ((now = System.nanoTime()) < end) {
                Thread.sleep(Math.max(1, Math.min(SAMPLE_MILLIS, (end - now) / 1_000_000)));
                if (System.nanoTime() >= nextTick) {
                    syscallCpu.tick();
                    nextTick += TICK_MILLIS * 1_000_000L;
                }
                long n = sum(count), at = System.nanoTime();
                if (n != lastN) {
                    lastN = n;
                    lastProgress = at;
                } else {
                    maxStall = Math.max(maxStall, at - lastProgress);
                }
            }
            long n1 = sum(count);
            long sc1 = syscallCpu.nanos(), cpu1 = OS.getProcessCpuTime(), t1 = System.nanoTime();
            EngineStats e1 = stats.get();
            if (n1 == lastN) maxStall = Math.max(maxStall, t1 - lastProgress);
            PHASE.setVolatile(phase, 0, 1);
            if (afterStop != null) afterStop.run();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stopTimeoutMillis);
            int stuck = 0;
            for (Thread w : workers) {
                long left = deadline - System.nanoTime();
                if (left > 0) w.join(Math.max(1, left / 1_000_000));
                if (w.isAlive()) stuck++;
            }
            return new Window(n1 - n0, t1 - t0, cpu1 - cpu0, sc1 - sc0, maxStall, e0, e1, failure.get(), stuck);
        } finally {
            PHASE.setVolatile(phase, 0, 1);
            go.countDown(); // workers started before a failure above must not wait forever
        }
    }

    private static long sum(long[] count) {
        long s = 0;
        for (int i = 0; i < count.length; i += STRIDE) s += (long) COUNT.getOpaque(count, i);
        return s;
    }

    private static EngineStats delta(EngineStats a, EngineStats b) {
        if (a == null || b == null) return null;
        return new EngineStats(b.engine(), b.submitted() - a.submitted(), b.executed() - a.executed(),
                b.refused() - a.refused(), b.batches() - a.batches(), b.executorSleeps() - a.executorSleeps(),
                b.wakeups() - a.wakeups(), b.callerParks() - a.callerParks(), b.executorThreads(),
                b.posted() - a.posted(), b.direct() - a.direct());
    }

    /**
     * Everything one variant needs to make one call: its engine (or runtime), the target
     * file, a buffer. Shared by the harness and the JMH {@link SyscallBenchmark}.
     */
    static final class Rig implements AutoCloseable {
        final Variant variant;
        final CallKind call;
        final FlexscRuntime runtime;
        final FlexscEngine engine;
        private final FlexscEngine opened;
        private final Arena arena;
        private final Path file;
        private final Target target;
        private final MemorySegment buf;
        private final int[] userCpus;
        private final ThreadFactory green;

        private Rig(Variant variant, CallKind call, FlexscRuntime runtime, FlexscEngine opened, Arena arena, Path file,
                    Target target) {
            this.variant = variant;
            this.call = call;
            this.runtime = runtime;
            this.opened = opened;
            this.engine = runtime != null ? runtime.engine() : opened;
            this.arena = arena;
            this.file = file;
            this.target = target;
            this.buf = arena.allocate(4096, 4096);
            // FlexSC platform callers are pinned to the user CPUs; green threads are not pinned
            // themselves (their carriers are).
            this.userCpus = engine == null || runtime != null ? null : engine.config().userCpus();
            this.green = runtime != null ? runtime.threadFactory() : null;
        }

        /** Opens the variant's engine or runtime and the call's target; closes what it opened on failure. */
        static Rig open(Variant variant, CallKind call) throws IOException {
            return open(variant, null, call);
        }

        /** As {@link #open(Variant, CallKind)} with {@code config} instead of the variant's (null: the variant's). */
        static Rig open(Variant variant, dev.flexsc.FlexscConfig config, CallKind call) throws IOException {
            Path file = Files.createTempFile("flexsc-bench", ".dat");
            FlexscRuntime rt = null;
            FlexscEngine opened = null;
            Arena arena = null;
            try {
                if (config == null) {
                    rt = variant.openRuntime();
                    opened = rt == null ? variant.open() : null;
                } else if (variant.threading == Variant.Threading.FLEXSC_GREEN) {
                    rt = FlexscRuntime.open(config);
                } else {
                    opened = dev.flexsc.Flexsc.open(config);
                }
                arena = Arena.ofShared();
                return new Rig(variant, call, rt, opened, arena, file, Target.open(call, file));
            } catch (IOException | RuntimeException | Error e) {
                if (arena != null) arena.close();
                if (opened != null) opened.close();
                if (rt != null) rt.close();
                Files.deleteIfExists(file);
                throw e;
            }
        }

        /** A new operation (JDK variants get their own ByteBuffer per thread). */
        Op op() {
            if (variant == Variant.DIRECT_JDK || variant == Variant.VT_JDK) {
                ByteBuffer bb = ByteBuffer.allocateDirect((int) call.size());
                FileChannel fc = target.channel;
                return call == CallKind.WRITE64
                        ? () -> fc.write(bb.clear())
                        : () -> fc.write(bb.clear(), 0);
            }
            SyscallInvoker inv = variant.invoker(engine);
            int nr = call.nr();
            long a0 = target.fd, a1 = buf.address(), a2 = call.size();
            FdKind kind = target.kind;
            return () -> inv.invoke(kind, nr, a0, a1, a2, 0, 0, 0);
        }

        /** The CPU worker {@code t} pins itself to, or -1. */
        int pinCpu(int t) {
            return userCpus == null ? -1 : userCpus[t % userCpus.length];
        }

        /** An unstarted thread of the variant's kind running {@code body}. */
        Thread newThread(Runnable body, int t) {
            return switch (variant.threading) {
                case VIRTUAL -> Thread.ofVirtual().name("bench-vt-" + t).unstarted(body);
                case FLEXSC_GREEN -> green.newThread(body);
                case PLATFORM -> Thread.ofPlatform().name("bench-" + t).unstarted(body);
            };
        }

        EngineStats engineStats() {
            return engine == null ? null : engine.stats();
        }

        @Override
        public void close() throws IOException {
            try {
                target.close();
            } finally {
                try {
                    if (runtime != null) runtime.close();
                    if (opened != null) opened.close();
                } finally {
                    arena.close();
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /**
     * The file a call writes to: /dev/null for write, a temporary file for pwrite. Its kind
     * ({@link FdKind#ALWAYS_READY} for both) goes with every call, as a FlexscFileChannel's
     * calls name their file's kind: the default policy then makes the plain call. A caller
     * that names no kind pays a try without waiting per write (docs/io.md, "Call policies").
     */
    private record Target(int fd, FileChannel channel, FdKind kind) {
        static Target open(CallKind call, Path file) throws IOException {
            Syscalls direct = DirectSyscalls.syscalls();
            return switch (call) {
                case GETPID -> new Target(-1, null, FdKind.UNKNOWN);
                case WRITE64 -> new Target(direct.openat(Syscalls.AT_FDCWD, "/dev/null", 01 | 02000000, 0),
                        FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE), FdKind.ALWAYS_READY);
                case PWRITE4K -> new Target(direct.openat(Syscalls.AT_FDCWD, file.toString(), 02 | 02000000, 0),
                        FileChannel.open(file, StandardOpenOption.WRITE), FdKind.ALWAYS_READY);
            };
        }

        void close() throws IOException {
            if (fd >= 0) DirectSyscalls.syscalls().close(fd);
            if (channel != null) channel.close();
        }
    }

    /** CPU time of SYSCALL_THREADS's executors ({@code flexsc-exec}); see {@link #syscallThreadCpuNanos(Variant)}. */
    public static long syscallThreadCpuNanos() throws IOException {
        return threadCpuNanos("flexsc-exec");
    }

    /** CPU time of the syscall side of {@code v} (0 for baselines). */
    public static long syscallThreadCpuNanos(Variant v) throws IOException {
        String[] names = v.syscallThreadNames();
        return names.length == 0 ? 0 : threadCpuNanos(names);
    }

    /**
     * CPU time, in nanoseconds, of this process's threads whose name ({@code comm}) starts
     * with one of {@code prefixes}, from /proc/self/task/TID/schedstat (time on CPU). Kernel
     * threads of io_uring (iou-sqp-PID, iou-wrk-PID) are tasks of the process and count too.
     */
    public static long threadCpuNanos(String... prefixes) throws IOException {
        long[] sum = {0};
        forEachThread(prefixes, (tid, comm, cpu) -> sum[0] += cpu);
        return sum[0];
    }

    /** One thread of this process: its id (the /proc/self/task entry), name and CPU time in nanoseconds. */
    @FunctionalInterface
    interface ThreadCpu {
        void accept(String tid, String comm, long cpuNanos);
    }

    /**
     * Calls {@code each} for this process's threads whose name ({@code comm}) starts with one
     * of {@code prefixes}, with their time on CPU from /proc/self/task/TID/schedstat. A
     * thread that exits between the listing and the reads is passed over.
     */
    static void forEachThread(String[] prefixes, ThreadCpu each) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String comm;
                long cpu;
                try {
                    comm = Files.readString(t.resolve("comm")).trim();
                    boolean match = false;
                    for (String p : prefixes) match |= comm.startsWith(p);
                    if (!match) continue;
                    cpu = Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split(" ")[0]);
                } catch (IOException | RuntimeException gone) {
                    continue; // the thread exited between list and read
                }
                each.accept(t.getFileName().toString(), comm, cpu);
            }
        }
    }
}
