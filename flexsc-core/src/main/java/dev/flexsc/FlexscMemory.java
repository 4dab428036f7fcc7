package dev.flexsc;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory operations offloaded to a FlexSC engine.
 *
 * <p>{@link #prefault} populates a mapping ahead of the application: {@code
 * madvise(MADV_POPULATE_WRITE)} over successive chunks, posted in batches through the
 * engine by a background thread, so the page faults of a sequential first touch are taken
 * on the syscall CPU (the kernel allocates and zeroes the pages there) while the
 * application goes on. The application never waits for it: a page it reaches first simply
 * faults as usual, and the madvise of a chunk already touched finds its pages present.
 */
public final class FlexscMemory {
    private FlexscMemory() {}

    /** {@code MADV_POPULATE_WRITE} (Linux 5.14+): fault in every page of a range writable. */
    public static final int MADV_POPULATE_WRITE = 23;
    /** The page size the alignment rules use (x86-64: 4 KiB). */
    public static final long PAGE_SIZE = 4096;
    /** Default chunk: 32 pages (128 KiB) per madvise, the study's larger pre-allocation. */
    public static final long DEFAULT_CHUNK_BYTES = 32 * PAGE_SIZE;
    /** Chunks posted per batch (one engine post and one wait of the background thread). */
    static final int CHUNKS_PER_BATCH = 16;

    /**
     * Pre-faults the first {@code bytes} of {@code region} through the shared default engine
     * ({@link Flexsc#syscalls()}), in chunks of {@link #DEFAULT_CHUNK_BYTES}.
     *
     * @see #prefault(Syscalls, MemorySegment, long, long)
     */
    public static Prefault prefault(MemorySegment region, long bytes) throws IOException {
        return prefault(Flexsc.syscalls(), region, bytes, DEFAULT_CHUNK_BYTES);
    }

    /**
     * Starts populating {@code [region.address(), region.address() + bytes)} (rounded up to
     * whole pages) with {@code madvise(MADV_POPULATE_WRITE)} through {@code syscalls}, in
     * chunks of {@code chunkBytes} from the lowest address up, and returns at once. A daemon
     * thread ({@code flexsc-prefault}) posts the chunks {@value #CHUNKS_PER_BATCH} at a time
     * as one {@link SyscallBatch} and waits for each batch before the next, so at most that
     * many chunks are in flight.
     *
     * <p>The mapping must be private and writable (anonymous, or a file mapping) and stay
     * mapped until the prefault is done: unmapping it meanwhile makes the remaining chunks
     * fail with ENOMEM. The first failing chunk stops the prefault; its error is what
     * {@link Prefault#await()} throws. The region follows {@link Syscalls}' buffer rules as
     * far as they apply to memory that cannot be copied: a closed arena throws
     * IllegalStateException and another thread's confined one WrongThreadException here;
     * the prefault keeps the segment reachable until it is done, and stops with
     * IllegalStateException before a batch if the region's arena was closed meanwhile
     * (MADV_POPULATE_WRITE never changes contents, so a chunk already in flight then only
     * faults pages in).
     *
     * @param chunkBytes bytes per madvise, a positive multiple of {@link #PAGE_SIZE}
     * @throws ErrnoException EINVAL, naming madvise, if the region's address is not page
     *         aligned (nothing is posted)
     * @throws IllegalArgumentException if the region is a heap segment, {@code bytes} is
     *         negative or beyond the region, or {@code chunkBytes} is not a positive
     *         multiple of the page size
     */
    public static Prefault prefault(Syscalls syscalls, MemorySegment region, long bytes, long chunkBytes)
            throws ErrnoException {
        Objects.requireNonNull(syscalls, "syscalls");
        Objects.requireNonNull(region, "region");
        if (!region.isNative()) {
            throw new IllegalArgumentException("madvise(MADV_POPULATE_WRITE): needs a native segment (a mapping), got a heap segment");
        }
        CallMemory.inPlace(region, "madvise(MADV_POPULATE_WRITE)"); // rules 1 and 2; the advice keeps contents
        if (bytes < 0 || bytes > region.byteSize()) {
            throw new IllegalArgumentException("prefault: " + bytes + " bytes of a region of " + region.byteSize());
        }
        if (chunkBytes <= 0 || chunkBytes % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("prefault: chunkBytes " + chunkBytes + " is not a positive multiple of " + PAGE_SIZE);
        }
        if (region.address() % PAGE_SIZE != 0) {
            throw new ErrnoException(describe(region.address(), bytes) + " (the address must be page aligned)", Errno.EINVAL);
        }
        long length = (bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
        Prefault p = new Prefault(syscalls, region, length, chunkBytes);
        Thread.ofPlatform().daemon().name("flexsc-prefault").start(p::run);
        return p;
    }

    private static String describe(long addr, long len) {
        return "madvise(addr=0x" + Long.toHexString(addr) + ", len=" + len + ", MADV_POPULATE_WRITE)";
    }

    /**
     * A prefault in progress. Thread-safe.
     */
    public static final class Prefault {
        private final Syscalls syscalls;
        /** The region: kept reachable (an automatic arena's) until the prefault is done. */
        private final MemorySegment region;
        private final long address;
        private final long length;
        private final long chunk;
        private final AtomicLong populated = new AtomicLong();
        private final CompletableFuture<Long> done = new CompletableFuture<>();
        private volatile boolean cancelled;

        private Prefault(Syscalls syscalls, MemorySegment region, long length, long chunk) {
            this.syscalls = syscalls;
            this.region = region;
            this.address = region.address();
            this.length = length;
            this.chunk = chunk;
        }

        private void run() {
            try (SyscallBatch b = syscalls.batch()) {
                SyscallBatch.Result[] rs = new SyscallBatch.Result[CHUNKS_PER_BATCH];
                long[] lens = new long[CHUNKS_PER_BATCH];
                long off = 0;
                while (off < length && !cancelled) { // volatile read: cancel() stops the next batch
                    if (!region.scope().isAlive()) {
                        throw new IllegalStateException(describe(address, length) + ": the region's arena was closed"
                                + " after " + populated.get() + " bytes were populated");
                    }
                    int k = 0;
                    for (; k < CHUNKS_PER_BATCH && off < length; k++) {
                        long len = Math.min(chunk, length - off);
                        // The address is page aligned and the length a multiple of the page: no
                        // reinterpretation of the caller's segment is needed, only its address.
                        rs[k] = b.syscall(dev.flexsc.abi.SyscallTable.MADVISE, address + off, len, MADV_POPULATE_WRITE);
                        lens[k] = len;
                        off += len;
                    }
                    b.submitAndWait();
                    for (int i = 0; i < k; i++) {
                        long r = rs[i].get(); // raw: -errno
                        if (r < 0) {
                            long at = off - sumFrom(lens, i, k);
                            done.completeExceptionally(error(address + at, lens[i], (int) -r));
                            return;
                        }
                        populated.addAndGet(lens[i]);
                    }
                }
                done.complete(populated.get());
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            } finally {
                java.lang.ref.Reference.reachabilityFence(region); // its address was in flight until here
            }
        }

        private static long sumFrom(long[] lens, int from, int to) {
            long s = 0;
            for (int i = from; i < to; i++) s += lens[i];
            return s;
        }

        private static ErrnoException error(long addr, long len, int errno) {
            String call = describe(addr, len);
            if (errno == Errno.EINVAL) {
                // The range is page aligned and writable by contract: EINVAL means the advice.
                call += " (EINVAL on an aligned range: this kernel lacks MADV_POPULATE_WRITE, Linux 5.14+,"
                        + " or the mapping cannot be populated: VM_PFNMAP/VM_IO)";
            }
            return new ErrnoException(call, errno);
        }

        /** Bytes populated so far (whole chunks whose madvise returned). */
        public long bytesPopulated() {
            return populated.get();
        }

        /** Bytes this prefault covers (page-rounded). */
        public long length() {
            return length;
        }

        /** True once it finished, failed or stopped after {@link #cancel()}. */
        public boolean isDone() {
            return done.isDone();
        }

        /** True if {@link #cancel()} was called. */
        public boolean isCancelled() {
            return cancelled;
        }

        /**
         * Stops posting chunks: the batch in flight completes (its chunks stay populated), no
         * further chunk is posted; {@link #await()} then returns the bytes populated. The pages
         * not populated simply fault on first touch. Does not wait.
         */
        public void cancel() {
            cancelled = true; // volatile: read by the background thread before each batch
        }

        /**
         * Waits until the prefault is done and returns the bytes populated (all of
         * {@link #length()} unless cancelled).
         *
         * @throws ErrnoException the first chunk's error, naming madvise, its range and the errno
         * @throws EngineClosedException if the engine closed before it finished
         * @throws InterruptedIOException if the waiting thread is interrupted (the prefault goes on)
         */
        public long await() throws IOException {
            try {
                return done.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("prefault: interrupted while waiting");
            } catch (ExecutionException e) {
                throw unwrap(e);
            }
        }

        /**
         * As {@link #await()}, for at most {@code timeout}.
         *
         * @return the bytes populated, or -1 if it was not done in time
         */
        public long await(long timeout, TimeUnit unit) throws IOException {
            try {
                return done.get(timeout, unit);
            } catch (TimeoutException e) {
                return -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("prefault: interrupted while waiting");
            } catch (ExecutionException e) {
                throw unwrap(e);
            }
        }

        /** A future of the bytes populated, completed as {@link #await()} returns or throws. */
        public CompletableFuture<Long> future() {
            return done.copy();
        }

        private static IOException unwrap(ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) return io;
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            return new IOException(c);
        }

        @Override
        public String toString() {
            return "prefault " + describe(address, length) + ": " + populated.get() + " bytes populated"
                    + (cancelled ? ", cancelled" : "") + (isDone() ? ", done" : "");
        }
    }
}
