package dev.flexsc.nativeimpl.uring;

import dev.flexsc.ErrnoException;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;
import static dev.flexsc.abi.SyscallTable.CLOSE;
import static dev.flexsc.abi.SyscallTable.IO_URING_ENTER;
import static dev.flexsc.abi.SyscallTable.IO_URING_REGISTER;
import static dev.flexsc.abi.SyscallTable.IO_URING_SETUP;
import static dev.flexsc.abi.SyscallTable.MMAP;
import static dev.flexsc.abi.SyscallTable.MUNMAP;

/**
 * One io_uring instance: the control plane (io_uring_setup, mmap, io_uring_enter,
 * io_uring_register, close: FFM downcalls through {@link DirectSyscalls#raw}) and
 * {@link MemorySegment} views of the shared rings. The data plane (writing SQEs, moving
 * the SQ tail, reading CQEs, moving the CQ head) is done by {@link UringEngine} with
 * the accessors here; none of them is a native call.
 *
 * <p>Field names follow the ring's ownership: {@code sq tail} and {@code cq head} are
 * written by us, {@code sq head}, {@code sq flags} and {@code cq tail} by the kernel.
 * Not thread-safe by itself: each ring has one owner at a time (a carrier, or the thread
 * that borrowed it).
 */
final class IoUring implements AutoCloseable {
    static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    final int fd;
    final int features;
    final int sqEntries;
    final int sqMask;
    final int cqEntries;
    final int cqMask;

    private final long ringAddr;
    private final long ringSize;
    private final long sqesAddr;
    private final long sqesSize;
    private final Arena arena = Arena.ofShared();
    /** SQ ring and CQ ring (one mapping: FEAT_SINGLE_MMAP). */
    final MemorySegment ring;
    /** The SQE array. */
    final MemorySegment sqes;

    final long sqHeadOff, sqTailOff, sqFlagsOff;
    final long cqHeadOff, cqTailOff, cqesOff;

    private IoUring(int fd, MemorySegment p, long ringAddr, long ringSize, long sqesAddr, long sqesSize) {
        this.fd = fd;
        this.features = p.get(ValueLayout.JAVA_INT, PARAMS_FEATURES);
        this.ringAddr = ringAddr;
        this.ringSize = ringSize;
        this.sqesAddr = sqesAddr;
        this.sqesSize = sqesSize;
        this.ring = MemorySegment.ofAddress(ringAddr).reinterpret(ringSize, arena, null);
        this.sqes = MemorySegment.ofAddress(sqesAddr).reinterpret(sqesSize, arena, null);
        long sq = PARAMS_SQ_OFF, cq = PARAMS_CQ_OFF;
        sqHeadOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, sq + SQOFF_HEAD));
        sqTailOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, sq + SQOFF_TAIL));
        sqFlagsOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, sq + SQOFF_FLAGS));
        long sqArrayOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, sq + SQOFF_ARRAY));
        cqHeadOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, cq + CQOFF_HEAD));
        cqTailOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, cq + CQOFF_TAIL));
        cqesOff = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, cq + CQOFF_CQES));
        // The kernel never changes masks and entries after setup: plain reads.
        sqMask = ring.get(ValueLayout.JAVA_INT, Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, sq + SQOFF_RING_MASK)));
        sqEntries = ring.get(ValueLayout.JAVA_INT, Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, sq + SQOFF_RING_ENTRIES)));
        cqMask = ring.get(ValueLayout.JAVA_INT, Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, cq + CQOFF_RING_MASK)));
        cqEntries = ring.get(ValueLayout.JAVA_INT, Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, cq + CQOFF_RING_ENTRIES)));
        // The SQ index array maps ring slot i to SQE i, once and for all (as liburing does):
        // the producer then only writes SQEs and the tail.
        for (int i = 0; i < sqEntries; i++) {
            ring.set(ValueLayout.JAVA_INT, sqArrayOff + 4L * i, i);
        }
    }

    /**
     * io_uring_setup + mmap of both regions.
     *
     * @param sqEntries SQ size (rounded up to a power of two by the kernel)
     * @param cqEntries CQ size, or 0 for the kernel's default (twice the SQ)
     * @param flags setup flags (SQPOLL, SQ_AFF)
     * @param sqThreadCpu CPU of the SQ polling thread (with SQ_AFF)
     * @param sqThreadIdleMillis idle time before the SQ polling thread sleeps (with SQPOLL)
     * @throws ErrnoException naming io_uring_setup or mmap and the errno
     */
    static IoUring setup(int sqEntries, int cqEntries, int flags, int sqThreadCpu, int sqThreadIdleMillis)
            throws ErrnoException {
        return setup(sqEntries, cqEntries, flags, sqThreadCpu, sqThreadIdleMillis, -1);
    }

    /**
     * {@link #setup(int, int, int, int, int)} attached to the ring {@code wqFd} (with
     * {@link IoUringDescriptor#SETUP_ATTACH_WQ} in {@code flags}: an SQPOLL ring then shares
     * that ring's polling thread).
     */
    static IoUring setup(int sqEntries, int cqEntries, int flags, int sqThreadCpu, int sqThreadIdleMillis, int wqFd)
            throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PARAMS_SIZE, 8);
            int f = flags | (cqEntries > 0 ? SETUP_CQSIZE : 0);
            p.set(ValueLayout.JAVA_INT, PARAMS_FLAGS, f);
            p.set(ValueLayout.JAVA_INT, PARAMS_CQ_ENTRIES, cqEntries);
            p.set(ValueLayout.JAVA_INT, PARAMS_SQ_THREAD_CPU, sqThreadCpu);
            p.set(ValueLayout.JAVA_INT, PARAMS_SQ_THREAD_IDLE, sqThreadIdleMillis);
            p.set(ValueLayout.JAVA_INT, PARAMS_WQ_FD, wqFd);
            long r = DirectSyscalls.raw(IO_URING_SETUP, sqEntries, p.address(), 0, 0, 0, 0);
            if (r < 0) {
                throw new ErrnoException("io_uring_setup(entries=" + sqEntries + ", flags=0x" + Integer.toHexString(f) + ")",
                        (int) -r);
            }
            int fd = (int) r;
            int features = p.get(ValueLayout.JAVA_INT, PARAMS_FEATURES);
            if ((features & FEAT_SINGLE_MMAP) == 0) {
                DirectSyscalls.raw(CLOSE, fd, 0, 0, 0, 0, 0);
                throw new ErrnoException("io_uring_setup: kernel without IORING_FEAT_SINGLE_MMAP (Linux < 5.4)", 95);
            }
            int sqN = p.get(ValueLayout.JAVA_INT, PARAMS_SQ_ENTRIES), cqN = p.get(ValueLayout.JAVA_INT, PARAMS_CQ_ENTRIES);
            long sqRingSize = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, PARAMS_SQ_OFF + SQOFF_ARRAY)) + 4L * sqN;
            long cqRingSize = Integer.toUnsignedLong(p.get(ValueLayout.JAVA_INT, PARAMS_CQ_OFF + CQOFF_CQES)) + (long) CQE_SIZE * cqN;
            long ringSize = Math.max(sqRingSize, cqRingSize);
            long sqesSize = (long) SQE_SIZE * sqN;
            long ringAddr = mmap(fd, ringSize, OFF_SQ_RING);
            if (ringAddr < 0) {
                DirectSyscalls.raw(CLOSE, fd, 0, 0, 0, 0, 0);
                throw new ErrnoException("mmap(io_uring rings, " + ringSize + " bytes)", (int) -ringAddr);
            }
            long sqesAddr = mmap(fd, sqesSize, OFF_SQES);
            if (sqesAddr < 0) {
                DirectSyscalls.raw(MUNMAP, ringAddr, ringSize, 0, 0, 0, 0);
                DirectSyscalls.raw(CLOSE, fd, 0, 0, 0, 0, 0);
                throw new ErrnoException("mmap(io_uring SQEs, " + sqesSize + " bytes)", (int) -sqesAddr);
            }
            return new IoUring(fd, p, ringAddr, ringSize, sqesAddr, sqesSize);
        }
    }

    private static long mmap(int fd, long size, long offset) {
        final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_POPULATE = 0x8000;
        return DirectSyscalls.raw(MMAP, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
    }

    /**
     * IORING_REGISTER_EVENTFD ({@code fd >= 0}): every CQE posted to this ring from now on
     * also signals the eventfd {@code fd}; IORING_UNREGISTER_EVENTFD ({@code fd < 0}) stops it.
     * Returns the raw result.
     */
    long registerEventfd(int fd) {
        if (fd < 0) return DirectSyscalls.raw(IO_URING_REGISTER, this.fd, UNREGISTER_EVENTFD, 0, 0, 0, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocateFrom(ValueLayout.JAVA_INT, fd);
            return DirectSyscalls.raw(IO_URING_REGISTER, this.fd, REGISTER_EVENTFD, v.address(), 1, 0, 0);
        }
    }

    /** The ring's flags word (kernel-written: NEED_WAKEUP, CQ_OVERFLOW, TASKRUN); an acquire load. */
    int sqFlags() {
        // Acquire: the kernel sets these bits with atomic or locked stores; our later reads of
        // the CQ stay after this load.
        return (int) INT.getAcquire(ring, sqFlagsOff);
    }

    /** io_uring_enter without an extended argument: the raw result (count or -errno). */
    long enter(int toSubmit, int minComplete, int flags) {
        return DirectSyscalls.raw(IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
    }

    /**
     * io_uring_enter(GETEVENTS) waiting for {@code minComplete} completions at most
     * {@code timeoutNanos} (IORING_ENTER_EXT_ARG with a timespec; needs IORING_FEAT_EXT_ARG).
     * Returns the raw result: -ETIME on timeout, -EINTR on a signal.
     */
    long enterWait(int toSubmit, int minComplete, long timeoutNanos, MemorySegment scratch) {
        return enterWait(toSubmit, minComplete, timeoutNanos, scratch, 0);
    }

    /** {@link #enterWait(int, int, long, MemorySegment)} with more enter flags (IORING_ENTER_SQ_WAKEUP). */
    long enterWait(int toSubmit, int minComplete, long timeoutNanos, MemorySegment scratch, int extraFlags) {
        // scratch: 24 bytes of io_uring_getevents_arg then 16 bytes of timespec, owned by the caller.
        MemorySegment ts = scratch.asSlice(GETEVENTS_ARG_SIZE, TIMESPEC_SIZE);
        ts.set(ValueLayout.JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
        ts.set(ValueLayout.JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
        scratch.set(ValueLayout.JAVA_LONG, 0, 0L);
        scratch.set(ValueLayout.JAVA_LONG, 8, 0L);
        scratch.set(ValueLayout.JAVA_LONG, GETEVENTS_ARG_TS, ts.address());
        return DirectSyscalls.raw(IO_URING_ENTER, fd, toSubmit, minComplete,
                ENTER_GETEVENTS | ENTER_EXT_ARG | extraFlags, scratch.address(), GETEVENTS_ARG_SIZE);
    }

    /** Bytes {@link #enterWait} needs as scratch. */
    static final int WAIT_SCRATCH_SIZE = GETEVENTS_ARG_SIZE + TIMESPEC_SIZE;

    /**
     * IORING_REGISTER_PROBE: which opcodes this kernel supports.
     *
     * @return supported[op] for op in 0..255
     */
    boolean[] probeOpcodes() throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment probe = a.allocate(PROBE_HEADER_SIZE + (long) PROBE_OP_SIZE * PROBE_OPS, 8);
            long r = DirectSyscalls.raw(IO_URING_REGISTER, fd, REGISTER_PROBE, probe.address(), PROBE_OPS, 0, 0);
            if (r < 0) throw new ErrnoException("io_uring_register(IORING_REGISTER_PROBE)", (int) -r);
            int last = Byte.toUnsignedInt(probe.get(ValueLayout.JAVA_BYTE, PROBE_LAST_OP));
            boolean[] supported = new boolean[PROBE_OPS];
            for (int op = 0; op <= last && op < PROBE_OPS; op++) {
                int flags = Short.toUnsignedInt(probe.get(ValueLayout.JAVA_SHORT,
                        PROBE_HEADER_SIZE + (long) op * PROBE_OP_SIZE + PROBE_OP_FLAGS));
                supported[op] = (flags & PROBE_OP_SUPPORTED) != 0;
            }
            return supported;
        }
    }

    /**
     * IORING_REGISTER_IOWQ_AFF: the CPUs the ring's io-wq workers (which run the requests
     * that cannot complete without blocking) may use. For SQPOLL rings this is the polling
     * thread's io-wq (Linux 5.15+).
     */
    long registerIoWqAffinity(int[] cpus) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(128, 8); // cpu_set_t: 1024 bits
            for (int c : cpus) {
                if (c < 0 || c >= 1024) continue;
                long w = set.get(ValueLayout.JAVA_LONG, (c >>> 6) * 8L);
                set.set(ValueLayout.JAVA_LONG, (c >>> 6) * 8L, w | (1L << (c & 63)));
            }
            return DirectSyscalls.raw(IO_URING_REGISTER, fd, REGISTER_IOWQ_AFF, set.address(), set.byteSize(), 0, 0);
        }
    }

    boolean hasFeature(int feature) {
        return (features & feature) == feature;
    }

    /** Unmaps both regions and closes the ring fd (the kernel then cancels what is left). */
    @Override
    public void close() {
        arena.close(); // stale accesses now throw instead of touching unmapped memory
        DirectSyscalls.raw(MUNMAP, sqesAddr, sqesSize, 0, 0, 0, 0);
        DirectSyscalls.raw(MUNMAP, ringAddr, ringSize, 0, 0, 0, 0);
        DirectSyscalls.raw(CLOSE, fd, 0, 0, 0, 0, 0);
    }
}
