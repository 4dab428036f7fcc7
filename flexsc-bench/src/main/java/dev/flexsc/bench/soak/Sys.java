package dev.flexsc.bench.soak;

import dev.flexsc.AtFlags;
import dev.flexsc.Errno;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The soak's own system calls, made directly on the calling thread (never through an
 * engine): setting up faults (userfaultfd, rlimits, FIFOs, pipes) and checking what the
 * engines did must not depend on the engines under test. The calls' numbers are
 * {@link SyscallTable}'s; the four it does not name are here (x86-64).
 */
final class Sys {
    private Sys() {}

    static final int IOCTL = 16, MKNODAT = 259, PRLIMIT64 = 302, USERFAULTFD = 323;
    static final int MADV_DONTNEED = 4, MADV_POPULATE_WRITE = 23;
    static final int RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7;
    static final long PAGE = 4096;

    /** One raw system call: the kernel's result (-errno on failure). */
    static long raw(int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        return DirectSyscalls.raw(nr, a0, a1, a2, a3, a4, a5);
    }

    /** {@code r}, or an IllegalStateException naming the call and the errno. */
    static long check(long r, String what) {
        if (r < 0) throw new IllegalStateException(what + ": " + Errno.symbol((int) -r));
        return r;
    }

    /** A private anonymous mapping of {@code bytes}, not yet touched. */
    static MemorySegment mmapAnon(long bytes) {
        long addr = check(raw(SyscallTable.MMAP, 0, bytes, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0),
                "mmap(" + bytes + ")");
        return MemorySegment.ofAddress(addr).reinterpret(bytes);
    }

    /** pipe2(O_CLOEXEC | extra): {read end, write end}. */
    static int[] pipe(int extraFlags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8, 4);
            check(raw(SyscallTable.PIPE2, fds.address(), OpenFlags.O_CLOEXEC | extraFlags, 0, 0, 0, 0), "pipe2");
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    static void close(int fd) {
        raw(SyscallTable.CLOSE, fd, 0, 0, 0, 0, 0);
    }

    /** write(2) of {@code data}: the kernel's result. */
    static long write(int fd, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, data.length);
            return raw(SyscallTable.WRITE, fd, s.address(), data.length, 0, 0, 0);
        }
    }

    /** read(2) of up to {@code max} bytes: the bytes, or null with the errno in {@code err[0]}. */
    static byte[] read(int fd, int max, int[] err) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, max));
            long r = raw(SyscallTable.READ, fd, s.address(), max, 0, 0, 0);
            if (r < 0) {
                err[0] = (int) -r;
                return null;
            }
            return s.asSlice(0, r).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** What is in a pipe now, read without blocking (FIONREAD, then a read of that many bytes). */
    static byte[] drain(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(4, 4);
            check(raw(IOCTL, fd, 0x541B /* FIONREAD */, n.address(), 0, 0, 0), "ioctl(FIONREAD)");
            int avail = n.get(ValueLayout.JAVA_INT, 0);
            if (avail == 0) return new byte[0];
            byte[] b = read(fd, avail, new int[1]);
            return b == null ? new byte[0] : b;
        }
    }

    /** mkfifo(path, 0600) through mknodat(AT_FDCWD, path, S_IFIFO | 0600, 0). */
    static void mkfifo(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocateFrom(path, StandardCharsets.UTF_8);
            check(raw(MKNODAT, AtFlags.AT_FDCWD, p.address(), 0010000 | 0600, 0, 0, 0), "mknodat(" + path + ", S_IFIFO)");
        }
    }

    /** This process's soft and hard limit of {@code resource}. */
    static long[] getrlimit(int resource) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(16, 8);
            check(raw(PRLIMIT64, 0, resource, 0, old.address(), 0, 0), "prlimit64(get " + resource + ")");
            return new long[] {old.get(ValueLayout.JAVA_LONG, 0), old.get(ValueLayout.JAVA_LONG, 8)};
        }
    }

    /** Sets this process's soft limit of {@code resource} (the hard limit stays): 0 or -errno. */
    static long setSoftLimit(int resource, long soft) {
        long hard = getrlimit(resource)[1];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment lim = a.allocate(16, 8);
            lim.set(ValueLayout.JAVA_LONG, 0, soft);
            lim.set(ValueLayout.JAVA_LONG, 8, hard);
            return raw(PRLIMIT64, 0, resource, lim.address(), 0, 0, 0);
        }
    }
}
