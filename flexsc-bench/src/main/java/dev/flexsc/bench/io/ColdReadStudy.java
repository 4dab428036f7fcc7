package dev.flexsc.bench.io;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.OpenFlags;
import dev.flexsc.Syscalls;
import dev.flexsc.bench.CpuWork;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.threads.FlexscExecutors;
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
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code ./flexsc bench --study coldread}: random 4 KiB reads of a file much larger than
 * what the reads bring into the page cache, with the cache dropped before each cell, the
 * case where an exception-less call should win outright (issue 14): a read that misses the
 * cache waits for the disk, and on JDK 25 a buffered FileChannel read on a virtual thread
 * blocks its carrier for that long, so stock virtual threads keep at most their carrier
 * count of reads in flight and run nothing else meanwhile.
 *
 * <p>Readers: FlexscExecutors' green threads making FlexSC preads ({@code Syscalls.pread},
 * the defaults: {@link FlexscRuntime#shared()}, or {@code --engine}/{@code --policy});
 * stock virtual threads with {@code FileChannel.read(buf, position)}; and fixed pools of 64
 * and 256 platform threads with FileChannel, serving N request streams (at most the pool
 * size in flight; a stream's latency counts its wait for a pool thread). Each at N = 16,
 * 256 and 1,000, buffered and with O_DIRECT. Each cell: reads/s, p99 latency and the
 * process's CPU per read; then, with the cache dropped again, the same readers beside one
 * CPU-bound thread of their own kind that never parks, whose progress against its solo
 * progress says whether a carrier stuck in a read still runs anything else. And fio's
 * figure for the same reads through io_uring at queue depth 64, in the same run.
 *
 * <pre>
 * --study coldread [--file PATH] [--size-mib 2048] [--threads 16,256,1000] [--seconds 2]
 *                  [--modes buffered,direct] [--readers flexsc,vt,pool64,pool256]
 *                  [--drop auto|drop_caches|fadvise] [--no-hog] [--fio-depth 64]
 *                  [--engine E] [--policy P]
 * </pre>
 *
 * The file is created once (default {@code java.io.tmpdir}/flexsc-coldread.dat, 2 GiB of
 * random bytes, never sparse) and reused while its size matches. It never passes or fails
 * on timing.
 */
public final class ColdReadStudy {
    private ColdReadStudy() {}

    /** Who makes the reads. */
    public enum Readers {
        FLEXSC("FlexscExecutors, FlexSC pread"),
        STOCK_VT("stock virtual threads, FileChannel"),
        POOL_64("platform pool of 64, FileChannel"),
        POOL_256("platform pool of 256, FileChannel");

        public final String label;

        Readers(String label) {
            this.label = label;
        }

        /** The pool size, or 0 for a thread per reader. */
        int pool() {
            return this == POOL_64 ? 64 : this == POOL_256 ? 256 : 0;
        }

        static Readers parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "flexsc" -> FLEXSC;
                case "vt" -> STOCK_VT;
                case "pool64" -> POOL_64;
                case "pool256" -> POOL_256;
                default -> throw new IllegalArgumentException("--readers: unknown " + s + " (flexsc, vt, pool64, pool256)");
            };
        }
    }

    /** Buffered reads, or O_DIRECT (no page cache at all). */
    public enum Mode { BUFFERED, DIRECT }

    /** What to run. {@code engine} null: FlexscExecutors' defaults ({@code policy} then ignored). */
    public record Options(Path file, long size, int[] threads, double seconds, List<Readers> readers, List<Mode> modes,
                          PageCache.Method drop, boolean hog, int fioDepth, Engine engine, CallPolicy policy) {
        public static Options defaults() {
            return new Options(Path.of(System.getProperty("java.io.tmpdir"), "flexsc-coldread.dat"), 2048L << 20,
                    new int[] {16, 256, 1000}, 2, List.of(Readers.values()), List.of(Mode.values()), null, true, 64,
                    null, null);
        }
    }

    /**
     * One cell.
     *
     * @param residentBefore the file's share in the page cache when the cell began (0 when cold)
     * @param residentAfter its share when the window ended: the reads' own misses fill the
     *        cache, so later reads of a small file hit it (the default 2 GiB keeps this low)
     * @param hogProgress the CPU-bound thread's work rate beside the readers over its solo rate (NaN without a hog)
     * @param skip why the cell did not run, or null
     */
    public record Row(Readers readers, Mode mode, int threads, double residentBefore, double residentAfter, long reads,
                      double readsPerSec,
                      double p99Ms, double cpuUsPerRead, double readsPerSecWithHog, double hogProgress, String skip) {}

    /** fio's figure for one mode, or why there is none. */
    public record FioRow(Mode mode, int depth, Fio.Result result, String skip) {}

    /** Everything one run measured. */
    public record Results(List<Row> rows, List<FioRow> fio, String dropNote) {}

    private static final int BLOCK = 4096;
    /** How long readers may take to leave their last read after a window, before the cell counts as stalled. */
    static final long STOP_SECONDS = 60;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /**
     * The phase word of a window: volatile stores by the main thread, volatile loads by the
     * readers and the CPU-bound thread before each read or unit of work, so each sees STOP
     * within one read or unit (the same order as the harness's).
     */
    private static final VarHandle PHASE = MethodHandles.arrayElementVarHandle(int[].class);
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) throws Exception {
        Options d = Options.defaults();
        Path file = d.file();
        long size = d.size();
        int[] threads = d.threads();
        double seconds = d.seconds();
        List<Readers> readers = d.readers();
        List<Mode> modes = d.modes();
        String drop = "auto";
        boolean hog = true;
        int depth = d.fioDepth();
        Engine engine = null;
        CallPolicy policy = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--file" -> file = Path.of(args[++i]);
                case "--size-mib" -> size = Long.parseLong(args[++i]) << 20;
                case "--threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--modes" -> modes = Arrays.stream(args[++i].split(",")).map(s -> Mode.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                case "--readers" -> readers = Arrays.stream(args[++i].split(",")).map(Readers::parse).toList();
                case "--drop" -> drop = args[++i];
                case "--no-hog" -> hog = false;
                case "--fio-depth" -> depth = Integer.parseInt(args[++i]);
                case "--engine" -> engine = Engine.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--policy" -> policy = CallPolicy.valueOf(args[++i].toUpperCase(Locale.ROOT));
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--file PATH, --size-mib N,"
                        + " --threads 16,256,1000, --seconds S, --modes buffered,direct, --readers flexsc,vt,pool64,pool256,"
                        + " --drop auto|drop_caches|fadvise, --no-hog, --fio-depth N, --engine E, --policy P)");
            }
        }
        PageCache.Method method = switch (drop) {
            case "auto" -> PageCache.dropCachesUnavailable() == null ? PageCache.Method.DROP_CACHES : PageCache.Method.FADVISE;
            case "drop_caches" -> PageCache.Method.DROP_CACHES;
            case "fadvise" -> PageCache.Method.FADVISE;
            default -> throw new IllegalArgumentException("--drop: auto, drop_caches or fadvise, was " + drop);
        };
        Options o = new Options(file, size, threads, seconds, readers, modes, method, hog, depth, engine, policy);
        System.out.println("cold-read study: random 4 KiB reads of " + (size >> 20) + " MiB, " + seconds + " s per window, "
                + Runtime.getRuntime().availableProcessors() + " CPUs, JDK " + Runtime.version());
        Results r = run(o, System.err::println);
        System.out.println(r.dropNote());
        System.out.println(table(r));
    }

    /** Runs every cell of {@code o}, then fio; progress and skips go to {@code progress}. */
    public static Results run(Options o, Consumer<String> progress) throws Exception {
        ensureFile(o.file(), o.size(), progress);
        PageCache.Method method = o.drop() != null ? o.drop() : PageCache.Method.FADVISE;
        String dropNote = "page cache dropped before each window by " + (method == PageCache.Method.DROP_CACHES
                ? "writing 1 to /proc/sys/vm/drop_caches"
                : "posix_fadvise(POSIX_FADV_DONTNEED) on the file" + (PageCache.dropCachesUnavailable() == null ? ""
                        : " (" + PageCache.dropCachesUnavailable() + ")"));
        if (method == PageCache.Method.DROP_CACHES && PageCache.dropCachesUnavailable() != null) {
            throw new IllegalStateException("--drop drop_caches: " + PageCache.dropCachesUnavailable());
        }
        progress.accept("coldread: " + o.file() + "; " + dropNote);
        FlexscRuntime rt = o.engine() == null ? FlexscRuntime.shared() : FlexscRuntime.open(FlexscConfig.builder()
                .engine(o.engine()).policy(o.policy() != null ? o.policy() : CallPolicy.ADAPTIVE).build());
        try {
            java.util.Map<String, Double> solo = new java.util.HashMap<>(); // by the kind of thread
            if (o.hog()) {
                for (Readers r : o.readers()) {
                    if (solo.containsKey(hogKind(r))) continue;
                    solo.put(hogKind(r), hogAlone(r, rt, o.seconds()));
                    progress.accept(String.format(Locale.ROOT, "coldread: CPU-bound thread alone (%s): %.0f units/s",
                            hogKind(r), solo.get(hogKind(r))));
                }
            }
            // JIT warm-up of each reader's path, untimed (each window drops the cache anyway)
            for (Readers r : o.readers()) window(o, method, rt, r, o.modes().getFirst(), o.threads()[0], false, o.seconds() / 2);
            List<Row> rows = new ArrayList<>();
            for (Mode m : o.modes()) {
                for (int n : o.threads()) {
                    for (Readers r : o.readers()) {
                        progress.accept("coldread: " + r.label + ", " + m + ", " + n + " threads");
                        Row row = cell(o, method, rt, r, m, n, o.hog() ? solo.get(hogKind(r)) : Double.NaN);
                        if (row.skip() != null) progress.accept("  skipped: " + row.skip());
                        rows.add(row);
                    }
                }
            }
            List<FioRow> fio = new ArrayList<>();
            String noFio = Fio.unavailabilityCause();
            for (Mode m : o.modes()) {
                if (noFio != null) {
                    fio.add(new FioRow(m, o.fioDepth(), null, noFio));
                    continue;
                }
                PageCache.drop(o.file(), method);
                progress.accept("coldread: fio, io_uring, depth " + o.fioDepth() + ", " + m);
                fio.add(new FioRow(m, o.fioDepth(), Fio.run(o.file(), o.size(), m == Mode.DIRECT, o.fioDepth(),
                        (int) Math.max(1, Math.round(o.seconds()))), null));
            }
            return new Results(rows, fio, dropNote);
        } finally {
            if (o.engine() != null) rt.close();
        }
    }

    /**
     * Creates {@code file} of {@code size} bytes of random data unless it exists with that
     * size and its blocks allocated (a sparse file reads zeros without touching the disk).
     */
    static void ensureFile(Path file, long size, Consumer<String> progress) throws IOException {
        if (size < BLOCK || size % BLOCK != 0) throw new IllegalArgumentException("size must be a multiple of 4 KiB: " + size);
        if (Files.exists(file) && Files.size(file) == size) {
            Syscalls sys = DirectSyscalls.syscalls();
            int fd = sys.openat(Syscalls.AT_FDCWD, file.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
            long allocated;
            try {
                allocated = sys.fstat(fd).blocks() * 512;
            } finally {
                sys.close(fd);
            }
            if (allocated >= size) {
                progress.accept("coldread: reusing " + file);
                return;
            }
        }
        progress.accept("coldread: creating " + file + " (" + (size >> 20) + " MiB, once)");
        Path tmp = file.resolveSibling(file.getFileName() + ".part");
        byte[] chunk = new byte[8 << 20];
        SplittableRandom random = new SplittableRandom(14);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (long off = 0; off < size; ) {
                for (int i = 0; i < chunk.length; i += 8) {
                    long x = random.nextLong();
                    for (int b = 0; b < 8; b++) chunk[i + b] = (byte) (x >>> (8 * b));
                }
                ByteBuffer bb = ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, size - off));
                while (bb.hasRemaining()) off += ch.write(bb, off);
            }
            ch.force(true);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** One reader's read of 4 KiB at an offset; returns the bytes read. */
    @FunctionalInterface
    private interface Read {
        long at(long offset) throws IOException;
    }

    /** Opens the reads of one cell, one {@link Read} per stream; closes the file and buffers. */
    private static final class Target implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final FileChannel channel;
        private final Syscalls sys;
        private final int fd;

        Target(Readers r, Mode m, Path file, FlexscRuntime rt) throws IOException {
            if (r == Readers.FLEXSC) {
                this.sys = rt.syscalls();
                this.fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, file.toString(),
                        OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC | (m == Mode.DIRECT ? OpenFlags.O_DIRECT : 0), 0);
                this.channel = null;
            } else {
                List<OpenOption> opts = new ArrayList<>(List.of(StandardOpenOption.READ));
                if (m == Mode.DIRECT) opts.add(com.sun.nio.file.ExtendedOpenOption.DIRECT);
                this.channel = FileChannel.open(file, opts.toArray(OpenOption[]::new));
                this.sys = null;
                this.fd = -1;
            }
        }

        /** A read for one stream, with its own 4 KiB-aligned buffer. */
        Read newRead() {
            if (channel != null) {
                ByteBuffer buf = arena.allocate(BLOCK, BLOCK).asByteBuffer();
                return off -> channel.read(buf.clear(), off);
            }
            MemorySegment buf = arena.allocate(BLOCK, BLOCK);
            return off -> sys.pread(fd, buf, off);
        }

        @Override
        public void close() throws IOException {
            try {
                if (channel != null) channel.close();
                else DirectSyscalls.syscalls().close(fd);
            } finally {
                arena.close();
            }
        }
    }

    /** Phases of a window: 0 before, 1 measuring, 2 stop. */
    private static final int MEASURE = 1, STOP = 2;

    private static Row cell(Options o, PageCache.Method method, FlexscRuntime rt, Readers r, Mode m, int n, double solo)
            throws Exception {
        Window alone;
        try {
            alone = window(o, method, rt, r, m, n, false, o.seconds());
        } catch (IOException e) {
            // O_DIRECT on a file system without it (tmpfs: EINVAL) and the like
            return new Row(r, m, n, Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, e.toString());
        }
        Window busy = o.hog() ? window(o, method, rt, r, m, n, true, o.seconds()) : null;
        long[] lat = alone.latencies();
        Arrays.sort(lat);
        double p99 = lat.length == 0 ? Double.NaN : lat[Math.min(lat.length - 1, (int) Math.ceil(lat.length * 0.99) - 1)] / 1e6;
        double secs = alone.nanos() / 1e9;
        return new Row(r, m, n, alone.residentBefore(), alone.residentAfter(), alone.reads(), alone.reads() / secs, p99,
                alone.reads() == 0 ? Double.NaN : alone.cpuNanos() / 1e3 / alone.reads(),
                busy == null ? Double.NaN : busy.reads() / (busy.nanos() / 1e9),
                busy == null ? Double.NaN : busy.hogUnits() / (busy.nanos() / 1e9) / solo, null);
    }

    /** What one window measured. */
    private record Window(double residentBefore, double residentAfter, long reads, long nanos, long cpuNanos,
                          long[] latencies, long hogUnits) {}

    /**
     * Drops the cache, starts {@code n} read streams of kind {@code r} (and the CPU-bound
     * thread if {@code withHog}), lets them run for {@code seconds}, stops them.
     *
     * @throws IllegalStateException if a reader failed, or the readers did not stop within {@value #STOP_SECONDS} s
     */
    private static Window window(Options o, PageCache.Method method, FlexscRuntime rt, Readers r, Mode m, int n,
                                 boolean withHog, double seconds) throws Exception {
        try (Target target = new Target(r, m, o.file(), rt)) {
            int[] phase = new int[1];
            long[] counts = new long[n * 16]; // one stream per 128 bytes: no false sharing
            long[][] lat = new long[n][];
            int[] latN = new int[n];
            long[] hogUnits = new long[1];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            long blocks = o.size() / BLOCK;
            ExecutorService ex = executor(r, rt);
            Thread hog = withHog ? hogThread(r, rt, phase, hogUnits) : null;
            try {
                if (r.pool() == 0) {
                    for (int i = 0; i < n; i++) {
                        int s = i;
                        Read read = target.newRead();
                        ex.execute(() -> {
                            SplittableRandom rnd = new SplittableRandom(s * 7919L + 1);
                            lat[s] = new long[1024];
                            try {
                                go.await();
                                while ((int) PHASE.getVolatile(phase, 0) == MEASURE) {
                                    long t0 = System.nanoTime();
                                    if (read.at(rnd.nextLong(blocks) * BLOCK) != BLOCK) throw new IOException("short read");
                                    record(phase, counts, lat, latN, s, System.nanoTime() - t0);
                                }
                            } catch (Throwable x) {
                                failure.compareAndSet(null, x);
                            }
                        });
                    }
                }
                PageCache.drop(o.file(), method);
                double resident = PageCache.residentShare(o.file());
                long cpu0 = OS.getProcessCpuTime(), t0 = System.nanoTime();
                PHASE.setVolatile(phase, 0, MEASURE);
                go.countDown();
                if (hog != null) hog.start();
                if (r.pool() > 0) {
                    for (int i = 0; i < n; i++) new PooledStream(i, target.newRead(), blocks, ex, phase, counts, lat, latN, failure).submit();
                }
                Thread.sleep((long) (seconds * 1000));
                long reads = 0;
                for (int i = 0; i < n; i++) reads += (long) LONGS.getOpaque(counts, i * 16);
                long t1 = System.nanoTime(), cpu1 = OS.getProcessCpuTime();
                long units = (long) LONGS.getOpaque(hogUnits, 0);
                PHASE.setVolatile(phase, 0, STOP);
                ex.shutdown();
                if (!ex.awaitTermination(STOP_SECONDS, TimeUnit.SECONDS)) {
                    throw new IllegalStateException(r.label + ", " + m + ", " + n + " threads: readers still inside a read "
                            + STOP_SECONDS + " s after the window (a stall; reads counted: " + reads + ")");
                }
                if (hog != null) hog.join(TimeUnit.SECONDS.toMillis(STOP_SECONDS));
                if (failure.get() instanceof IOException io) throw io;
                if (failure.get() != null) throw new IllegalStateException(r.label + " failed", failure.get());
                long[] all = new long[(int) Math.min(Integer.MAX_VALUE - 8, Arrays.stream(latN).asLongStream().sum())];
                int k = 0;
                for (int i = 0; i < n; i++) {
                    System.arraycopy(lat[i], 0, all, k, latN[i]);
                    k += latN[i];
                }
                return new Window(resident, PageCache.residentShare(o.file()), reads, t1 - t0, cpu1 - cpu0, all, units);
            } finally {
                PHASE.setVolatile(phase, 0, STOP);
                go.countDown();
                ex.shutdownNow();
                ex.awaitTermination(STOP_SECONDS, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Counts a read that completed while measuring and keeps its latency. Only stream
     * {@code s}'s thread writes its slots (a pooled stream's next read is submitted after
     * this one, so the executor's hand-off orders them); the main thread reads the count
     * with an opaque load while measuring and the latencies after the executor terminated.
     */
    private static void record(int[] phase, long[] counts, long[][] lat, int[] latN, int s, long nanos) {
        if ((int) PHASE.getVolatile(phase, 0) != MEASURE) return;
        LONGS.setOpaque(counts, s * 16, (long) LONGS.getOpaque(counts, s * 16) + 1);
        if (latN[s] == lat[s].length) lat[s] = Arrays.copyOf(lat[s], lat[s].length * 2);
        lat[s][latN[s]++] = nanos;
    }

    /**
     * One of N request streams served by a fixed platform pool: each read is a task; when it
     * completes, the stream submits its next. Its latency runs from submission, so it
     * includes the wait for a pool thread (what a request on a server with a pool sees).
     */
    private static final class PooledStream implements Runnable {
        private final int s;
        private final Read read;
        private final long blocks;
        private final ExecutorService ex;
        private final int[] phase;
        private final long[] counts;
        private final long[][] lat;
        private final int[] latN;
        private final AtomicReference<Throwable> failure;
        private final SplittableRandom rnd;
        private long submitted;

        PooledStream(int s, Read read, long blocks, ExecutorService ex, int[] phase, long[] counts, long[][] lat,
                     int[] latN, AtomicReference<Throwable> failure) {
            this.s = s;
            this.read = read;
            this.blocks = blocks;
            this.ex = ex;
            this.phase = phase;
            this.counts = counts;
            this.lat = lat;
            this.latN = latN;
            this.failure = failure;
            this.rnd = new SplittableRandom(s * 7919L + 1);
            lat[s] = new long[1024];
        }

        void submit() {
            submitted = System.nanoTime();
            ex.execute(this);
        }

        @Override
        public void run() {
            try {
                if (read.at(rnd.nextLong(blocks) * BLOCK) != BLOCK) throw new IOException("short read");
                record(phase, counts, lat, latN, s, System.nanoTime() - submitted);
                if ((int) PHASE.getVolatile(phase, 0) == MEASURE) submit();
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                // the window ended between the check and the submit
            } catch (Throwable x) {
                failure.compareAndSet(null, x);
            }
        }
    }

    /** The executor the readers of {@code r} run on (a new one per window). */
    private static ExecutorService executor(Readers r, FlexscRuntime rt) {
        return switch (r) {
            case FLEXSC -> FlexscExecutors.newThreadPerTaskExecutor(rt.threadFactory());
            case STOCK_VT -> Executors.newVirtualThreadPerTaskExecutor();
            case POOL_64, POOL_256 -> {
                ThreadPoolExecutor pool = new ThreadPoolExecutor(r.pool(), r.pool(), 0, TimeUnit.SECONDS,
                        new LinkedBlockingQueue<>(), Thread.ofPlatform().name("coldread-pool-", 0).factory());
                // A server's pool is warm: without this, the window would pay for starting its threads
                // (a ThreadPoolExecutor adds one per task until it has corePoolSize).
                pool.prestartAllCoreThreads();
                yield pool;
            }
        };
    }

    /** The kind of thread that competes with readers {@code r}: a green thread, a stock virtual thread, a platform thread. */
    private static String hogKind(Readers r) {
        return switch (r) {
            case FLEXSC -> "FlexSC green thread";
            case STOCK_VT -> "stock virtual thread";
            case POOL_64, POOL_256 -> "platform thread";
        };
    }

    private static ThreadFactory hogFactory(Readers r, FlexscRuntime rt) {
        return switch (r) {
            case FLEXSC -> rt.threadFactory();
            case STOCK_VT -> Thread.ofVirtual().name("coldread-hog").factory();
            case POOL_64, POOL_256 -> Thread.ofPlatform().name("coldread-hog").factory();
        };
    }

    /**
     * A CPU-bound thread of readers {@code r}'s kind that never parks or yields: units of
     * {@link CpuWork} until the phase says stop.
     */
    private static Thread hogThread(Readers r, FlexscRuntime rt, int[] phase, long[] units) {
        return hogFactory(r, rt).newThread(() -> {
            long x = CpuWork.seed(), n = 0;
            while ((int) PHASE.getVolatile(phase, 0) != STOP) {
                x = CpuWork.unit(x);
                LONGS.setOpaque(units, 0, ++n); // opaque: the main thread samples it
            }
            if (x == 42) System.out.print(""); // keep the arithmetic
        });
    }

    /** The CPU-bound thread's units per second alone, for {@code seconds}. */
    private static double hogAlone(Readers r, FlexscRuntime rt, double seconds) throws InterruptedException {
        int[] phase = {MEASURE};
        long[] units = new long[1];
        Thread t = hogThread(r, rt, phase, units);
        long t0 = System.nanoTime();
        t.start();
        Thread.sleep((long) (seconds * 1000));
        long u = (long) LONGS.getOpaque(units, 0), t1 = System.nanoTime();
        PHASE.setVolatile(phase, 0, STOP);
        t.join();
        return u / ((t1 - t0) / 1e9);
    }

    /**
     * The rows as a table, then fio's, then the ratios issue 14's goals are stated in:
     * FlexSC's reads/s against stock virtual threads' and fio's, and the CPU-bound thread's progress.
     */
    public static String table(Results res) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-38s %-8s %7s %13s %10s %9s %12s %12s %6s%n";
        sb.append(String.format(Locale.ROOT, fmt, "readers", "mode", "threads", "cached % b/a", "reads/s", "p99 ms",
                "CPU us/read", "reads/s+hog", "hog %"));
        for (Row r : res.rows()) {
            if (r.skip() != null) {
                sb.append(String.format(Locale.ROOT, fmt, r.readers().label, r.mode(), r.threads(), "skipped", "-", "-", "-", "-", "-"));
                continue;
            }
            sb.append(String.format(Locale.ROOT, fmt, r.readers().label, r.mode(), r.threads(),
                    String.format(Locale.ROOT, "%.1f/%.1f", 100 * r.residentBefore(), 100 * r.residentAfter()),
                    String.format(Locale.ROOT, "%,.0f", r.readsPerSec()),
                    String.format(Locale.ROOT, "%.2f", r.p99Ms()), String.format(Locale.ROOT, "%.1f", r.cpuUsPerRead()),
                    Double.isNaN(r.readsPerSecWithHog()) ? "-" : String.format(Locale.ROOT, "%,.0f", r.readsPerSecWithHog()),
                    Double.isNaN(r.hogProgress()) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * r.hogProgress())));
        }
        for (FioRow f : res.fio()) {
            String label = "fio, io_uring, depth " + f.depth() + ", 1 job";
            if (f.skip() != null) {
                sb.append(String.format(Locale.ROOT, fmt, label, f.mode(), "-", "skipped", "-", "-", "-", "-", "-"));
                continue;
            }
            sb.append(String.format(Locale.ROOT, fmt, label, f.mode(), "-", "", String.format(Locale.ROOT, "%,.0f", f.result().iops()),
                    String.format(Locale.ROOT, "%.2f", f.result().p99Ms()), String.format(Locale.ROOT, "%.1f", f.result().cpuUsPerRead()),
                    "-", "-"));
        }
        for (Row r : res.rows()) {
            if (r.skip() != null) sb.append("skipped: ").append(r.readers().label).append(", ").append(r.mode()).append(", ")
                    .append(r.threads()).append(" threads: ").append(r.skip()).append('\n');
        }
        for (FioRow f : res.fio()) if (f.skip() != null) sb.append("skipped: fio, ").append(f.mode()).append(": ").append(f.skip()).append('\n');
        for (Row f : res.rows()) {
            if (f.readers() != Readers.FLEXSC || f.skip() != null) continue;
            Row vt = res.rows().stream().filter(x -> x.readers() == Readers.STOCK_VT && x.mode() == f.mode()
                    && x.threads() == f.threads() && x.skip() == null).findFirst().orElse(null);
            FioRow fio = res.fio().stream().filter(x -> x.mode() == f.mode() && x.skip() == null).findFirst().orElse(null);
            sb.append(String.format(Locale.ROOT, "FlexSC, %s, %d threads: %s of stock virtual threads' reads/s, %s of fio's;"
                            + " the CPU-bound green thread kept %s of its solo progress%n", f.mode(), f.threads(),
                    vt == null ? "-" : String.format(Locale.ROOT, "%.2fx", f.readsPerSec() / vt.readsPerSec()),
                    fio == null ? "-" : String.format(Locale.ROOT, "%.2fx", f.readsPerSec() / fio.result().iops()),
                    Double.isNaN(f.hogProgress()) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * f.hogProgress())));
        }
        return sb.toString();
    }
}
