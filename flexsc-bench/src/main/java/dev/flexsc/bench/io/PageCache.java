package dev.flexsc.bench.io;

import dev.flexsc.ErrnoException;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes a file cold (its pages out of the page cache) and checks that it is. Two ways:
 * {@link Method#DROP_CACHES} writes 1 to /proc/sys/vm/drop_caches (every clean page-cache
 * page of the machine, as the published cold-read measurements do; needs root), and
 * {@link Method#FADVISE} calls posix_fadvise(POSIX_FADV_DONTNEED) on the file alone (any
 * user; drops the file's clean, unmapped pages, which is all a read-only benchmark file
 * has). Either way {@link #residentShare(Path)} asks mincore(2) how much is still cached.
 */
public final class PageCache {
    private PageCache() {}

    /** How the cache is dropped. */
    public enum Method { DROP_CACHES, FADVISE }

    static final Path DROP_CACHES = Path.of("/proc/sys/vm/drop_caches");
    private static final int POSIX_FADV_DONTNEED = 4, PROT_READ = 1, MAP_SHARED = 1;
    private static final long PAGE = 4096;

    /** Null if /proc/sys/vm/drop_caches can be written here, else why not. */
    public static String dropCachesUnavailable() {
        if (!Files.isWritable(DROP_CACHES)) {
            return DROP_CACHES + " is not writable here (needs root outside a read-only /proc)";
        }
        return null;
    }

    /** Drops {@code file}'s pages from the page cache by {@code method}. */
    public static void drop(Path file, Method method) throws IOException {
        Syscalls sys = DirectSyscalls.syscalls();
        int fd = sys.openat(Syscalls.AT_FDCWD, file.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
        try {
            if (method == Method.DROP_CACHES) {
                sys.fdatasync(fd); // dirty pages cannot be dropped: write them back first
                Files.writeString(DROP_CACHES, "1");
            } else {
                sys.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            }
        } finally {
            sys.close(fd);
        }
    }

    /** The share (0..1) of {@code file}'s pages in the page cache now, from mincore(2) over a read-only mapping. */
    public static double residentShare(Path file) throws IOException {
        long size = Files.size(file);
        if (size == 0) return 0;
        Syscalls sys = DirectSyscalls.syscalls();
        int fd = sys.openat(Syscalls.AT_FDCWD, file.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            long addr = DirectSyscalls.raw(SyscallTable.MMAP, 0, size, PROT_READ, MAP_SHARED, fd, 0);
            if (addr < 0 && addr > -4096) throw new ErrnoException("mmap(" + file + ")", (int) -addr);
            try {
                long pages = (size + PAGE - 1) / PAGE;
                MemorySegment vec = a.allocate(pages);
                long r = DirectSyscalls.raw(SyscallTable.MINCORE, addr, size, vec.address(), 0, 0, 0);
                if (r < 0) throw new ErrnoException("mincore(" + file + ")", (int) -r);
                long resident = 0;
                for (long i = 0; i < pages; i++) resident += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
                return (double) resident / pages;
            } finally {
                DirectSyscalls.raw(SyscallTable.MUNMAP, addr, size, 0, 0, 0, 0);
            }
        } finally {
            sys.close(fd);
        }
    }
}
