package dev.flexsc.nativeimpl;

import dev.flexsc.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two pages, A present and B registered with userfaultfd as missing: a read into
 * {@link #straddling()} copies into A, then sleeps in the fault on B until {@link #release()}
 * fills B (a mapped file on a hung FUSE or NFS server in life). Root only: an unprivileged
 * userfaultfd cannot catch kernel-mode faults unless vm.unprivileged_userfaultfd=1; a test
 * that asks for one elsewhere is skipped with the reason.
 */
public final class StuckPage implements AutoCloseable {
    private static final long UFFDIO_API = 0xC018AA3FL, UFFDIO_REGISTER = 0xC020AA00L, UFFDIO_COPY = 0xC028AA03L;
    private static final int IOCTL = 16, MMAP = 9, MUNMAP = 11, CLOSE = 3, USERFAULTFD = 323;
    private static final int O_CLOEXEC = 02000000, O_NONBLOCK = 04000, PAGE = 4096;

    private final long uffd;
    private final long pages;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment arg = arena.allocate(64, 8);

    private StuckPage(long uffd) {
        this.uffd = uffd;
        arg.set(ValueLayout.JAVA_LONG, 0, 0xAA); // UFFD_API
        assertEquals(0, DirectSyscalls.raw(IOCTL, uffd, UFFDIO_API, arg.address(), 0, 0, 0), "UFFDIO_API");
        pages = DirectSyscalls.raw(MMAP, 0, 2 * PAGE, 3, 0x22, -1, 0); // PROT_READ|WRITE, PRIVATE|ANONYMOUS
        MemorySegment.ofAddress(pages).reinterpret(PAGE).fill((byte) 1); // page A present, page B missing
        arg.set(ValueLayout.JAVA_LONG, 0, pages + PAGE);
        arg.set(ValueLayout.JAVA_LONG, 8, PAGE);
        arg.set(ValueLayout.JAVA_LONG, 16, 1); // UFFDIO_REGISTER_MODE_MISSING
        assertEquals(0, DirectSyscalls.raw(IOCTL, uffd, UFFDIO_REGISTER, arg.address(), 0, 0, 0), "UFFDIO_REGISTER");
    }

    /** Sets one up, or skips the calling test with the reason userfaultfd was refused. */
    public static StuckPage openOrSkip() {
        long uffd = DirectSyscalls.raw(USERFAULTFD, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0);
        assumeTrue(uffd >= 0, "userfaultfd: " + Errno.symbol((int) -uffd) + " (needs CAP_SYS_PTRACE or"
                + " vm.unprivileged_userfaultfd=1 to catch kernel-mode faults)");
        return new StuckPage(uffd);
    }

    /** A page-sized buffer over the last half of A and the first half of B. */
    public MemorySegment straddling() {
        return MemorySegment.ofAddress(pages + PAGE / 2).reinterpret(PAGE);
    }

    /** Fills B: a call asleep in its fault goes on. */
    public void release() {
        MemorySegment src = arena.allocate(PAGE, PAGE);
        arg.set(ValueLayout.JAVA_LONG, 0, pages + PAGE);
        arg.set(ValueLayout.JAVA_LONG, 8, src.address());
        arg.set(ValueLayout.JAVA_LONG, 16, PAGE);
        arg.set(ValueLayout.JAVA_LONG, 24, 0);
        DirectSyscalls.raw(IOCTL, uffd, UFFDIO_COPY, arg.address(), 0, 0, 0);
    }

    /** Closes the userfaultfd (a fault still waiting fails with EFAULT) and unmaps the pages. */
    @Override
    public void close() {
        DirectSyscalls.raw(CLOSE, uffd, 0, 0, 0, 0, 0);
        DirectSyscalls.raw(MUNMAP, pages, 2 * PAGE, 0, 0, 0, 0);
        arena.close();
    }
}
