package dev.flexsc.bench;

import dev.flexsc.FlexscEngine;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The bench harness: N platform threads make one kind of call through one variant for
 * a warm-up and a measured window; reports calls per second, the application threads'
 * CPU time per call, and the syscall threads' CPU time per call (both sides of the cost).
 * It never passes or fails on timing.
 */
public final class Harness {
    private Harness() {}

    /** One measurement. */
    public record Result(Variant variant, CallKind call, int threads, long calls, double seconds,
                         double callsPerSecond, double appCpuNsPerCall, double syscallCpuNsPerCall) {}

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /** Measures {@code variant} making {@code call} from {@code threads} platform threads. */
    public static Result measure(Variant variant, CallKind call, int threads, double warmupSeconds,
                                 double measureSeconds) throws Exception {
        Path file = Files.createTempFile("flexsc-bench", ".dat");
        try (FlexscEngine engine = variant.open(); Arena arena = Arena.ofShared()) {
            SyscallInvoker inv = variant.invoker(engine);
            int fd = openTarget(call, file);
            MemorySegment buf = arena.allocate(Math.max(64, call.size()), 4096);
            int nr = call.nr();
            long a0 = fd, a1 = buf.address(), a2 = call.size();
            long[] ops = new long[threads * 16];
            long[] cpu = new long[threads * 16];
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            // phase: 0 warm-up, 1 measuring, 2 stop. Workers snapshot their counters when
            // they see the phase change (volatile read per call: a few ns, same for all variants).
            int[] phase = new int[1];
            java.lang.invoke.VarHandle PH = java.lang.invoke.MethodHandles.arrayElementVarHandle(int[].class);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int slot = t * 16;
                int[] userCpus = engine == null ? null : engine.config().userCpus();
                int pinCpu = userCpus == null ? -1 : userCpus[t % userCpus.length];
                workers.add(Thread.ofPlatform().name("bench-" + t).start(() -> {
                    try {
                        // FlexSC variants: application threads on the user CPUs, leaving the
                        // syscall CPU to the syscall threads (equal core budget: 2 cores each).
                        if (pinCpu >= 0) dev.flexsc.nativeimpl.LibFlexsc.flexsc_pin_self(pinCpu);
                        start.await();
                        long n = 0;
                        int seen = 0;
                        while (true) {
                            long r = inv.invoke(nr, a0, a1, a2, 0, 0, 0);
                            if (r < 0) throw new IOException(call.label + " failed: errno " + -r);
                            n++;
                            int p = (int) PH.getVolatile(phase, 0);
                            if (p != seen) {
                                if (p == 1) {
                                    ops[slot] = n;
                                    cpu[slot] = MX.getCurrentThreadCpuTime();
                                } else {
                                    ops[slot + 1] = n;
                                    cpu[slot + 1] = MX.getCurrentThreadCpuTime();
                                    return;
                                }
                                seen = p;
                            }
                        }
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                    }
                }));
            }
            start.await();
            Thread.sleep((long) (warmupSeconds * 1000));
            long sc0 = syscallThreadCpuNanos();
            long t0 = System.nanoTime();
            PH.setVolatile(phase, 0, 1);
            Thread.sleep((long) (measureSeconds * 1000));
            long sc1 = syscallThreadCpuNanos();
            long t1 = System.nanoTime();
            PH.setVolatile(phase, 0, 2);
            for (Thread w : workers) w.join(30_000);
            if (failure.get() != null) throw new IllegalStateException("benchmark failed", failure.get());
            long calls = 0, appCpu = 0;
            for (int t = 0; t < threads; t++) {
                calls += ops[t * 16 + 1] - ops[t * 16];
                appCpu += cpu[t * 16 + 1] - cpu[t * 16];
            }
            double secs = (t1 - t0) / 1e9;
            closeTarget(call, fd);
            return new Result(variant, call, threads, calls, secs, calls / secs,
                    calls == 0 ? Double.NaN : (double) appCpu / calls,
                    calls == 0 || !variant.flexsc ? 0 : (double) (sc1 - sc0) / calls);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static int openTarget(CallKind call, Path file) throws IOException {
        dev.flexsc.Syscalls direct = dev.flexsc.nativeimpl.DirectSyscalls.syscalls();
        return switch (call) {
            case GETPID -> -1;
            case WRITE64 -> direct.openat(dev.flexsc.Syscalls.AT_FDCWD, "/dev/null", 01 | 02000000, 0);
            case PWRITE4K -> direct.openat(dev.flexsc.Syscalls.AT_FDCWD, file.toString(), 02 | 02000000, 0);
        };
    }

    private static void closeTarget(CallKind call, int fd) throws IOException {
        if (fd >= 0) dev.flexsc.nativeimpl.DirectSyscalls.syscalls().close(fd);
    }

    /**
     * CPU time of this process's syscall threads (named {@code flexsc-exec}), from
     * /proc/self/task/TID/schedstat (nanoseconds on CPU).
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
