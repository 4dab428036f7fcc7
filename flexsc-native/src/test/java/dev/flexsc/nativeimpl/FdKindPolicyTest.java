package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineStats;
import dev.flexsc.Errno;
import dev.flexsc.FdKind;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.flexsc.OpenFlags.*;
import static dev.flexsc.nativeimpl.TestSupport.closeDirect;
import static org.junit.jupiter.api.Assertions.*;

/**
 * ADAPTIVE and the kind of a descriptor ({@link FdKind}), on real engines from a platform
 * thread: a read or write of a file that never waits for readiness is made with the plain
 * call. The system calls are counted by the kernel: {@code syscw} of
 * {@code /proc/thread-self/io} counts this thread's write-class calls (write, pwritev2...),
 * so a try without waiting before the plain write shows as a second one.
 */
class FdKindPolicyTest {
    private static final int CALLS = 50;
    private static final Engine[] ENGINES = {Engine.SYSCALL_THREADS, Engine.IO_URING};

    @Test
    @Timeout(60)
    void writesOfADescriptorNamedAlwaysReadyAreThePlainCall(@TempDir Path dir) throws Exception {
        TestSupport.assumeThreadIo();
        for (Engine kind : ENGINES) {
            if (TestSupport.unavailabilityCause(kind) != null) {
                System.out.println("skipped " + kind + ": " + TestSupport.unavailabilityCause(kind));
                continue;
            }
            Path f = dir.resolve("named-" + kind);
            try (FlexscEngine e = TestSupport.openEngine(TestSupport.config(kind).toBuilder().policy(CallPolicy.ADAPTIVE).build());
                 Arena a = Arena.ofConfined()) {
                Syscalls s = e.syscalls().withFdKind(FdKind.ALWAYS_READY);
                int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                int nul = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0);
                try {
                    MemorySegment buf = a.allocate(64);
                    EngineStats before = e.stats();
                    long syscw = TestSupport.threadSyscw();
                    for (int i = 0; i < CALLS; i++) {
                        buf.fill((byte) i);
                        assertEquals(64, s.write(fd, buf));
                        assertEquals(64, s.write(nul, buf));
                    }
                    long madeCalls = TestSupport.threadSyscw() - syscw;
                    EngineStats after = e.stats();
                    // One write-class call per write: the plain write, no pwritev2 before it
                    // (which a regular file of ext4 answers with EOPNOTSUPP, so that an
                    // unnamed write there makes two: the next test).
                    assertEquals(2L * CALLS, madeCalls, kind + ": write-class calls by this thread");
                    assertEquals(0, after.posted() - before.posted(), kind + ": " + after);
                    assertEquals(2L * CALLS, after.direct() - before.direct(), kind + ": " + after);
                    byte[] got = Files.readAllBytes(f);
                    assertEquals(64 * CALLS, got.length);
                    for (int i = 0; i < CALLS; i++) assertEquals((byte) i, got[64 * i + 63], "write " + i);
                } finally {
                    closeDirect(fd, nul);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void anUnnamedWriteOfARegularFileIsMadeDirectlyWhereRwfNowaitCannotTell(@TempDir Path dir) throws Exception {
        TestSupport.assumeThreadIo();
        boolean tryUnsupported = nowaitWriteUnsupported(dir.resolve("probe"));
        System.out.println("RWF_NOWAIT buffered write of a regular file in " + dir + ": "
                + (tryUnsupported ? "EOPNOTSUPP (the case this test is for)" : "taken (the try suffices here)"));
        for (Engine kind : ENGINES) {
            if (TestSupport.unavailabilityCause(kind) != null) {
                System.out.println("skipped " + kind + ": " + TestSupport.unavailabilityCause(kind));
                continue;
            }
            Path f = dir.resolve("unnamed-" + kind);
            try (FlexscEngine e = TestSupport.openEngine(TestSupport.config(kind).toBuilder().policy(CallPolicy.ADAPTIVE).build());
                 Arena a = Arena.ofConfined()) {
                Syscalls s = e.syscalls();
                int fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, f.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                try {
                    MemorySegment buf = a.allocate(64);
                    EngineStats before = e.stats();
                    long syscw = TestSupport.threadSyscw();
                    for (int i = 0; i < CALLS; i++) {
                        buf.fill((byte) i);
                        assertEquals(64, s.write(fd, buf));
                    }
                    long madeCalls = TestSupport.threadSyscw() - syscw;
                    EngineStats after = e.stats();
                    // Never posted: the file never waits for readiness (fstat says so after the
                    // try's EOPNOTSUPP), and the plain write is made on this thread.
                    assertEquals(0, after.posted() - before.posted(), kind + ": " + after);
                    assertEquals(CALLS, after.direct() - before.direct(), kind + ": " + after);
                    assertEquals((tryUnsupported ? 2L : 1L) * CALLS, madeCalls, kind + ": write-class calls by this thread");
                    byte[] got = Files.readAllBytes(f);
                    assertEquals(64 * CALLS, got.length);
                    for (int i = 0; i < CALLS; i++) assertEquals((byte) i, got[64 * i], "write " + i);
                } finally {
                    closeDirect(fd);
                }
            }
        }
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
