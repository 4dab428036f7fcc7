package dev.flexsc.nativeimpl;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.RefusedCallException;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallPageDescriptor;
import dev.flexsc.spi.page.PageEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;
import dev.flexsc.spi.page.RawEntries;
import dev.flexsc.abi.SyscallTable;

/** Bad input gets a clear exception naming the call and the errno; refused calls never run. */
class ErrorsTest {
    static PageEngine engine;
    static Syscalls s;

    @BeforeAll
    static void open() throws IOException {
        engine = TestSupport.open(config());
        s = engine.syscalls();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static ErrnoException errno(int expected, org.junit.jupiter.api.function.Executable call) {
        ErrnoException e = assertThrows(ErrnoException.class, call);
        assertEquals(expected, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(Errno.symbol(expected)), e.getMessage());
        return e;
    }

    @Test
    void badDescriptorIsEbadf() {
        ErrnoException e = errno(Errno.EBADF, () -> s.write(-1, new byte[4]));
        assertEquals("write(fd=-1): EBADF, bad file descriptor", e.getMessage());
        errno(Errno.EBADF, () -> s.close(987654));
        errno(Errno.EBADF, () -> s.fstat(987654));
    }

    @Test
    void badPointerIsEfaultNotACrash() throws IOException {
        int[] p = pipe();
        try {
            MemorySegment bogus = MemorySegment.ofAddress(16).reinterpret(64);
            assertTrue(bogus.isNative());
            assertEquals(4, s.write(p[1], new byte[4]));
            errno(Errno.EFAULT, () -> s.read(p[0], bogus));
            errno(Errno.EFAULT, () -> s.write(p[1], bogus));
            // the raw interface reports the kernel's result unchanged
            assertEquals(-Errno.EFAULT, s.syscall(1, p[1], 8, 16));
        } finally {
            closeDirect(p[0]);
            closeDirect(p[1]);
        }
    }

    @Test
    void missingFileIsEnoentAndBadArgumentIsEinval() throws IOException {
        ErrnoException e = errno(Errno.ENOENT, () -> s.openat(Syscalls.AT_FDCWD, "/nonexistent/flexsc", O_RDONLY, 0));
        assertTrue(e.getMessage().startsWith("openat(path=/nonexistent/flexsc)"), e.getMessage());
        int fd = s.openat(Syscalls.AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
        try {
            errno(Errno.EINVAL, () -> s.lseek(fd, 0, 99));
        } finally {
            s.close(fd);
        }
        try (Arena a = Arena.ofConfined()) {
            errno(Errno.EINVAL, () -> s.getrandom(a.allocate(8), 0xffff)); // unknown flags
        }
    }

    @Test
    void refusedCallsAreRefusedBeforeSubmission() throws IOException {
        long before = engine.stats().submitted();
        for (int nr : new int[] {186 /* gettid */, 60 /* exit */, 56 /* clone */, 231, 202, 9999, -1}) {
            RefusedCallException e = assertThrows(RefusedCallException.class, () -> s.syscall(nr));
            assertEquals(nr, e.number());
        }
        assertTrue(assertThrows(RefusedCallException.class, () -> s.syscall(186)).getMessage().contains("gettid"));
        assertThrows(RefusedCallException.class, () -> engine.invoke(60, 0, 0, 0, 0, 0, 0));
        assertEquals(before, engine.stats().submitted(), "a refused call reached the page");
        assertThrows(IllegalArgumentException.class, () -> s.syscall(39, 1, 2, 3, 4, 5, 6, 7));
    }

    @Test
    void executorsRefuseWhatIsWrittenIntoThePageDirectly() {
        long refusedBefore = engine.stats().refused();
        // gettid, exit and clone written straight into an entry: the executors must refuse them
        // (exit would end the executor thread, clone would fork it): -ENOSYS, and nothing runs.
        for (int nr : new int[] {SyscallTable.GETTID, SyscallTable.EXIT, SyscallTable.CLONE, SyscallTable.CLONE3, 100000, -7}) {
            int idx = assertDoesNotThrow(() -> RawEntries.post(engine, 0, SyscallPageDescriptor.STATUS_SUBMITTED, nr));
            assertEquals(-Errno.ENOSYS, RawEntries.reap(engine, 0, idx, 5000), "syscall " + nr);
        }
        // KERNEL_MODULE adds refused once per batch, after the batch's completions.
        assertEquals(refusedBefore + 6, TestSupport.statsOnce(engine, st -> st.refused() >= refusedBefore + 6).refused());
        assertTrue(engine.stats().executorThreads() >= 1, "executor still alive");
    }

    @Test
    void malformedEntriesAreIgnored() throws IOException {
        // A bit set for an entry that is not SUBMITTED (here BUSY and FREE) must not run.
        int busy = RawEntries.post(engine, 0, SyscallPageDescriptor.STATUS_BUSY, SyscallTable.GETPID);
        int free = RawEntries.post(engine, 0, SyscallPageDescriptor.STATUS_FREE, SyscallTable.GETPID);
        assertEquals(Long.MIN_VALUE, RawEntries.reap(engine, 0, busy, 200), "a BUSY entry was completed");
        assertEquals(SyscallPageDescriptor.STATUS_BUSY, RawEntries.status(engine, 0, busy));
        assertEquals(SyscallPageDescriptor.STATUS_FREE, RawEntries.status(engine, 0, free));
        RawEntries.release(engine, 0, busy);
        RawEntries.release(engine, 0, free);
        assertEquals(ProcessHandle.current().pid(), s.getpid(), "the engine still works");
    }

    @Test
    void heapAndReadOnlyBuffers() throws IOException {
        int fd = s.openat(Syscalls.AT_FDCWD, "/dev/zero", O_RDONLY | O_CLOEXEC, 0);
        try {
            byte[] b = new byte[100];
            java.util.Arrays.fill(b, (byte) 1);
            assertEquals(40, s.read(fd, b, 10, 40));
            for (int i = 0; i < 100; i++) assertEquals(i >= 10 && i < 50 ? 0 : 1, b[i], "byte " + i);
            assertThrows(IndexOutOfBoundsException.class, () -> s.read(fd, b, 90, 20));
            assertThrows(IllegalArgumentException.class, () -> s.read(fd, MemorySegment.ofArray(b).asReadOnly()));
            try (Arena a = Arena.ofConfined()) {
                assertThrows(IllegalArgumentException.class, () -> s.getdents64(fd, MemorySegment.ofArray(new byte[10])));
                assertEquals(0, s.read(fd, a.allocate(0)));
            }
        } finally {
            s.close(fd);
        }
    }
}
