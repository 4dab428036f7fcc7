package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.threads.FlexscRuntime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * {@code ./flexsc bench --study batch}: what a {@link SyscallBatch} costs the application
 * per call, with batches of 1, 8 and 64, for getpid and a 4 KiB pwrite, on every engine
 * available here, against direct calls in the same run.
 *
 * <p>Application CPU per call is the thread CPU time of the calling threads over the
 * measured window (ThreadMXBean; time blocked is not CPU time), divided by the calls: the
 * callers themselves for platform threads, the scheduler's carriers for green threads
 * (which includes their idle spinning: see docs/batch.md). The syscall side's CPU (libflexsc
 * executors, io_uring's SQ poller and io-wq workers, read from /proc/self/task) is shown
 * apart. The mechanism rows ({@link NoopPageEngine}) have no syscall thread: the caller runs
 * the no-op entries itself, and that executor part, timed on the caller's thread, fills their
 * syscall-side column; a second row subtracts it from the caller's CPU (the application side
 * alone). It never passes or fails on timing.
 */
public final class BatchStudy {
    private BatchStudy() {}

    /** How the calls are made. */
    enum Mode {
        DIRECT("direct FFM, one call at a time"),
        DIRECT_BATCH("direct, SyscallBatch (runs one by one)"),
        PLATFORM("FlexSC %s, platform thread"),
        PLATFORM_NOSPIN("FlexSC %s, platform thread, callerSpin 0"),
        GREEN("FlexSC %s, 8 green threads"),
        GREEN_BUSY("FlexSC %s, 8 green threads + CPU filler"),
        MECHANISM("page engine, caller runs no-op entries (mechanism)");

        /**
         * The second row of a {@link #MECHANISM} measurement: the same run, its caller's CPU
         * less the executor's part (the no-op entries it ran in place of a syscall thread).
         */
        static final String MECHANISM_APP_SIDE = "page engine, mechanism, executor part subtracted";

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    /** One measurement. */
    public record Row(CallKind call, String variant, int batch, long calls, double callsPerSecond,
                      double appCpuNsPerCall, double syscallSideCpuNsPerCall) {}

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final VarHandle PHASE = MethodHandles.arrayElementVarHandle(int[].class);
    /** The batch sizes of the issue, and 256 to show where the cost per call converges. */
    static final int[] BATCHES = {1, 8, 64, 256};

    /** Runs every row: direct baselines, then each available engine. */
    public static List<Row> run(double warmupSeconds, double seconds, java.util.function.Consumer<String> log) throws Exception {
        return run(warmupSeconds, seconds, null, List.of(CallKind.GETPID, CallKind.PWRITE4K), log);
    }

    /** Runs the rows for {@code calls} on {@code only} (null: every engine available here). */
    public static List<Row> run(double warmupSeconds, double seconds, List<Engine> only, List<CallKind> calls,
                                java.util.function.Consumer<String> log) throws Exception {
        List<Row> rows = new ArrayList<>();
        List<Engine> engines = new ArrayList<>();
        for (EngineAvailability a : Flexsc.probe()) {
            if (a.available() && a.engine() != Engine.AUTO && (only == null || only.contains(a.engine()))) engines.add(a.engine());
        }
        for (CallKind call : calls) {
            for (int batch : BATCHES) {
                rows.add(measure(Mode.DIRECT, null, call, batch, warmupSeconds, seconds));
                rows.add(measure(Mode.DIRECT_BATCH, null, call, batch, warmupSeconds, seconds));
                if (call == CallKind.GETPID) {
                    Row all = measure(Mode.MECHANISM, Engine.SYSCALL_THREADS, call, batch, warmupSeconds, seconds);
                    rows.add(all);
                    rows.add(new Row(call, Mode.MECHANISM_APP_SIDE, batch, all.calls(), all.callsPerSecond(),
                            all.appCpuNsPerCall() - all.syscallSideCpuNsPerCall(), all.syscallSideCpuNsPerCall()));
                }
                for (Engine e : engines) {
                    rows.add(measure(Mode.PLATFORM, e, call, batch, warmupSeconds, seconds));
                    rows.add(measure(Mode.PLATFORM_NOSPIN, e, call, batch, warmupSeconds, seconds));
                    if (e == Engine.SYSCALL_THREADS || e == Engine.KERNEL_MODULE) {
                        rows.add(measure(Mode.GREEN, e, call, batch, warmupSeconds, seconds));
                        rows.add(measure(Mode.GREEN_BUSY, e, call, batch, warmupSeconds, seconds));
                    }
                }
                if (log != null) log.accept(call.label + " batch " + batch + " done");
            }
        }
        return rows;
    }

    private static Row measure(Mode mode, Engine engine, CallKind call, int batch, double warmup, double seconds)
            throws Exception {
        Path file = Files.createTempFile("flexsc-batch", ".dat");
        FlexscConfig cfg = engine == null ? null : FlexscConfig.builder().engine(engine)
                .callerSpin(mode == Mode.PLATFORM_NOSPIN || mode == Mode.MECHANISM ? 0 : FlexscConfig.defaults().callerSpin())
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build(); // the batch-1 rows measure posting too
        boolean green = mode == Mode.GREEN || mode == Mode.GREEN_BUSY;
        try (FlexscRuntime rt = green ? FlexscRuntime.open(cfg) : null;
             FlexscEngine opened = mode == Mode.MECHANISM ? NoopPageEngine.open(cfg)
                     : engine != null && rt == null ? Flexsc.open(cfg) : null;
             Arena arena = Arena.ofShared()) {
            Syscalls s = rt != null ? rt.syscalls() : opened != null ? opened.syscalls() : DirectSyscalls.syscalls();
            int fd = call == CallKind.PWRITE4K
                    ? DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, file.toString(), 02 | 02000000, 0) : -1;
            MemorySegment buf = arena.allocate(4096, 4096);
            int threads = green ? 8 : 1;
            Filler filler = null;
            if (mode == Mode.GREEN_BUSY) {
                filler = new Filler(rt);
                filler.calibrate(warmup);
            }
            long[] counts = new long[threads * 16];
            long[] cpu = new long[threads * 16];
            // Mechanism only: the no-op executor's time and the caller's wall clock at the snapshots.
            long[] exec = new long[threads * 16];
            long[] wall = new long[threads * 16];
            NoopPageEngine noop = opened instanceof NoopPageEngine e ? e : null;
            int[] phase = new int[1];
            CountDownLatch ready = new CountDownLatch(threads);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int slot = t * 16;
                // FlexSC platform callers are pinned to a user CPU, as in Harness: a caller that
                // spins on the syscall CPU keeps the executor it waits for off it.
                int pin = engine != null && rt == null ? cfg.userCpus()[t % cfg.userCpus().length] : -1;
                Runnable body = () -> {
                    try {
                        if (pin >= 0) dev.flexsc.nativeimpl.LibFlexsc.flexsc_pin_self(pin);
                        ready.countDown();
                        loop(mode, s, noop, call, fd, buf, batch, phase, new long[][] {counts, cpu, exec, wall}, slot);
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                        ready.countDown();
                    }
                };
                Thread w = rt != null ? rt.threadFactory().newThread(body) : Thread.ofPlatform().name("batch-" + t).unstarted(body);
                w.start();
                workers.add(w);
            }
            ready.await();
            Thread.sleep((long) (warmup * 1000));
            List<Thread> carriers = rt != null ? rt.scheduler().carrierThreads() : List.of();
            long units0 = filler != null ? filler.units() : 0;
            long carrier0 = cpuOf(carriers), side0 = syscallSideCpuNanos(), t0 = System.nanoTime();
            PHASE.setVolatile(phase, 0, 1);
            Thread.sleep((long) (seconds * 1000));
            long carrier1 = cpuOf(carriers), side1 = syscallSideCpuNanos(), t1 = System.nanoTime();
            long fillerCpu = filler != null ? Math.round((filler.units() - units0) * filler.nanosPerUnit) : 0;
            PHASE.setVolatile(phase, 0, 2);
            for (Thread w : workers) w.join(60_000);
            if (filler != null) filler.stop();
            if (fd >= 0) DirectSyscalls.syscalls().close(fd);
            if (failure.get() != null) throw new IllegalStateException(mode + " " + engine + " " + call + " failed", failure.get());
            long calls = 0, appCpu = 0;
            for (int t = 0; t < threads; t++) {
                calls += counts[t * 16 + 1] - counts[t * 16];
                appCpu += cpu[t * 16 + 1] - cpu[t * 16];
            }
            // Green threads: their carriers' CPU, less the filler's share (its work units times
            // the CPU per unit calibrated alone on the same carriers just before).
            if (rt != null) appCpu = carrier1 - carrier0 - fillerCpu;
            double secs = (t1 - t0) / 1e9;
            String variant = mode.label.contains("%s") ? String.format(Locale.ROOT, mode.label, engine) : mode.label;
            if (mode == Mode.MECHANISM) {
                // The executor's part ran on the caller's thread: its wall time, scaled by the
                // share of the window the thread was on a CPU (a preemption inside the timed
                // part is wall time, not CPU time; preemptions fall anywhere in the loop alike).
                double onCpu = Math.min(1.0, (double) appCpu / Math.max(1, wall[1] - wall[0]));
                double execCpu = (exec[1] - exec[0]) * onCpu;
                return new Row(call, variant, batch, calls, calls / secs, (double) appCpu / calls, execCpu / calls);
            }
            return new Row(call, variant, batch, calls, calls / secs, (double) appCpu / calls,
                    engine == null ? Double.NaN : (double) (side1 - side0) / calls);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * One caller: batches of {@code batch} calls until the phase says stop; snapshots at the
     * phase changes into {@code snap}: calls, thread CPU, the no-op executor's time (mechanism
     * only) and the wall clock, at {@code slot} (start) and {@code slot + 1} (end).
     */
    private static void loop(Mode mode, Syscalls s, NoopPageEngine noop, CallKind call, int fd, MemorySegment buf,
                             int batch, int[] phase, long[][] snap, int slot) throws IOException {
        boolean platform = !Thread.currentThread().isVirtual();
        int nr = call.nr();
        long n = 0;
        int seen = 0;
        try (SyscallBatch b = mode == Mode.DIRECT ? null : s.batch()) {
            while (true) {
                if (mode == Mode.DIRECT) {
                    for (int i = 0; i < batch; i++) {
                        long r = call == CallKind.GETPID ? DirectSyscalls.raw(nr, 0, 0, 0, 0, 0, 0)
                                : DirectSyscalls.raw(nr, fd, buf.address(), 4096, (i & 63) * 4096L, 0, 0);
                        if (r < 0) throw new IOException(call.label + ": errno " + -r);
                    }
                } else {
                    // A fresh array per batch, as code holding its handles in locals or a
                    // per-batch list does: an array kept across batches ends up in the old
                    // generation, and each store of a new handle into it takes G1's
                    // card-marking slow path, a cost of the harness, not of the batch
                    // (docs/batch.md has the figures).
                    SyscallBatch.Result[] rs = new SyscallBatch.Result[batch];
                    for (int i = 0; i < batch; i++) {
                        rs[i] = call == CallKind.GETPID ? b.getpid() : b.pwrite(fd, buf, (i & 63) * 4096L);
                    }
                    b.submitAndWait();
                    for (int i = 0; i < batch; i++) rs[i].get(); // throws on an error
                }
                n += batch;
                int p = (int) PHASE.getVolatile(phase, 0);
                if (p != seen) {
                    long c = platform ? THREADS.getCurrentThreadCpuTime() : 0;
                    int at = p == 1 ? slot : slot + 1;
                    snap[0][at] = n;
                    snap[1][at] = c;
                    snap[2][at] = noop != null ? noop.executorNanos() : 0;
                    snap[3][at] = System.nanoTime();
                    if (p != 1) return;
                    seen = p;
                }
            }
        }
    }

    /**
     * {@code ./flexsc bench --study batchloop}: the mechanism alone in steady state. One
     * platform thread submits batches of {@code batch} getpids to a {@link NoopPageEngine}
     * ({@code callerSpin 0}) for {@code reps} windows of {@code seconds} each, after
     * {@code warmup} seconds of the same, and prints per window the thread's CPU per call, the executor's part
     * (as in the study's mechanism rows) and the rest, the application side, and the bytes
     * allocated per call; then the minimum of each over the windows, the figure least
     * disturbed by other load on a shared machine. The batch reuses its handles
     * ({@link SyscallBatch#reuseHandles()}): the loop keeps the first round's handles, which
     * every later round's adders return again, so a steady loop allocates nothing. Never
     * passes or fails.
     */
    public static void mechanismLoop(int batch, int reps, double seconds, double warmup,
                                     java.util.function.Consumer<String> out)
            throws IOException {
        FlexscConfig cfg = FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).callerSpin(0)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build();
        com.sun.management.ThreadMXBean tm = (com.sun.management.ThreadMXBean) THREADS;
        double minAll = Double.MAX_VALUE, minExec = Double.MAX_VALUE, minApp = Double.MAX_VALUE;
        double minBytes = Double.MAX_VALUE;
        try (NoopPageEngine e = NoopPageEngine.open(cfg); SyscallBatch b = e.syscalls().batch().reuseHandles()) {
            SyscallBatch.Result[] rs = new SyscallBatch.Result[batch];
            for (int i = 0; i < batch; i++) rs[i] = b.getpid();
            b.submitAndWait();
            for (int rep = -1; rep < reps; rep++) { // rep -1: warm-up, not reported
                long x0 = e.executorNanos(), a0 = tm.getCurrentThreadAllocatedBytes();
                long c0 = tm.getCurrentThreadCpuTime(), t0 = System.nanoTime(), n = 0;
                long end = t0 + (long) ((rep < 0 ? warmup : seconds) * 1e9);
                do {
                    for (int k = 0; k < 100; k++) {
                        for (int i = 0; i < batch; i++) {
                            if (b.getpid() != rs[i]) throw new AssertionError("the batch did not reuse handle " + i);
                        }
                        b.submitAndWait();
                        for (int i = 0; i < batch; i++) rs[i].get(); // throws on an error
                    }
                    n += 100L * batch;
                } while (System.nanoTime() < end);
                long c1 = tm.getCurrentThreadCpuTime(), t1 = System.nanoTime();
                long x1 = e.executorNanos(), a1 = tm.getCurrentThreadAllocatedBytes();
                if (rep < 0) continue;
                double onCpu = Math.min(1.0, (double) (c1 - c0) / Math.max(1, t1 - t0)); // as in measure()
                double all = (double) (c1 - c0) / n, exec = (x1 - x0) * onCpu / n, bytes = (double) (a1 - a0) / n;
                minAll = Math.min(minAll, all);
                minExec = Math.min(minExec, exec);
                minApp = Math.min(minApp, all - exec);
                minBytes = Math.min(minBytes, bytes);
                out.accept(String.format(Locale.ROOT, "window %d: %.1f ns/call caller CPU, executor part %.1f,"
                        + " application side %.1f, %.2f bytes allocated/call", rep + 1, all, exec, all - exec, bytes));
            }
        }
        out.accept(String.format(Locale.ROOT, "batch %d, %.1f s warm-up, minimum over %d windows of %.1f s:"
                + " %.1f ns/call caller CPU, executor part %.1f, application side %.1f, %.2f bytes allocated/call",
                batch, warmup, reps, seconds, minAll, minExec, minApp, minBytes));
    }

    /**
     * CPU-bound green threads, one per carrier, that keep the carriers from idling: each
     * unit is a {@link CpuWork#unit}, then a yield so queued threads run. Calibrated alone
     * first: CPU per unit with no calls in flight. Subtracting units x that cost from the
     * carriers' CPU leaves what the calls cost the application core when it has other work,
     * which is the case FlexSC is for (a caller parks and the core runs someone else).
     */
    private static final class Filler {
        private final FlexscRuntime rt;
        private final java.util.concurrent.atomic.LongAdder units = new java.util.concurrent.atomic.LongAdder();
        private volatile boolean stop;
        private final List<Thread> threads = new ArrayList<>();
        double nanosPerUnit;
        static volatile long sink;

        Filler(FlexscRuntime rt) {
            this.rt = rt;
            for (int i = 0; i < rt.scheduler().carrierThreads().size(); i++) {
                Thread t = rt.threadFactory().newThread(this::work);
                threads.add(t);
                t.start();
            }
        }

        private void work() {
            long x = CpuWork.seed();
            while (!stop) {
                x = CpuWork.unit(x);
                units.increment();
                Thread.yield();
            }
            sink = x;
        }

        void calibrate(double seconds) throws InterruptedException {
            List<Thread> carriers = rt.scheduler().carrierThreads();
            Thread.sleep((long) (seconds * 500));
            long u0 = units.sum(), c0 = cpuOf(carriers);
            Thread.sleep((long) (seconds * 1000));
            long u1 = units.sum(), c1 = cpuOf(carriers);
            nanosPerUnit = (double) (c1 - c0) / Math.max(1, u1 - u0);
        }

        long units() {
            return units.sum();
        }

        void stop() throws InterruptedException {
            stop = true;
            for (Thread t : threads) t.join(10_000);
        }
    }

    private static long cpuOf(List<Thread> ts) {
        long sum = 0;
        for (Thread t : ts) {
            long c = THREADS.getThreadCpuTime(t.threadId());
            if (c > 0) sum += c;
        }
        return sum;
    }

    /**
     * CPU time of the threads that execute the calls: libflexsc's executors
     * ({@code flexsc-exec}), the kernel module's ({@code flexsc-kserve}), io_uring's SQ
     * poller ({@code iou-sqp-*}) and io-wq workers ({@code iou-wrk-*}), from
     * /proc/self/task/TID/schedstat. Threads that exited during the window are missed.
     */
    static long syscallSideCpuNanos() throws IOException {
        long sum = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    if (!comm.equals("flexsc-exec") && !comm.equals("flexsc-kserve") && !comm.startsWith("iou-")) continue;
                    sum += Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split(" ")[0]);
                } catch (IOException | RuntimeException gone) {
                    // the thread exited between list and read
                }
            }
        }
        return sum;
    }

    /** The rows as a table; "vs direct" is calls/s against direct FFM for the same call and batch size. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-18s %-52s %5s %13s %9s %15s %19s%n";
        sb.append(String.format(Locale.ROOT, fmt, "call", "variant", "batch", "calls/s", "vs direct",
                "app CPU ns/call", "syscall-side ns/call"));
        for (Row r : rows) {
            double base = rows.stream().filter(x -> x.variant().equals(Mode.DIRECT.label) && x.call() == r.call()
                    && x.batch() == r.batch()).mapToDouble(Row::callsPerSecond).findFirst().orElse(Double.NaN);
            sb.append(String.format(Locale.ROOT, fmt, r.call().label, r.variant(), r.batch(),
                    String.format(Locale.ROOT, "%,.0f", r.callsPerSecond()),
                    String.format(Locale.ROOT, "%.2fx", r.callsPerSecond() / base),
                    String.format(Locale.ROOT, "%.0f", r.appCpuNsPerCall()),
                    Double.isNaN(r.syscallSideCpuNsPerCall()) ? "-" : String.format(Locale.ROOT, "%.0f", r.syscallSideCpuNsPerCall())));
        }
        return sb.toString();
    }
}
