package dev.flexsc.nativeimpl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Anonymous memory registered with userfaultfd (missing-page mode): a kernel access to a
 * page not yet present waits until the test {@linkplain #release() resolves} it. {@code
 * madvise(MADV_POPULATE_WRITE)} over it is a system call that nothing but SIGKILL ends (the
 * fault waits killable, not interruptible): it stands for a call stuck in the kernel on
 * FUSE or NFS, which neither a cancel signal nor io_uring's cancel can end.
 */
public final class UserfaultRegion implements AutoCloseable {
    private static final int NR_MMAP = 9, NR_MUNMAP = 11, NR_IOCTL = 16, NR_USERFAULTFD = 323, NR_CLOSE = 3;
    private static final long UFFDIO_API = 0xc018aa3fL, UFFDIO_REGISTER = 0xc020aa00L, UFFDIO_ZEROPAGE = 0xc020aa04L;
    private static final long UFFD_API = 0xAA, UFFDIO_REGISTER_MODE_MISSING = 1;
    private static final int O_CLOEXEC = 02000000, O_NONBLOCK = 04000;
    /** madvise advice that faults every page of a range in, writable (Linux 5.14+). */
    public static final int MADV_POPULATE_WRITE = 23;

    private final long address, length;
    private final int uffd;

    private UserfaultRegion(long address, long length, int uffd) {
        this.address = address;
        this.length = length;
        this.uffd = uffd;
    }

    /** A registered region of {@code pages} pages, or null with the reason in {@code why[0]}. */
    public static UserfaultRegion open(int pages, String[] why) {
        long len = pages * 4096L;
        long addr = DirectSyscalls.raw(NR_MMAP, 0, len, 3 /* RW */, 0x22 /* PRIVATE|ANON */, -1, 0);
        if (addr < 0) throw new IllegalStateException("mmap: " + addr);
        long fd = DirectSyscalls.raw(NR_USERFAULTFD, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);
        if (fd < 0) {
            DirectSyscalls.raw(NR_MUNMAP, addr, len, 0, 0, 0, 0);
            why[0] = "userfaultfd: errno " + -fd + " (needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1)";
            return null;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment api = a.allocate(24, 8);
            api.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
            long r = DirectSyscalls.raw(NR_IOCTL, fd, UFFDIO_API, api.address(), 0, 0, 0);
            MemorySegment reg = a.allocate(32, 8);
            reg.set(ValueLayout.JAVA_LONG, 0, addr);
            reg.set(ValueLayout.JAVA_LONG, 8, len);
            reg.set(ValueLayout.JAVA_LONG, 16, UFFDIO_REGISTER_MODE_MISSING);
            if (r == 0) r = DirectSyscalls.raw(NR_IOCTL, fd, UFFDIO_REGISTER, reg.address(), 0, 0, 0);
            if (r != 0) {
                DirectSyscalls.raw(NR_CLOSE, fd, 0, 0, 0, 0, 0);
                DirectSyscalls.raw(NR_MUNMAP, addr, len, 0, 0, 0, 0);
                why[0] = "UFFDIO_API/REGISTER: errno " + -r;
                return null;
            }
        }
        return new UserfaultRegion(addr, len, (int) fd);
    }

    /** The region (global scope: it lives until {@link #close()}). */
    public MemorySegment segment() {
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    /** Resolves every missing page with zeros: the faults waiting on the region go on. */
    public void release() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment z = a.allocate(32, 8);
            z.set(ValueLayout.JAVA_LONG, 0, address);
            z.set(ValueLayout.JAVA_LONG, 8, length);
            long r = DirectSyscalls.raw(NR_IOCTL, uffd, UFFDIO_ZEROPAGE, z.address(), 0, 0, 0);
            if (r < 0 && r != -17 /* EEXIST: populated meanwhile */) throw new IllegalStateException("UFFDIO_ZEROPAGE: " + r);
        }
    }

    @Override
    public void close() {
        DirectSyscalls.raw(NR_CLOSE, uffd, 0, 0, 0, 0, 0); // wakes any fault still waiting
        DirectSyscalls.raw(NR_MUNMAP, address, length, 0, 0, 0, 0);
    }
}
