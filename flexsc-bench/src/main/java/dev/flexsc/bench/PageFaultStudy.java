package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.FlexscMemory;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The seeds' page-fault study: touch every page of a large private anonymous mapping,
 * sequentially and in a random order fixed before timing, with no pre-allocation, with
 * MAP_POPULATE, with madvise(MADV_POPULATE_WRITE) in chunks of 16 and 32 pages, and with
 * that madvise offloaded through FlexSC ahead of the sequential walk
 * ({@link FlexscMemory#prefault}). Nanoseconds per page.
 */
public final class PageFaultStudy {
    private PageFaultStudy() {}

    static final int PAGE = 4096;
    private static final int NR_MMAP = dev.flexsc.abi.SyscallTable.MMAP, NR_MUNMAP = dev.flexsc.abi.SyscallTable.MUNMAP,
            NR_MADVISE = dev.flexsc.abi.SyscallTable.MADVISE;
    private static final int PROT_RW = 3, MAP_PRIVATE_ANON = 0x22, MAP_POPULATE = 0x8000;
    private static final int MADV_POPULATE_WRITE = 23;

    /** One row: how the pages were faulted in, and the cost per page. */
    public record Row(String method, String order, long pages, double nsPerPage, String note) {}

    /** Runs every variant over a mapping of {@code bytes}. */
    public static List<Row> run(long bytes) throws IOException {
        // Warm-up: JIT-compile every path and let the kernel settle its page allocator
        // before anything is timed; results discarded.
        long warm = Math.min(bytes, 32L << 20);
        walk(warm, 0, null, 0);
        walk(warm, 0, permutation((int) (warm / PAGE), 1), 0);
        walk(warm, 0, null, 16);
        offloaded(warm, 16);
        long pages = bytes / PAGE;
        int[] perm = permutation((int) pages, 1234);
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("no pre-allocation", "sequential", pages, walk(bytes, 0, null, 0), ""));
        rows.add(new Row("no pre-allocation", "random", pages, walk(bytes, 0, perm, 0), ""));
        rows.add(new Row("MAP_POPULATE (in mmap)", "sequential", pages, walk(bytes, MAP_POPULATE, null, 0),
                "includes the populate inside mmap"));
        for (int chunk : new int[] {16, 32}) {
            double ns = walk(bytes, 0, null, chunk);
            rows.add(Double.isNaN(ns)
                    ? new Row("MADV_POPULATE_WRITE x" + chunk, "sequential", pages, ns, "kernel lacks MADV_POPULATE_WRITE (5.14+)")
                    : new Row("MADV_POPULATE_WRITE x" + chunk, "sequential", pages, ns, "inline, before each chunk"));
        }
        for (int chunk : new int[] {16, 32}) {
            double ns = offloaded(bytes, chunk);
            rows.add(new Row("FlexSC offloaded MADV_POPULATE_WRITE x" + chunk, "sequential", pages, ns,
                    Double.isNaN(ns) ? "kernel lacks MADV_POPULATE_WRITE (5.14+)" : "madvise runs on the syscall CPU ahead of the walk"));
        }
        return rows;
    }

    private static long mmap(long bytes, int extraFlags) {
        long addr = DirectSyscalls.raw(NR_MMAP, 0, bytes, PROT_RW, MAP_PRIVATE_ANON | extraFlags, -1, 0);
        if (addr < 0 && addr > -4096) throw new IllegalStateException("mmap(" + bytes + "): errno " + -addr);
        return addr;
    }

    /** Touches every page; chunk > 0 populates each chunk with madvise first. NaN if madvise is unsupported. */
    private static double walk(long bytes, int mmapFlags, int[] order, int chunk) {
        long t0 = System.nanoTime();
        long addr = mmap(bytes, mmapFlags);
        try {
            MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
            long pages = bytes / PAGE;
            if (order == null) {
                for (long p = 0; p < pages; p++) {
                    if (chunk > 0 && p % chunk == 0) {
                        long len = Math.min(chunk, pages - p) * PAGE;
                        long r = DirectSyscalls.raw(NR_MADVISE, addr + p * PAGE, len, MADV_POPULATE_WRITE, 0, 0, 0);
                        if (r < 0) return Double.NaN;
                    }
                    m.set(ValueLayout.JAVA_BYTE, p * PAGE, (byte) 1);
                }
            } else {
                for (int p : order) m.set(ValueLayout.JAVA_BYTE, (long) p * PAGE, (byte) 1);
            }
            return (System.nanoTime() - t0) / (double) pages;
        } finally {
            DirectSyscalls.raw(NR_MUNMAP, addr, bytes, 0, 0, 0, 0);
        }
    }

    /**
     * The walker touches pages while {@link FlexscMemory#prefault} populates the mapping
     * ahead of it with madvise(MADV_POPULATE_WRITE) in chunks of {@code chunk} pages, posted
     * in batches through FlexSC, so the faults are taken on the syscall CPU. The walker never
     * waits for the prefault: a page it reaches first simply faults as usual. Timed: mmap,
     * starting the prefault, and the walk (not the prefault's tail, if the walker finished
     * first; it is cancelled then).
     */
    private static double offloaded(long bytes, int chunk) throws IOException {
        FlexscConfig cfg = FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).callerSpin(0)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build(); // the offload must be posted
        try (FlexscEngine engine = SyscallThreadsEngine.open(cfg)) {
            long pages = bytes / PAGE;
            long t0 = System.nanoTime();
            long addr = mmap(bytes, 0);
            try {
                MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
                FlexscMemory.Prefault prefault = FlexscMemory.prefault(engine.syscalls(), m, bytes, (long) chunk * PAGE);
                for (long p = 0; p < pages; p++) {
                    m.set(ValueLayout.JAVA_BYTE, p * PAGE, (byte) 1);
                }
                long walkerDone = System.nanoTime();
                prefault.cancel();
                try {
                    prefault.await(); // before munmap
                } catch (dev.flexsc.ErrnoException e) {
                    if (e.errno() == dev.flexsc.Errno.EINVAL) return Double.NaN; // no MADV_POPULATE_WRITE
                    throw e;
                }
                return (walkerDone - t0) / (double) pages;
            } finally {
                DirectSyscalls.raw(NR_MUNMAP, addr, bytes, 0, 0, 0, 0);
            }
        }
    }

    static int[] permutation(int n, long seed) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** Rows as a table. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-42s %-11s %9s %12s  %s%n";
        sb.append(String.format(Locale.ROOT, fmt, "page faults", "order", "pages", "ns/page", "note"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.method(), r.order(), r.pages(),
                    Double.isNaN(r.nsPerPage()) ? "n/a" : String.format(Locale.ROOT, "%.0f", r.nsPerPage()), r.note()));
        }
        return sb.toString();
    }
}
