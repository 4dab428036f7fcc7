package dev.flexsc.nativeimpl;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Shared helpers for the engine tests. */
final class TestSupport {
    private TestSupport() {}

    static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_TRUNC = 01000, O_APPEND = 02000,
            O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;
    static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
    static final int NR_PIPE2 = 293;

    static FlexscConfig config() {
        return FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).build();
    }

    /** A pipe made by a direct call: {read fd, write fd}. */
    static int[] pipe() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8);
            long r = DirectSyscalls.raw(NR_PIPE2, fds.address(), O_CLOEXEC, 0, 0, 0, 0);
            if (r < 0) throw new IllegalStateException("pipe2: " + r);
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    static void closeDirect(int fd) {
        DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
    }

    static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    /**
     * Syscall threads of this process (native threads named flexsc-exec). Counting every OS
     * thread would be flaky: the JVM starts and stops JIT and GC threads on its own.
     */
    static long syscallThreads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).trim().equals("flexsc-exec");
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    static long openFds() throws IOException {
        return count(Path.of("/proc/self/fd"));
    }

    static long mappings() throws IOException {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.count();
        }
    }

    static MemorySegment bytes(Arena a, String s) {
        byte[] b = s.getBytes();
        MemorySegment m = a.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m;
    }
}
