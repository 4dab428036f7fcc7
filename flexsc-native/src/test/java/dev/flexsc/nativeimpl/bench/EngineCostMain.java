package dev.flexsc.nativeimpl.bench;

import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import static dev.flexsc.OpenFlags.*;

/**
 * Cost per call of each engine against direct calls, in one run: calls/s and the CPU time
 * the application threads spend per call (ThreadMXBean, so syscall threads, the SQ polling
 * thread and io-wq workers are not counted: that is the point of offloading), for a 64-byte
 * write to /dev/null and a 4 KiB pwrite to a file, with 1, 16 and 256 calls in flight
 * (one platform thread per call in flight), and a 64-byte echo over a blocking Unix
 * socket (write, then a read that usually waits for a partner thread's direct echo: the
 * blocking-socket path; 2 calls per round trip). Not a JUnit test: docs/engines.md gives
 * the command. Arguments: [seconds per point, default 1.0] [engines, comma-separated,
 * default DIRECT,SYSCALL_THREADS,IO_URING_SQPOLL,IO_URING].
 */
public final class EngineCostMain {
    private EngineCostMain() {}


    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        Path file = Files.createTempFile("flexsc-bench", ".bin");
        System.out.printf("# %s, %d CPUs, kernel %s, load average %.1f%n", System.getProperty("java.vm.version"),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.version"),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf("%-16s %-14s %8s %12s %14s%n", "engine", "op", "inflight", "calls/s", "app CPU ns/call");
        List<String> engines = List.of((args.length > 1 ? args[1] : "DIRECT,SYSCALL_THREADS,IO_URING_SQPOLL,IO_URING").split(","));
        for (String name : engines) {
            FlexscEngine engine = null;
            Syscalls s;
            if (name.equals("DIRECT")) {
                s = DirectSyscalls.syscalls();
            } else {
                Engine kind = Engine.valueOf(name);
                String why = Flexsc.probe().stream().filter(a -> a.engine() == kind).findFirst().orElseThrow().reason();
                if (why != null) {
                    System.out.printf("%-16s unavailable: %s%n", name, why);
                    continue;
                }
                engine = Flexsc.open(FlexscConfig.builder().engine(kind).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
                s = engine.syscalls();
            }
            try {
                int devnull = s.openat(Syscalls.AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0);
                int fd = s.openat(Syscalls.AT_FDCWD, file.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
                for (int inflight : new int[] {1, 16, 256}) {
                    point(name, "write64 null", inflight, seconds, (b, i) -> s.write(devnull, b.asSlice(0, 64)));
                    point(name, "pwrite4k file", inflight, seconds, (b, i) -> s.pwrite(fd, b, (i & 255) * 4096L));
                }
                for (int inflight : new int[] {1, 16}) {
                    List<int[]> pairs = new java.util.concurrent.CopyOnWriteArrayList<>();
                    ThreadLocal<int[]> sock = ThreadLocal.withInitial(() -> echoPair(pairs));
                    point(name, "echo64 socket", inflight, seconds, (b, i) -> {
                        int fdS = sock.get()[0];
                        s.write(fdS, b.asSlice(0, 64));
                        long got = 0;
                        while (got < 64) got += s.read(fdS, b.asSlice(got, 64 - got));
                    }, 2);
                    for (int[] p : pairs) {
                        DirectSyscalls.raw(3, p[0], 0, 0, 0, 0, 0); // the echo thread sees EOF and exits
                    }
                }
                s.close(devnull);
                s.close(fd);
            } finally {
                if (engine != null) engine.close();
            }
        }
        Files.deleteIfExists(file);
    }

    @FunctionalInterface
    interface Call {
        void run(MemorySegment buf, long i) throws Exception;
    }

    /** A blocking Unix stream socketpair whose far end a platform thread echoes with direct calls. */
    private static int[] echoPair(List<int[]> pairs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sv = a.allocate(8);
            long r = DirectSyscalls.raw(53, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0, sv.address(), 0, 0);
            if (r < 0) throw new IllegalStateException("socketpair: errno " + -r);
            int[] p = {sv.get(java.lang.foreign.ValueLayout.JAVA_INT, 0), sv.get(java.lang.foreign.ValueLayout.JAVA_INT, 4)};
            pairs.add(p);
            Thread.ofPlatform().daemon().start(() -> {
                Syscalls d = DirectSyscalls.syscalls();
                byte[] b = new byte[64];
                try {
                    long n;
                    while ((n = d.read(p[1], b)) > 0) d.write(p[1], b, 0, (int) n);
                } catch (Exception ignored) {
                    // closed
                }
                DirectSyscalls.raw(3, p[1], 0, 0, 0, 0, 0);
            });
            return p;
        }
    }

    private static void point(String engine, String op, int threads, double seconds, Call call) throws Exception {
        point(engine, op, threads, seconds, call, 1);
    }

    private static void point(String engine, String op, int threads, double seconds, Call call, int callsPerRun)
            throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        AtomicBoolean measuring = new AtomicBoolean(), stop = new AtomicBoolean();
        LongAdder calls = new LongAdder();
        LongAdder cpu = new LongAdder();
        CyclicBarrier start = new CyclicBarrier(threads + 1), warm = new CyclicBarrier(threads + 1),
                done = new CyclicBarrier(threads + 1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(Thread.ofPlatform().start(() -> {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment buf = a.allocate(4096, 4096);
                    start.await();
                    long i = 0, n = 0, cpu0 = 0;
                    boolean counting = false;
                    while (!stop.get()) {
                        if (!counting && measuring.get()) {
                            counting = true;
                            cpu0 = mx.getCurrentThreadCpuTime();
                            n = 0;
                        }
                        call.run(buf, i++);
                        n += callsPerRun;
                    }
                    if (counting) {
                        cpu.add(mx.getCurrentThreadCpuTime() - cpu0);
                        calls.add(n);
                    }
                    done.await();
                } catch (Exception e) {
                    throw new RuntimeException(engine + " " + op, e);
                }
            }));
        }
        start.await();
        Thread.sleep((long) (seconds * 300)); // warm-up
        measuring.set(true);
        long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        done.await();
        long elapsed = System.nanoTime() - t0;
        for (Thread t : ts) t.join();
        long n = calls.sum();
        System.out.printf("%-16s %-14s %8d %12.0f %14.0f%n", engine, op, threads, n * 1e9 / elapsed,
                n == 0 ? Double.NaN : (double) cpu.sum() / n);
    }
}
