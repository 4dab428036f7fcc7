package dev.flexsc.bench;

import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.SyscallInvoker;

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
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The bench harness: N threads (platform or virtual, per the variant) make one kind of
 * call for a warm-up and a measured window. Reports calls per second; the application
 * side's CPU per call (the whole process's CPU time minus the syscall threads': carriers,
 * callers, JIT and GC, so no variant hides a cost); and the syscall threads' CPU per call.
 * It never passes or fails on timing.
 */
public final class Harness {
    private Harness() {}

    /** One measurement. */
    public record Result(Variant variant, CallKind call, int threads, long calls, double seconds,
                         double callsPerSecond, double appCpuNsPerCall, double syscallCpuNsPerCall) {}

    /** One thread's operation: returns the raw result (negative = -errno). */
    @FunctionalInterface
    interface Op {
        long run() throws IOException;
    }

    private static final VarHandle PHASE = MethodHandles.arrayElementVarHandle(int[].class);
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** Measures {@code variant} making {@code call} from {@code threads} threads. */
    public static Result measure(Variant variant, CallKind call, int threads, double warmupSeconds,
                                 double measureSeconds) throws Exception {
        return measure(variant, null, call, threads, warmupSeconds, measureSeconds, null);
    }

    /**
     * As {@link #measure(Variant, CallKind, int, double, double)}, for a FlexSC variant with
     * its runtime or engine opened with {@code config} instead of the variant's own (null:
     * the variant's); {@code window}, if not null, gets the engine's counters at the start
     * and the end of the measured window.
     */
    public static Result measure(Variant variant, dev.flexsc.FlexscConfig config, CallKind call, int threads,
                                 double warmupSeconds, double measureSeconds,
                                 java.util.function.BiConsumer<dev.flexsc.EngineStats, dev.flexsc.EngineStats> window)
            throws Exception {
        if (!variant.supports(call)) throw new IllegalArgumentException(variant + " has no " + call);
        if (config != null && !variant.flexsc) throw new IllegalArgumentException(variant + " opens no engine");
        Path file = Files.createTempFile("flexsc-bench", ".dat");
        try (dev.flexsc.threads.FlexscRuntime runtime = config == null ? variant.openRuntime()
                     : variant.threading == Variant.Threading.FLEXSC_GREEN ? dev.flexsc.threads.FlexscRuntime.open(config) : null;
             FlexscEngine opened = runtime == null ? (config == null ? variant.open() : dev.flexsc.Flexsc.open(config)) : null;
             Arena arena = Arena.ofShared()) {
            FlexscEngine engine = runtime != null ? runtime.engine() : opened;
            Target target = Target.open(call, file);
            MemorySegment buf = arena.allocate(4096, 4096);
            long[] ops = new long[threads * 16];
            // phase: 0 warm-up, 1 measuring, 2 stop. Workers snapshot their counters when they
            // see the phase change (one volatile read per call: a few ns, the same for every variant).
            int[] phase = new int[1];
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            // FlexSC platform callers are pinned to the user CPUs; green threads are not pinned
            // themselves (their carriers are).
            int[] userCpus = engine == null || runtime != null ? null : engine.config().userCpus();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int slot = t * 16;
                Op op = op(variant, call, engine, target, buf);
                int pinCpu = userCpus == null ? -1 : userCpus[t % userCpus.length];
                Runnable body = () -> {
                    try {
                        // FlexSC from platform threads: callers on the user CPUs, the syscall CPU left
                        // to the syscall threads (equal core budget with the baselines: all cores).
                        if (pinCpu >= 0) LibFlexsc.flexsc_pin_self(pinCpu);
                        ready.countDown();
                        go.await();
                        long n = 0;
                        int seen = 0;
                        while (true) {
                            long r = op.run();
                            if (r < 0) throw new IOException(call.label + " failed: errno " + -r);
                            n++;
                            int p = (int) PHASE.getVolatile(phase, 0);
                            if (p != seen) {
                                // A thread that did not run during the window (parked across it:
                                // green threads that give the carrier up only now and then) sees
                                // 2 right after 0: it counts nothing, not its warm-up calls.
                                if (seen == 0) ops[slot] = n;
                                if (p == 2) {
                                    ops[slot + 1] = n;
                                    return;
                                }
                                seen = p;
                            }
                        }
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                        ready.countDown();
                    }
                };
                Thread w = switch (variant.threading) {
                    case VIRTUAL -> Thread.ofVirtual().name("bench-vt-" + t).unstarted(body);
                    case FLEXSC_GREEN -> runtime.threadFactory().newThread(body);
                    case PLATFORM -> Thread.ofPlatform().name("bench-" + t).unstarted(body);
                };
                w.start();
                workers.add(w);
            }
            ready.await();
            go.countDown();
            Thread.sleep((long) (warmupSeconds * 1000));
            dev.flexsc.EngineStats e0 = window != null ? engine.stats() : null;
            long sc0 = syscallThreadCpuNanos(), cpu0 = OS.getProcessCpuTime(), t0 = System.nanoTime();
            PHASE.setVolatile(phase, 0, 1);
            Thread.sleep((long) (measureSeconds * 1000));
            long sc1 = syscallThreadCpuNanos(), cpu1 = OS.getProcessCpuTime(), t1 = System.nanoTime();
            PHASE.setVolatile(phase, 0, 2);
            if (window != null) window.accept(e0, engine.stats());
            for (Thread w : workers) w.join(60_000);
            target.close();
            if (failure.get() != null) throw new IllegalStateException(variant + " " + call + " failed", failure.get());
            long calls = 0;
            for (int t = 0; t < threads; t++) calls += ops[t * 16 + 1] - ops[t * 16];
            double secs = (t1 - t0) / 1e9;
            long syscallCpu = sc1 - sc0;
            long appCpu = (cpu1 - cpu0) - syscallCpu;
            return new Result(variant, call, threads, calls, secs, calls / secs,
                    calls == 0 ? Double.NaN : (double) appCpu / calls,
                    calls == 0 || !variant.flexsc ? 0 : (double) syscallCpu / calls);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static Op op(Variant v, CallKind call, FlexscEngine engine, Target target, MemorySegment buf) {
        if (v == Variant.DIRECT_JDK || v == Variant.VT_JDK) {
            ByteBuffer bb = ByteBuffer.allocateDirect((int) call.size());
            FileChannel fc = target.channel;
            return call == CallKind.WRITE64
                    ? () -> fc.write(bb.clear())
                    : () -> fc.write(bb.clear(), 0);
        }
        SyscallInvoker inv = v.invoker(engine);
        int nr = call.nr();
        long a0 = target.fd, a1 = buf.address(), a2 = call.size();
        return () -> inv.invoke(nr, a0, a1, a2, 0, 0, 0);
    }

    /** The file a call writes to: /dev/null for write, a temporary file for pwrite. */
    private record Target(int fd, FileChannel channel) {
        static Target open(CallKind call, Path file) throws IOException {
            Syscalls direct = DirectSyscalls.syscalls();
            return switch (call) {
                case GETPID -> new Target(-1, null);
                case WRITE64 -> new Target(direct.openat(Syscalls.AT_FDCWD, "/dev/null", 01 | 02000000, 0),
                        FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE));
                case PWRITE4K -> new Target(direct.openat(Syscalls.AT_FDCWD, file.toString(), 02 | 02000000, 0),
                        FileChannel.open(file, StandardOpenOption.WRITE));
            };
        }

        void close() throws IOException {
            if (fd >= 0) DirectSyscalls.syscalls().close(fd);
            if (channel != null) channel.close();
        }
    }

    /**
     * CPU time of this process's syscall threads (native threads named {@code flexsc-exec}),
     * from /proc/self/task/TID/schedstat (nanoseconds on CPU).
     */
    public static long syscallThreadCpuNanos() throws IOException {
        long sum = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    if (!Files.readString(t.resolve("comm")).trim().equals("flexsc-exec")) continue;
                    sum += Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split(" ")[0]);
                } catch (IOException | RuntimeException gone) {
                    // the thread exited between list and read
                }
            }
        }
        return sum;
    }
}
