package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.EngineStats;
import dev.flexsc.Errno;
import dev.flexsc.FdKind;
import dev.flexsc.Syscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.flexsc.OpenFlags.*;
import static dev.flexsc.nativeimpl.TestSupport.closeDirect;
import static org.junit.jupiter.api.Assertions.*;

/**
 * ADAPTIVE and the kind of a descriptor ({@link FdKind}), on real engines from a platform
 * thread: a read or write of a file that never waits for readiness is made with the plain
 * call. The system calls are counted by the kernel ({@link TestSupport#threadSyscw}): a try
 * without waiting before the plain write shows as a second write-class call.
 */
class FdKindPolicyTest {
    private static final int CALLS = 50;

    @Test
    @Timeout(60)
    void writesOfADescriptorNamedAlwaysReadyAreThePlainCall(@TempDir Path dir) throws Exception {
        TestSupport.assumeThreadIo();
        TestSupport.onEachEngine(CallPolicy.ADAPTIVE, (kind, e) -> {
            Path f = dir.resolve("named-" + kind);
            Syscalls s = e.syscalls().withFdKind(FdKind.ALWAYS_READY);
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            int nul = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0);
            try (Arena a = Arena.ofConfined()) {
                EngineStats before = e.stats();
                long madeCalls = writeCounted(s, a.allocate(64), fd, nul);
                EngineStats after = e.stats();
                // One write-class call per write: the plain write, no pwritev2 before it (which a
                // regular file of ext4 answers with EOPNOTSUPP, so that an unnamed write there
                // makes two: the next test).
                assertEquals(2L * CALLS, madeCalls, kind + ": write-class calls by this thread");
                assertEquals(0, after.posted() - before.posted(), kind + ": " + after);
                assertEquals(2L * CALLS, after.direct() - before.direct(), kind + ": " + after);
                assertWritten(f, 0);
            } finally {
                closeDirect(fd, nul);
            }
        });
    }

    @Test
    @Timeout(60)
    void anUnnamedWriteOfARegularFileIsMadeDirectlyWhereRwfNowaitCannotTell(@TempDir Path dir) throws Exception {
        TestSupport.assumeThreadIo();
        boolean tryUnsupported = nowaitWriteUnsupported(dir.resolve("probe"));
        System.out.println("RWF_NOWAIT buffered write of a regular file in " + dir + ": "
                + (tryUnsupported ? "EOPNOTSUPP (the case this test is for)" : "taken (the try suffices here)"));
        TestSupport.onEachEngine(CallPolicy.ADAPTIVE, (kind, e) -> {
            Path f = dir.resolve("unnamed-" + kind);
            Syscalls s = e.syscalls();
            int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            try (Arena a = Arena.ofConfined()) {
                EngineStats before = e.stats();
                long madeCalls = writeCounted(s, a.allocate(64), fd);
                EngineStats after = e.stats();
                // Never posted: the file never waits for readiness (fstat says so after the try's
                // EOPNOTSUPP), and the plain write is made on this thread.
                assertEquals(0, after.posted() - before.posted(), kind + ": " + after);
                assertEquals(CALLS, after.direct() - before.direct(), kind + ": " + after);
                assertEquals((tryUnsupported ? 2L : 1L) * CALLS, madeCalls, kind + ": write-class calls by this thread");
                assertWritten(f, 63);
            } finally {
                closeDirect(fd);
            }
        });
    }

    /**
     * Writes 64 bytes CALLS times to each of {@code fds} through {@code s}, write i of byte i;
     * returns this thread's write-class system calls meanwhile.
     */
    private static long writeCounted(Syscalls s, MemorySegment buf, int... fds) throws IOException {
        long syscw = TestSupport.threadSyscw();
        for (int i = 0; i < CALLS; i++) {
            buf.fill((byte) i);
            for (int fd : fds) assertEquals(64, s.write(fd, buf));
        }
        return TestSupport.threadSyscw() - syscw;
    }

    /** The file holds CALLS writes of 64 bytes, write i of byte i (checked at offset {@code at} of each). */
    private static void assertWritten(Path f, int at) throws IOException {
        byte[] got = Files.readAllBytes(f);
        assertEquals(64 * CALLS, got.length);
        for (int i = 0; i < CALLS; i++) assertEquals((byte) i, got[64 * i + at], "write " + i);
    }

    /** True if a pwritev2(RWF_NOWAIT) of a regular file in this directory's file system fails with EOPNOTSUPP. */
    private static boolean nowaitWriteUnsupported(Path file) throws IOException {
        int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, file.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        try (Arena a = Arena.ofConfined()) {
            long r = DirectSyscalls.invoker().readWriteNowait(true, fd, a.allocate(8).address(), 8);
            if (r != 8 && r != -Errno.EOPNOTSUPP && r != -Errno.EAGAIN) throw new AssertionError("pwritev2(RWF_NOWAIT): " + r);
            return r == -Errno.EOPNOTSUPP;
        } finally {
            closeDirect(fd);
        }
    }
}
