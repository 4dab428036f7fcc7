package dev.flexsc.threads;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;

/** Test helpers: pipes made and closed by direct calls, the test configuration. */
final class Pipes {
    private Pipes() {}

    /** The engine every test runtime uses: the portable one. */
    static FlexscConfig config() {
        // EXCEPTIONLESS: these tests exercise the posting path (parking, reaping, interrupts).
        return FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build();
    }

    /** {read fd, write fd}. */
    static int[] pipe() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8);
            long r = DirectSyscalls.raw(SyscallTable.PIPE2, fds.address(), OpenFlags.O_CLOEXEC, 0, 0, 0, 0);
            if (r < 0) throw new IllegalStateException("pipe2: errno " + -r);
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    static void close(int... fds) {
        for (int fd : fds) DirectSyscalls.raw(SyscallTable.CLOSE, fd, 0, 0, 0, 0, 0);
    }
}
