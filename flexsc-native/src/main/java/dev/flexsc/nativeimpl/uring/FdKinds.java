package dev.flexsc.nativeimpl.uring;

import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;

/**
 * What the io_uring engines must know about a descriptor where io_uring would not behave as
 * the syscall does, asked of the kernel directly (one system call each, on the calling
 * thread): only on the paths that need it, never per read or write of a ready descriptor.
 */
final class FdKinds {
    private FdKinds() {}

    private static final int SEEK_CUR = 1, F_GETFL = 3;
    private static final int STAT_SIZE = 144, STAT_MODE = 24, STAT_RDEV = 40;
    private static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFBLK = 0060000, S_IFCHR = 0020000;
    /** The memory devices (major 1) whose read(2) never returns less than asked: zero, full, random, urandom. */
    private static final int MEM_MAJOR = 1, ZERO = 5, FULL = 7, RANDOM = 8, URANDOM = 9;

    /**
     * True if pread64/pwrite64 on {@code fd} takes its offset, as the syscalls check it
     * (FMODE_PREAD): lseek(fd, 0, SEEK_CUR) succeeds exactly on descriptors that may seek,
     * and has no effect. False for pipes, FIFOs, sockets, ttys, and a bad descriptor (the
     * fallback then returns the syscall's own errno: ESPIPE, EBADF).
     */
    static boolean seekable(long fd) {
        return fd >= 0 && fd <= Integer.MAX_VALUE && DirectSyscalls.raw(SyscallTable.LSEEK, fd, 0, SEEK_CUR, 0, 0, 0) >= 0;
    }

    /** True if {@code fd} has O_NONBLOCK set (false if it cannot be asked: the call then reports the error). */
    static boolean nonBlocking(long fd) {
        long fl = DirectSyscalls.raw(SyscallTable.FCNTL, fd, F_GETFL, 0, 0, 0, 0);
        return fl >= 0 && (fl & OpenFlags.O_NONBLOCK) != 0;
    }

    /**
     * True if a read or write on {@code fd} that cannot proceed now waits, as the syscall
     * does: the descriptor is not O_NONBLOCK, or it is a regular file or block device (where
     * O_NONBLOCK has no effect). False: the syscall would fail with EAGAIN (or return a short
     * count) at once.
     */
    static boolean waitsWhenNotReady(long fd) {
        return !nonBlocking(fd) || regularOrBlock(fd);
    }

    /**
     * True if {@code fd} is a regular file or block device (page-cache I/O, where O_NONBLOCK
     * has no effect and a read is short only at the end of the file). True also if fstat
     * fails: the caller then takes the syscall's own path.
     */
    static boolean regularOrBlock(long fd) {
        long[] st = typeAndRdev(fd);
        return st == null || st[0] == S_IFREG || st[0] == S_IFBLK;
    }

    /** What {@link #shortReads} says: another file; a regular file or block device; a memory device. */
    static final int OTHER = 0, PAGE_CACHE = 1, MEMORY_DEVICE = 2;

    /**
     * Where read(2) of {@code fd} returns less than asked only at the end of the data, while a
     * read that may not wait (RWF_NOWAIT, io_uring's first try) stops early:
     * {@link #PAGE_CACHE} for a regular file or block device (at a page not in the cache;
     * also if fstat fails: the caller then takes the syscall's own path), and
     * {@link #MEMORY_DEVICE} for /dev/zero, /dev/full, /dev/random and /dev/urandom (after a
     * page when a reschedule is due, every time). {@link #OTHER}: a short read is the answer.
     */
    static int shortReads(long fd) {
        long[] st = typeAndRdev(fd);
        if (st == null || st[0] == S_IFREG || st[0] == S_IFBLK) return PAGE_CACHE;
        if (st[0] != S_IFCHR) return OTHER;
        long rdev = st[1];
        long major = dev.flexsc.Stat.major(rdev), minor = dev.flexsc.Stat.minor(rdev);
        boolean mem = major == MEM_MAJOR && (minor == ZERO || minor == FULL || minor == RANDOM || minor == URANDOM);
        return mem ? MEMORY_DEVICE : OTHER;
    }

    /** fstat(2): {file type bits, st_rdev}, or null if it fails. */
    private static long[] typeAndRdev(long fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STAT_SIZE, 8);
            if (DirectSyscalls.raw(SyscallTable.FSTAT, fd, st.address(), 0, 0, 0, 0) < 0) return null;
            return new long[] {st.get(ValueLayout.JAVA_INT, STAT_MODE) & S_IFMT, st.get(ValueLayout.JAVA_LONG, STAT_RDEV)};
        }
    }
}
