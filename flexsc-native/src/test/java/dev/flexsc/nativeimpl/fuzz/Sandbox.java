package dev.flexsc.nativeimpl.fuzz;

import dev.flexsc.nativeimpl.DirectSyscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What one side of a differential try runs against: a directory with files and a
 * subdirectory, a non-blocking pipe and socket pair holding data, /dev/null and /dev/zero,
 * and the table of descriptors the calls address by slot. Two sandboxes made from the same
 * seed are identical but for inode and descriptor numbers: the engine side and the direct
 * side each get one, and their states are compared after the try.
 */
final class Sandbox implements AutoCloseable {
    /** Fixed slots: file f0 (read-write), f1 (read-only), directory d0, pipe ends, socket pair, null, zero. */
    static final int F0 = 0, F1 = 1, DIR = 2, PIPE_R = 3, PIPE_W = 4, SOCK_A = 5, SOCK_B = 6, NULL = 7, ZERO = 8;
    static final int FIXED = 9;
    private static final int O_RDONLY = 0, O_RDWR = 2, O_NONBLOCK = 04000, O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;
    private static final int NR_OPENAT = 257, NR_CLOSE = 3, NR_PIPE2 = 293, NR_SOCKETPAIR = 53, NR_WRITE = 1, NR_READ = 0;

    final Path root;
    /** Descriptors by slot; -1 once closed by the try. */
    private final List<Integer> fds = new ArrayList<>();

    private Sandbox(Path root) {
        this.root = root;
    }

    /** A sandbox under {@code root} (created), filled from {@code seed}. */
    static Sandbox create(Path root, long seed) throws IOException {
        Files.createDirectories(root);
        Sandbox s = new Sandbox(root);
        Random r = new Random(seed);
        Files.write(root.resolve("f0"), bytes(r, r.nextInt(9000)));
        Files.write(root.resolve("f1"), bytes(r, r.nextInt(300)));
        Files.createDirectory(root.resolve("d0"));
        Files.write(root.resolve("d0/inner"), bytes(r, 10));
        Files.writeString(root.resolve("x?"), "the name a lone surrogate used to become");
        s.fds.add(open(root.resolve("f0"), O_RDWR));
        s.fds.add(open(root.resolve("f1"), O_RDONLY));
        s.fds.add(open(root.resolve("d0"), O_RDONLY | O_DIRECTORY));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment two = a.allocate(8, 4);
            check(DirectSyscalls.raw(NR_PIPE2, two.address(), O_NONBLOCK | O_CLOEXEC, 0, 0, 0, 0), "pipe2");
            s.fds.add(two.get(ValueLayout.JAVA_INT, 0));
            s.fds.add(two.get(ValueLayout.JAVA_INT, 4));
            // AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC
            check(DirectSyscalls.raw(NR_SOCKETPAIR, 1, 1 | 04000 | 02000000, 0, two.address(), 0, 0), "socketpair");
            s.fds.add(two.get(ValueLayout.JAVA_INT, 0));
            s.fds.add(two.get(ValueLayout.JAVA_INT, 4));
            byte[] pipeData = bytes(r, r.nextInt(3000)), sockData = bytes(r, r.nextInt(3000));
            s.put(s.fd(PIPE_W), pipeData);
            s.put(s.fd(SOCK_B), sockData);
        }
        s.fds.add(open(Path.of("/dev/null"), O_RDWR));
        s.fds.add(open(Path.of("/dev/zero"), O_RDONLY));
        return s;
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static int open(Path p, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return (int) check(DirectSyscalls.raw(NR_OPENAT, -100, a.allocateFrom(p.toString()).address(), flags | O_CLOEXEC,
                    0, 0, 0), "openat " + p);
        }
    }

    private static long check(long r, String what) {
        if (r < 0) throw new IllegalStateException(what + ": errno " + -r);
        return r;
    }

    private void put(int fd, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, m, ValueLayout.JAVA_BYTE, 0, data.length);
            check(DirectSyscalls.raw(NR_WRITE, fd, m.address(), data.length, 0, 0, 0), "write");
        }
    }

    /** The descriptor in {@code slot}, or -1 (EBADF) for a slot past the table or closed. */
    int fd(int slot) {
        return slot >= 0 && slot < fds.size() ? fds.get(slot) : -1;
    }

    /** Adds a descriptor an openat of the try returned. */
    void added(int fd) {
        fds.add(fd);
    }

    /** The try closed the descriptor in {@code slot}. */
    void closed(int slot) {
        if (slot >= 0 && slot < fds.size()) fds.set(slot, -1);
    }

    /**
     * Everything the calls may have changed, as text: every file and directory under the
     * root with its bytes, and the data left in the pipe and in each socket (drained).
     */
    String state() throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.naturalOrder())::iterator) {
                String name = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) out.put(name, "link");
                else if (Files.isDirectory(p)) out.put(name, "dir");
                else out.put(name, HexFormat.of().formatHex(Files.readAllBytes(p)));
            }
        }
        out.put("<pipe>", drain(fd(PIPE_R)));
        out.put("<socket a>", drain(fd(SOCK_A)));
        out.put("<socket b>", drain(fd(SOCK_B)));
        return out.toString();
    }

    /** Reads what a non-blocking descriptor holds, until EAGAIN (or another error). */
    private static String drain(int fd) {
        if (fd < 0) return "closed";
        StringBuilder b = new StringBuilder();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(4096);
            while (true) {
                long n = DirectSyscalls.raw(NR_READ, fd, m.address(), 4096, 0, 0, 0);
                if (n <= 0) {
                    if (n < 0 && n != -11) b.append(" errno ").append(-n);
                    break;
                }
                b.append(HexFormat.of().formatHex(m.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE)));
            }
        }
        return b.toString();
    }

    /** The path of {@code name} under the root, as a String. */
    String path(String name) {
        return root + "/" + name;
    }

    /** The path of {@code name} (raw bytes) under the root. */
    byte[] path(byte[] name) {
        byte[] r = (root + "/").getBytes(StandardCharsets.UTF_8);
        byte[] p = java.util.Arrays.copyOf(r, r.length + name.length);
        System.arraycopy(name, 0, p, r.length, name.length);
        return p;
    }

    @Override
    public void close() throws IOException {
        for (int fd : fds) {
            if (fd >= 0) DirectSyscalls.raw(NR_CLOSE, fd, 0, 0, 0, 0, 0);
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }
}
