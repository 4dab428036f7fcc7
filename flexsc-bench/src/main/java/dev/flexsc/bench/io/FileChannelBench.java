package dev.flexsc.bench.io;

import dev.flexsc.FlexscConfig;
import dev.flexsc.io.FlexscFileChannel;
import dev.flexsc.threads.FlexscRuntime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * 4 KiB positional writes ({@code FileChannel.write(buf, pos)}, i.e. pwrite64) through the
 * JDK's FileChannel and through FlexscFileChannel, from platform threads and from FlexSC
 * green threads, in one run so the ratios compare like with like. Each thread writes its
 * own 256 KiB region of one file (page cache, no fsync).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
 *      -cp CP dev.flexsc.bench.io.FileChannelBench [seconds] [threads,...]
 * </pre>
 */
public final class FileChannelBench {
    private FileChannelBench() {}

    private enum Impl { JDK, FLEXSC }

    private enum Buf { DIRECT, HEAP }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int[] threads = args.length > 1
                ? java.util.Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 8, 64};
        Path file = Files.createTempFile("flexsc-fcbench", ".dat");
        try (FlexscRuntime rt = FlexscRuntime.open(FlexscConfig.fromSystemProperties())) {
            System.out.printf(Locale.ROOT, "FileChannelBench: 4 KiB pwrite, %s, engine %s, %d CPUs, %.1f s per row, load %.1f%n",
                    file, rt.engine().engine(), Runtime.getRuntime().availableProcessors(), seconds, load());
            System.out.println("threads | kind | buffer | JDK M ops/s | FlexSC M ops/s | FlexSC/JDK | Syscalls.pwrite M ops/s (no channel)");
            for (int n : threads) {
                for (boolean green : new boolean[] {false, true}) {
                    for (Buf buf : Buf.values()) {
                        if (buf == Buf.HEAP && n != threads[0] && n != 8) continue; // heap rows: a sample
                        ThreadFactory f = green ? rt.threadFactory() : Thread.ofPlatform().daemon().factory();
                        double jdk = run(Impl.JDK, file, rt, f, n, buf, seconds);
                        double mine = run(Impl.FLEXSC, file, rt, f, n, buf, seconds);
                        double raw = buf == Buf.DIRECT ? runRaw(file, rt, f, n, seconds) : Double.NaN;
                        System.out.printf(Locale.ROOT, "%7d | %-8s | %-6s | %11.3f | %14.3f | %9.2fx | %8.3f   (load %.1f)%n",
                                n, green ? "green" : "platform", buf, jdk / 1e6, mine / 1e6, mine / jdk, raw / 1e6, load());
                    }
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Operations per second over {@code seconds}, after a warm-up of half as long. */
    private static double run(Impl impl, Path file, FlexscRuntime rt, ThreadFactory factory, int n, Buf buf,
                              double seconds) throws Exception {
        try (FileChannel ch = impl == Impl.JDK
                ? FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)
                : FlexscFileChannel.open(rt.syscalls(), file, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            return opsPerSecond(impl.toString(), factory, n, seconds, a -> {
                ByteBuffer b = buf == Buf.DIRECT ? ByteBuffer.allocateDirect(4096) : ByteBuffer.allocate(4096);
                return position -> {
                    b.clear();
                    ch.write(b, position);
                };
            });
        }
    }

    /** The same writes as Syscalls.pwrite on a native segment: the engine's cost without the channel. */
    private static double runRaw(Path file, FlexscRuntime rt, ThreadFactory factory, int n, double seconds) throws Exception {
        dev.flexsc.Syscalls sys = rt.syscalls();
        int fd = sys.openat(dev.flexsc.Syscalls.AT_FDCWD, file.toString(), 2 /* O_RDWR */, 0);
        try {
            return opsPerSecond("Syscalls.pwrite", factory, n, seconds, a -> {
                MemorySegment seg = a.allocate(4096);
                return position -> sys.pwrite(fd, seg, position);
            });
        } finally {
            sys.close(fd);
        }
    }

    /** One thread's 4 KiB write at a file position. */
    @FunctionalInterface
    private interface Write {
        void at(long position) throws Exception;
    }

    /** Sets up one thread's writes: its buffer (allocated in {@code a}, the thread's arena, if native). */
    @FunctionalInterface
    private interface Writer {
        Write open(Arena a);
    }

    /**
     * Writes per second from {@code n} threads of {@code factory}, each cycling over 64 blocks
     * of its own 256 KiB region, counted over {@code seconds} after a warm-up of half as long.
     * A thread's failure fails the measurement ({@code what} names it).
     */
    private static double opsPerSecond(String what, ThreadFactory factory, int n, double seconds, Writer writer)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean(), counting = new AtomicBoolean();
        LongAdder ops = new LongAdder();
        CountDownLatch done = new CountDownLatch(n);
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < n; t++) {
            long region = t * 256L * 1024;
            factory.newThread(() -> {
                try (Arena a = Arena.ofConfined()) {
                    Write w = writer.open(a);
                    long i = 0, mine = 0;
                    while (!stop.get()) {
                        w.at(region + (i++ & 63) * 4096);
                        if (counting.get()) mine++;
                    }
                    ops.add(mine);
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    done.countDown();
                }
            }).start();
        }
        Thread.sleep((long) (seconds * 500));
        counting.set(true);
        long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        counting.set(false);
        long ns = System.nanoTime() - t0;
        stop.set(true);
        done.await();
        if (!errors.isEmpty()) throw new IllegalStateException(what + ": " + errors.getFirst(), errors.getFirst());
        return ops.sum() * 1e9 / ns;
    }

    private static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
