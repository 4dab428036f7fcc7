package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.EngineStats;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;

/**
 * The figures of docs/threads.md, in one run: the cost of a virtual-thread switch
 * (park/unpark ping-pong, and Thread.yield) on the FlexSC scheduler and on the JDK's
 * default scheduler; and getpid and 64-byte write throughput from 1, 16, 256 and 1024
 * FlexSC green threads vs as many platform threads making direct calls.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
 *      -cp CLASSPATH dev.flexsc.threads.ThreadsMeasurement [seconds-per-point [threads,... [getpid,write64 [switch|noswitch]]]]
 * </pre>
 */
public final class ThreadsMeasurement {

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        int[] counts = args.length > 1 ? java.util.Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 16, 256, 1024};
        List<String> callNames = args.length > 2 ? List.of(args[2].split(",")) : List.of("getpid", "write64");
        boolean switchCost = args.length <= 3 || args[3].equals("switch");
        System.out.printf("machine: %d CPUs (%s), JDK %s%n", Runtime.getRuntime().availableProcessors(),
                cpuModel(), Runtime.version());
        // -Dflexsc.measure.engine=IO_URING (or IO_URING_SQPOLL) measures the io_uring engines under the scheduler.
        FlexscConfig cfg = FlexscConfig.builder()
                .engine(Engine.valueOf(System.getProperty("flexsc.measure.engine", "SYSCALL_THREADS")))
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build();
        System.out.println("config: " + cfg + ", load average at start: " + loadAverage());

        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            System.out.println();
            System.out.println("== virtual-thread switch cost (ns per park+unpark, ping-pong of two threads) ==");
            ThreadFactory jdk = Thread.ofVirtual().factory();
            for (int rep = 0; rep < (switchCost ? 3 : 0); rep++) {
                double f = pingPong(rt.threadFactory(), 500_000);
                double d = pingPong(jdk, 500_000);
                double fy = yieldLoop(rt.threadFactory(), 1_000_000);
                double dy = yieldLoop(jdk, 1_000_000);
                System.out.printf("rep %d: FlexSC scheduler %.0f ns, JDK default scheduler %.0f ns;"
                        + " Thread.yield: FlexSC %.0f ns, JDK default %.0f ns%n", rep, f, d, fy, dy);
            }

            Syscalls direct = DirectSyscalls.syscalls();
            Syscalls flexsc = rt.syscalls();
            MemorySegment buf = Arena.global().allocate(64);
            int devNull;
            try (Arena a = Arena.ofConfined()) {
                devNull = direct.openat(Syscalls.AT_FDCWD, "/dev/null", OpenFlags.O_WRONLY, 0);
            }
            System.out.println();
            System.out.printf("== throughput, million calls/s (%.1f s per point after %.1f s warm-up) ==%n", seconds, seconds / 3);
            System.out.printf("%-10s %7s %14s %14s %7s   %s%n", "call", "threads", "direct(platf)", "FlexSC(green)",
                    "ratio", "FlexSC detail: parks/call, calls/batch, carrier sleeps, executor sleeps; load average");
            for (String call : callNames) {
                for (int n : counts) {
                    Body d = call.equals("getpid") ? direct::getpid : () -> direct.write(devNull, buf);
                    Body g = call.equals("getpid") ? flexsc::getpid : () -> flexsc.write(devNull, buf);
                    double dr = throughput(Thread.ofPlatform().factory(), n, d, seconds).rate;
                    SchedulerStats s0 = rt.scheduler().stats();
                    EngineStats e0 = rt.engine().stats();
                    Result gr = throughput(rt.threadFactory(), n, g, seconds);
                    SchedulerStats s1 = rt.scheduler().stats();
                    EngineStats e1 = rt.engine().stats();
                    double calls = e1.submitted() - e0.submitted();
                    System.out.printf("%-10s %7d %14.2f %14.2f %6.2fx   %.2f, %.1f, %d, %d; %s%n", call, n, dr / 1e6,
                            gr.rate / 1e6, gr.rate / dr, (e1.callerParks() - e0.callerParks()) / calls,
                            calls / Math.max(1, e1.batches() - e0.batches()), s1.sleeps() - s0.sleeps(),
                            e1.executorSleeps() - e0.executorSleeps(), loadAverage());
                    System.out.flush();
                }
            }
            direct.close(devNull);
        }
    }

    interface Body {
        void call() throws Exception;
    }

    record Result(double rate) {}

    /** n threads call body in a loop; calls per second over the measured window. */
    static Result throughput(ThreadFactory factory, int n, Body body, double seconds) throws Exception {
        AtomicLongArray counts = new AtomicLongArray(n * 16); // one slot per 128 bytes: no false sharing
        boolean[] stop = new boolean[1];
        Object stopLock = new Object();
        CountDownLatch ready = new CountDownLatch(n);
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        for (int i = 0; i < n; i++) {
            int slot = i * 16;
            Thread t = factory.newThread(() -> {
                ready.countDown();
                long c = 0;
                try {
                    while (running.getOpaque()) { // opaque: eventually sees the stop, no fence per call
                        body.call();
                        counts.lazySet(slot, ++c); // release store of a private counter
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            threads.add(t);
        }
        for (Thread t : threads) t.start();
        ready.await();
        Thread.sleep((long) (seconds * 1000 / 3));
        long c0 = sum(counts, n), t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        long c1 = sum(counts, n), t1 = System.nanoTime();
        running.set(false);
        for (Thread t : threads) t.join();
        return new Result((c1 - c0) * 1e9 / (t1 - t0));
    }

    private static long sum(AtomicLongArray counts, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) s += counts.get(i * 16);
        return s;
    }

    /** Two threads hand a turn back and forth with park/unpark: ns per hand-over (one park + one unpark). */
    static double pingPong(ThreadFactory factory, int rounds) throws InterruptedException {
        Thread[] ts = new Thread[2];
        java.util.concurrent.atomic.AtomicInteger turn = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        for (int k = 0; k < 2; k++) {
            int me = k;
            ts[k] = factory.newThread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int r = 0; r < rounds; r++) {
                    while (turn.get() != me) LockSupport.park(); // volatile read of the turn
                    turn.set(1 - me);
                    LockSupport.unpark(ts[1 - me]);
                }
            });
        }
        for (Thread t : ts) t.start();
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : ts) t.join();
        return (System.nanoTime() - t0) / (2.0 * rounds);
    }

    /** One thread yields in a loop: ns per yield (unmount, resubmit, remount). */
    static double yieldLoop(ThreadFactory factory, int n) throws InterruptedException {
        long[] ns = new long[1];
        Thread t = factory.newThread(() -> {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) Thread.yield();
            ns[0] = System.nanoTime() - t0;
        });
        t.start();
        t.join();
        return ns[0] / (double) n;
    }

    /** The 1-minute load average: other processes on the machine skew every figure. */
    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static String cpuModel() {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).findFirst().map(l -> l.replaceAll(".*:\\s*", ""))
                    .orElse("?");
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
