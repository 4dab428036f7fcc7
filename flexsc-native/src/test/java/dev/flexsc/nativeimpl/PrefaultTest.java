package dev.flexsc.nativeimpl;

import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.FlexscMemory;
import dev.flexsc.Flexsc;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.abi.SyscallTable.MINCORE;
import static dev.flexsc.abi.SyscallTable.MMAP;
import static dev.flexsc.abi.SyscallTable.MUNMAP;

/** FlexscMemory.prefault: pages resident and zero afterwards, cancel, and the errors. */
class PrefaultTest {
    private static final int PROT_RW = 3, MAP_PRIVATE_ANON = 0x22;
    private static final long PAGE = 4096;

    private static long mmap(long bytes) {
        long addr = DirectSyscalls.raw(MMAP, 0, bytes, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
        assertTrue(addr > 0 || addr < -4096, "mmap: errno " + -addr);
        return addr;
    }

    /** Pages of [addr, addr+bytes) resident now, by mincore(2). */
    private static long resident(long addr, long bytes) {
        long pages = bytes / PAGE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment vec = a.allocate(pages);
            long r = DirectSyscalls.raw(MINCORE, addr, bytes, vec.address(), 0, 0, 0);
            assertEquals(0, r, "mincore");
            long n = 0;
            for (long p = 0; p < pages; p++) n += vec.get(ValueLayout.JAVA_BYTE, p) & 1;
            return n;
        }
    }

    private static FlexscEngine open(Engine kind) throws Exception {
        // EXCEPTIONLESS (TestSupport.config): tests the engine, not the call policy
        return TestSupport.openEngine(TestSupport.config(kind));
    }

    private static void assumePopulateWrite() {
        long addr = mmap(PAGE);
        long r = DirectSyscalls.raw(28, addr, PAGE, FlexscMemory.MADV_POPULATE_WRITE, 0, 0, 0);
        DirectSyscalls.raw(MUNMAP, addr, PAGE, 0, 0, 0, 0);
        if (r != 0) System.out.println("skipped: madvise(MADV_POPULATE_WRITE) returned " + r + " (Linux 5.14+)");
        Assumptions.assumeTrue(r == 0, "kernel lacks MADV_POPULATE_WRITE");
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL"})
    @Timeout(60)
    void everyPageIsResidentAndZeroAfterwards(Engine kind) throws Exception {
        assumePopulateWrite();
        long bytes = 64L << 20;
        try (FlexscEngine e = open(kind)) {
            long addr = mmap(bytes);
            try {
                assertEquals(0, resident(addr, bytes), "fresh anonymous mapping");
                MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
                FlexscMemory.Prefault p = FlexscMemory.prefault(e.syscalls(), m, bytes, 16 * PAGE);
                assertEquals(bytes, p.await());
                assertTrue(p.isDone());
                assertEquals(bytes, p.bytesPopulated());
                assertEquals(bytes / PAGE, resident(addr, bytes), "pages resident after prefault");
                for (long off = 0; off < bytes; off += 512) assertEquals(0L, m.get(ValueLayout.JAVA_LONG, off));
                assertEquals(bytes, p.future().get());
            } finally {
                DirectSyscalls.raw(MUNMAP, addr, bytes, 0, 0, 0, 0);
            }
        }
    }

    @Test
    @Timeout(60)
    void aPartialLengthIsRoundedUpToWholePages() throws Exception {
        assumePopulateWrite();
        try (FlexscEngine e = open(Engine.SYSCALL_THREADS)) {
            long bytes = 64 * PAGE;
            long addr = mmap(bytes);
            try {
                MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
                FlexscMemory.Prefault p = FlexscMemory.prefault(e.syscalls(), m, 10 * PAGE + 1, 4 * PAGE);
                assertEquals(11 * PAGE, p.await());
                assertEquals(11, resident(addr, bytes));
            } finally {
                DirectSyscalls.raw(MUNMAP, addr, bytes, 0, 0, 0, 0);
            }
        }
    }

    @Test
    @Timeout(60)
    void cancelStopsPostingChunks() throws Exception {
        assumePopulateWrite();
        long bytes = 256L << 20;
        try (FlexscEngine e = open(Engine.SYSCALL_THREADS)) {
            long addr = mmap(bytes);
            try {
                MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
                FlexscMemory.Prefault p = FlexscMemory.prefault(e.syscalls(), m, bytes, PAGE); // 65,536 chunks
                p.cancel();
                long got = p.await();
                assertTrue(p.isCancelled());
                assertTrue(got < bytes, "populated " + got + " of " + bytes + " after an immediate cancel");
                assertEquals(got / PAGE, resident(addr, bytes));
            } finally {
                DirectSyscalls.raw(MUNMAP, addr, bytes, 0, 0, 0, 0);
            }
        }
    }

    @Test
    @Timeout(30)
    void anUnalignedAddressIsEinvalNamingMadvise() throws Exception {
        try (FlexscEngine e = open(Engine.SYSCALL_THREADS)) {
            long addr = mmap(4 * PAGE);
            try {
                MemorySegment m = MemorySegment.ofAddress(addr + 8).reinterpret(PAGE);
                ErrnoException x = assertThrows(ErrnoException.class, () -> FlexscMemory.prefault(e.syscalls(), m, PAGE, PAGE));
                assertEquals(Errno.EINVAL, x.errno());
                assertTrue(x.getMessage().startsWith("madvise(addr=0x"), x.getMessage());
                assertTrue(x.getMessage().contains("page aligned") && x.getMessage().contains("EINVAL"), x.getMessage());
                assertThrows(IllegalArgumentException.class,
                        () -> FlexscMemory.prefault(e.syscalls(), MemorySegment.ofArray(new byte[8192]), 4096, PAGE));
                MemorySegment ok = MemorySegment.ofAddress(addr).reinterpret(4 * PAGE);
                assertThrows(IllegalArgumentException.class, () -> FlexscMemory.prefault(e.syscalls(), ok, 4 * PAGE, 100));
                assertThrows(IllegalArgumentException.class, () -> FlexscMemory.prefault(e.syscalls(), ok, 5 * PAGE, PAGE));
            } finally {
                DirectSyscalls.raw(MUNMAP, addr, 4 * PAGE, 0, 0, 0, 0);
            }
        }
    }

    /** A hole in the range: the chunk over it fails with ENOMEM, named with its range; the chunks before stay. */
    @Test
    @Timeout(30)
    void anUnmappedChunkFailsWithEnomemNamingMadvise() throws Exception {
        assumePopulateWrite();
        try (FlexscEngine e = open(Engine.SYSCALL_THREADS)) {
            long bytes = 64 * PAGE;
            long addr = mmap(bytes);
            try {
                DirectSyscalls.raw(MUNMAP, addr + 40 * PAGE, 8 * PAGE, 0, 0, 0, 0); // the hole
                MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
                FlexscMemory.Prefault p = FlexscMemory.prefault(e.syscalls(), m, bytes, 8 * PAGE);
                ErrnoException x = assertThrows(ErrnoException.class, p::await);
                assertEquals(Errno.ENOMEM, x.errno(), x.getMessage());
                assertTrue(x.getMessage().startsWith("madvise(addr=0x" + Long.toHexString(addr + 40 * PAGE)), x.getMessage());
                assertEquals(40 * PAGE, p.bytesPopulated());
            } finally {
                DirectSyscalls.raw(MUNMAP, addr, bytes, 0, 0, 0, 0);
            }
        }
    }

    /** The engine closed under a prefault: await throws EngineClosedException, never hangs. */
    @Test
    @Timeout(30)
    void closingTheEngineFailsThePrefault() throws Exception {
        assumePopulateWrite();
        long bytes = 256L << 20;
        FlexscEngine e = open(Engine.SYSCALL_THREADS);
        long addr = mmap(bytes);
        try {
            MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(bytes);
            FlexscMemory.Prefault p = FlexscMemory.prefault(e.syscalls(), m, bytes, PAGE);
            e.close();
            try {
                long got = p.await();
                assertEquals(bytes, got, "a prefault that was not stopped by close must be complete");
            } catch (dev.flexsc.EngineClosedException expected) {
                assertTrue(p.bytesPopulated() < bytes);
            }
        } finally {
            e.close();
            DirectSyscalls.raw(MUNMAP, addr, bytes, 0, 0, 0, 0);
        }
    }
}
