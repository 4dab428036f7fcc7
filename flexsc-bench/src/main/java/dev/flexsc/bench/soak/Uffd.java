package dev.flexsc.bench.soak;

import dev.flexsc.AtFlags;
import dev.flexsc.Errno;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A userfaultfd that handles nothing on its own: a page registered with it (missing mode)
 * stays missing until {@link #fill} copies content in, so a system call that touches it in
 * the kernel (a read into it, {@code madvise(MADV_POPULATE_WRITE)} of it) sleeps there, as a
 * call on a hung FUSE or NFS server does. {@link #rearm} makes a page missing again.
 *
 * <p>{@link #open()} returns null where the kernel refuses one that handles kernel-mode
 * faults ({@code vm.unprivileged_userfaultfd=0} without CAP_SYS_PTRACE and no access to
 * /dev/userfaultfd); {@link #unavailableReason()} says why.
 */
final class Uffd implements AutoCloseable {
    private static final long UFFD_API = 0xAA;
    private static final long UFFDIO_API = 0xC018AA3FL, UFFDIO_REGISTER = 0xC020AA00L, UFFDIO_COPY = 0xC028AA03L;
    private static final long USERFAULTFD_IOC_NEW = 0xAA00L;
    private static final long UFFDIO_REGISTER_MODE_MISSING = 1;

    private static volatile String unavailable;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    /** The source page of UFFDIO_COPY. */
    private final MemorySegment src = arena.allocate(Sys.PAGE, Sys.PAGE);
    private final MemorySegment arg = arena.allocate(64, 8);

    private Uffd(int fd) {
        this.fd = fd;
    }

    /** A userfaultfd that handles kernel-mode faults, or null (see {@link #unavailableReason()}). */
    static Uffd open() {
        long fd = Sys.raw(Sys.USERFAULTFD, OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK, 0, 0, 0, 0, 0);
        String first = null;
        if (fd < 0) {
            first = "userfaultfd(2): " + Errno.symbol((int) -fd);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocateFrom("/dev/userfaultfd", StandardCharsets.UTF_8);
                long dev = Sys.raw(SyscallTable.OPENAT, AtFlags.AT_FDCWD, p.address(), OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC, 0, 0, 0);
                if (dev < 0) {
                    unavailable = first + "; /dev/userfaultfd: " + Errno.symbol((int) -dev);
                    return null;
                }
                fd = Sys.raw(Sys.IOCTL, dev, USERFAULTFD_IOC_NEW, OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK, 0, 0, 0);
                Sys.close((int) dev);
                if (fd < 0) {
                    unavailable = first + "; USERFAULTFD_IOC_NEW: " + Errno.symbol((int) -fd);
                    return null;
                }
            }
        }
        Uffd u = new Uffd((int) fd);
        u.arg.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
        u.arg.set(ValueLayout.JAVA_LONG, 8, 0);
        long r = Sys.raw(Sys.IOCTL, fd, UFFDIO_API, u.arg.address(), 0, 0, 0);
        if (r < 0) {
            u.close();
            unavailable = "UFFDIO_API: " + Errno.symbol((int) -r);
            return null;
        }
        return u;
    }

    /** Why {@link #open()} returned null (null before it did). */
    static String unavailableReason() {
        return unavailable;
    }

    /** Registers {@code region} (page-aligned) in missing mode. */
    synchronized void register(MemorySegment region) {
        arg.set(ValueLayout.JAVA_LONG, 0, region.address());
        arg.set(ValueLayout.JAVA_LONG, 8, region.byteSize());
        arg.set(ValueLayout.JAVA_LONG, 16, UFFDIO_REGISTER_MODE_MISSING);
        Sys.check(Sys.raw(Sys.IOCTL, fd, UFFDIO_REGISTER, arg.address(), 0, 0, 0), "UFFDIO_REGISTER");
    }

    /**
     * Fills the missing page at {@code page} with a copy of {@code content} (one page) and
     * wakes every thread sleeping on it; false if it was not missing (EEXIST).
     */
    synchronized boolean fill(long page, MemorySegment content) {
        MemorySegment.copy(content, 0, src, 0, Sys.PAGE);
        arg.set(ValueLayout.JAVA_LONG, 0, page);
        arg.set(ValueLayout.JAVA_LONG, 8, src.address());
        arg.set(ValueLayout.JAVA_LONG, 16, Sys.PAGE);
        arg.set(ValueLayout.JAVA_LONG, 24, 0);
        arg.set(ValueLayout.JAVA_LONG, 32, 0);
        long r = Sys.raw(Sys.IOCTL, fd, UFFDIO_COPY, arg.address(), 0, 0, 0);
        if (r == -Errno.EEXIST) return false;
        Sys.check(r, "UFFDIO_COPY");
        return true;
    }

    /** Makes the page at {@code page} missing again (its next touch sleeps until {@link #fill}). */
    static void rearm(long page) {
        Sys.check(Sys.raw(SyscallTable.MADVISE, page, Sys.PAGE, Sys.MADV_DONTNEED, 0, 0, 0), "madvise(MADV_DONTNEED)");
    }

    /**
     * Closes the descriptor: the kernel then fails every fault still waiting on it (the
     * sleeping calls return EFAULT or a short count) and resolves later ones normally.
     */
    @Override
    public void close() {
        Sys.close(fd);
        arena.close();
    }
}
