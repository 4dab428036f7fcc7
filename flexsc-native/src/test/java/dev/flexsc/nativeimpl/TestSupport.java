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
public final class TestSupport {
    private TestSupport() {}

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_TRUNC = 01000, O_APPEND = 02000,
            O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;
    public static final int O_NONBLOCK = 04000;
    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
    public static final int NR_PIPE2 = 293;

    public static FlexscConfig config() {
        return FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).build();
    }

    /** A pipe made by a direct call: {read fd, write fd}. */
    public static int[] pipe() {
        return pipe(O_CLOEXEC);
    }

    /** A pipe with pipe2 flags (O_NONBLOCK = 04000): {read fd, write fd}. */
    public static int[] pipe(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8);
            long r = DirectSyscalls.raw(NR_PIPE2, fds.address(), flags, 0, 0, 0, 0);
            if (r < 0) throw new IllegalStateException("pipe2: " + r);
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    public static void closeDirect(int fd) {
        DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
    }

    public static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    /** Threads of this process (/proc/self/task), native ones included. */
    public static long osThreads() throws IOException {
        return count(Path.of("/proc/self/task"));
    }

    public static long openFds() throws IOException {
        return count(Path.of("/proc/self/fd"));
    }

    public static long mappings() throws IOException {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.count();
        }
    }

    public static MemorySegment bytes(Arena a, String s) {
        byte[] b = s.getBytes();
        MemorySegment m = a.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m;
    }
}
