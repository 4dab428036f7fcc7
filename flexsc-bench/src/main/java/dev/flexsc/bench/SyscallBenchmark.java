package dev.flexsc.bench;

import org.openjdk.jmh.annotations.*;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * JMH: getpid, 64-byte write to /dev/null and 4 KiB pwrite through each variant (every
 * engine, from platform threads and from FlexSC green threads) with {@code threads}
 * concurrent callers. The callers are the variant's own threads (platform, stock virtual,
 * or FlexSC green threads; JMH's {@code -t} only makes platform threads), started at setup
 * and calling in a loop; the benchmark method samples their counters once a millisecond,
 * and the secondary result {@code calls} (JMH aux counter, ops/s) is the figure: calls per
 * second. The primary score (samples/s) means nothing. After each iteration a line
 * {@code # cpu: ...} gives the application and syscall CPU per call, measured as the
 * harness does ({@link Harness}).
 *
 * <p>A variant this machine cannot run fails its setup with the reason ("skipped: ..."),
 * so JMH prints the reason instead of a figure. Run one cell with e.g.
 * {@code ./flexsc bench --jmh SyscallBenchmark -p variant=IO_URING_GREEN -p threads=256 -p call=WRITE64}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED"})
public class SyscallBenchmark {
    /** The variant: a baseline, or an engine and the kind of calling thread. */
    @Param({"DIRECT_FFM", "DIRECT_JNA", "VT_FFM", "SYSCALL_THREADS", "FLEXSC_GREEN", "IO_URING", "IO_URING_GREEN",
            "IO_URING_SQPOLL", "IO_URING_SQPOLL_GREEN", "KERNEL_MODULE", "KERNEL_MODULE_GREEN"})
    public Variant variant;

    @Param({"GETPID", "WRITE64", "PWRITE4K"})
    public CallKind call;

    /** Concurrent calling threads of the variant's kind. */
    @Param({"1", "16", "256", "1024"})
    public int threads;

    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int STRIDE = 16;
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private Harness.Rig rig;
    private long[] count;
    private volatile boolean stop;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private long seen;
    private long iterCalls0, iterCpu0, iterSc0;
    private Harness.ThreadCpuTracker syscallCpu;
    private long lastTick;

    /** Calls completed, as a JMH secondary result (normalised to calls/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Calls {
        public long calls;
    }

    @Setup(Level.Trial)
    public void setup() throws IOException {
        if (!variant.supports(call)) throw new IllegalStateException("skipped: " + variant + " has no " + call);
        String why = variant.unavailabilityCause();
        if (why != null) throw new IllegalStateException("skipped: " + variant.label + ": " + why);
        rig = Harness.Rig.open(variant, call);
        count = new long[threads * STRIDE];
        for (int t = 0; t < threads; t++) {
            int slot = t * STRIDE, pin = rig.pinCpu(t);
            Harness.Op op = rig.op();
            Thread w = rig.newThread(() -> {
                try {
                    if (pin >= 0) dev.flexsc.nativeimpl.LibFlexsc.flexsc_pin_self(pin);
                    long n = 0;
                    while (!stop) {
                        long r = op.run();
                        if (r < 0) throw new IOException(call.label + " failed: errno " + -r);
                        COUNT.setOpaque(count, slot, ++n); // read with opaque loads by sample()
                    }
                } catch (Throwable x) {
                    failure.compareAndSet(null, x);
                }
            }, t);
            w.start();
            workers.add(w);
        }
    }

    @Setup(Level.Iteration)
    public void iterationStart() throws IOException {
        iterCalls0 = total();
        seen = iterCalls0; // calls between iterations are credited to none
        if (syscallCpu == null) syscallCpu = new Harness.ThreadCpuTracker(variant.syscallThreadNames());
        iterSc0 = syscallCpu.nanos();
        iterCpu0 = OS.getProcessCpuTime();
    }

    @TearDown(Level.Iteration)
    public void iterationEnd() throws IOException {
        long sc = syscallCpu.nanos() - iterSc0, cpu = OS.getProcessCpuTime() - iterCpu0;
        long calls = total() - iterCalls0;
        System.out.printf(Locale.ROOT, "# cpu: %d calls, app CPU %.0f ns/call, syscall CPU %s ns/call%n", calls,
                (double) (cpu - sc) / calls, variant.flexsc ? String.format(Locale.ROOT, "%.0f", (double) sc / calls) : "-");
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        stop = true;
        try {
            for (Thread w : workers) {
                w.join(Harness.STOP_TIMEOUT_MILLIS);
                if (w.isAlive()) throw new IllegalStateException(variant + ": a worker is still inside a call (stall)");
            }
        } finally {
            rig.close();
        }
        if (failure.get() != null) throw new IllegalStateException(variant + " " + call + " failed", failure.get());
    }

    private long total() {
        long s = 0;
        for (int i = 0; i < count.length; i += STRIDE) s += (long) COUNT.getOpaque(count, i);
        return s;
    }

    /** Waits a millisecond and credits the calls the workers completed meanwhile. */
    @Benchmark
    public long sample(Calls c) {
        LockSupport.parkNanos(1_000_000L);
        long t = System.nanoTime();
        if (t - lastTick > Harness.TICK_MILLIS * 1_000_000L) { // sample io-wq workers before they exit
            lastTick = t;
            try {
                syscallCpu.tick();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        if (failure.get() != null) throw new IllegalStateException(variant + " " + call + " failed", failure.get());
        long now = total();
        c.calls += now - seen;
        seen = now;
        return now;
    }
}
