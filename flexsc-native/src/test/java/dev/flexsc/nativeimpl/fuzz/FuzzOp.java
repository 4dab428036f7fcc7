package dev.flexsc.nativeimpl.fuzz;

import dev.flexsc.ErrnoException;
import dev.flexsc.Errno;
import dev.flexsc.Stat;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * One generated call of the differential fuzzer: which call of the allow-list, on which
 * descriptors (sandbox slots, or hostile numbers), with which buffer, length, offset,
 * flags and paths. {@link #run} makes it through a {@link Syscalls} on a sandbox and
 * describes the outcome as text, the same text for the same behaviour: the value (or
 * "fd" for a new descriptor, whose number differs between sandboxes), the exception class
 * and errno, and the bytes a read delivered.
 */
record FuzzOp(Call call, int slot, int slot2, FuzzBuffer.Kind buf, int size, long offset, int flags, PathKind path,
              PathKind path2, long hugeSize, byte fill) {

    /** The calls the fuzzer makes (the allow-list's, through Syscalls' typed methods and batches). */
    enum Call {
        READ, WRITE, PREAD, PWRITE, READV, WRITEV, LSEEK, FSTAT, FSTATAT, STATX, GETDENTS, OPENAT, CLOSE, UNLINKAT,
        MKDIRAT, RENAMEAT, FTRUNCATE, FALLOCATE, FSYNC, FADVISE, SENDTO, RECVFROM, SPLICE, SENDFILE, GETRANDOM,
        GETPID, UNAME, GETSOCKOPT, BATCH
    }

    /** Paths, relative to the sandbox, the hostile ones included. */
    enum PathKind {
        F0("f0"), D0("d0"), NEW("new"), NEW_IN_DIR("d0/new2"), MISSING("missing/x"), QMARK("x?"),
        SURROGATE("x\uD800"), NUL("a\0b"), UNICODE("caf\u00e9"), NOT_UTF8(null), LONG("l".repeat(5000));

        final String name;

        PathKind(String name) {
            this.name = name;
        }
    }

    /** Slot numbers beyond the table: a descriptor number nothing has open, and the engine's own descriptor. */
    static final int BAD = 40, OWN = 41;

    private static final int[] OPEN_FLAGS = {
        0, 2 | 0100, 2 | 0100 | 0200, 1 | 01000, 0200000, 2 | 02000, 0 | 0400000 /* O_NOFOLLOW */
    };

    /** Argument slots naming a descriptor: true if {@code call} uses the first / second. */
    boolean usesSlot() {
        return switch (call) {
            case FSTATAT, STATX, OPENAT, UNLINKAT, MKDIRAT, RENAMEAT, GETRANDOM, GETPID, UNAME -> false;
            default -> true;
        };
    }

    /**
     * True if this call is one io_uring deliberately runs differently (docs/engines.md, "Left
     * as they are"): write or writev on a pipe or socket that has no room, readv on one that
     * has no data, where the syscall on an O_NONBLOCK descriptor fails with EAGAIN and the
     * ring waits for readiness (asked of {@code box} with a {@code poll} of no timeout before
     * the call; the two sandboxes are in the same state); readv of /dev/zero, which the ring
     * may end after a page (its iovecs are not continued); and a read or write at the file
     * position of a regular file that stops at a page the kernel cannot access (the HUGE
     * buffers): io_uring then leaves the file position where the call started.
     */
    boolean differsOnTheRing(Sandbox box) {
        if (buf == FuzzBuffer.Kind.HUGE && (slot == Sandbox.F0 || slot == Sandbox.F1 || slot >= Sandbox.FIXED)
                && (call == Call.READ || call == Call.WRITE || call == Call.READV || call == Call.WRITEV)) {
            return true;
        }
        return switch (call) {
            case WRITE, WRITEV -> stream(slot) && !ready(box.fd(slot), POLLOUT);
            case READV -> slot == Sandbox.ZERO || stream(slot) && !ready(box.fd(slot), POLLIN);
            case BATCH -> stream(slot2) && !ready(box.fd(slot2), POLLOUT); // its write
            default -> false;
        };
    }

    private static final short POLLIN = 1, POLLOUT = 4;

    private static boolean stream(int s) {
        return s == Sandbox.PIPE_R || s == Sandbox.PIPE_W || s == Sandbox.SOCK_A || s == Sandbox.SOCK_B;
    }

    private static boolean ready(int fd, short events) {
        if (fd < 0) return true; // EBADF either way
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8, 4);
            p.set(ValueLayout.JAVA_INT, 0, fd);
            p.set(ValueLayout.JAVA_SHORT, 4, events);
            long n = dev.flexsc.nativeimpl.DirectSyscalls.raw(7 /* poll */, p.address(), 1, 0, 0, 0, 0);
            return n > 0 && (p.get(ValueLayout.JAVA_SHORT, 6) & events) != 0;
        }
    }

    /**
     * What the call must end with whatever the engine, when an argument is hostile: the
     * exceptions the buffer and path rules give (docs/io.md), or null when the outcome is the
     * kernel's to decide. Checked on both sides, since both go through the same typed layer
     * and the differential alone would not see a rule that both sides break alike.
     */
    java.util.Set<String> refusals() {
        boolean buffered = switch (call) {
            case READ, WRITE, PREAD, PWRITE, READV, WRITEV, SENDTO, RECVFROM, GETRANDOM, STATX, GETDENTS, GETSOCKOPT -> true;
            default -> false;
        };
        boolean writesBuffer = switch (call) {
            case READ, PREAD, READV, RECVFROM, GETRANDOM, STATX, GETDENTS, GETSOCKOPT -> true;
            default -> false;
        };
        // Checked before the buffer's scope: read-only and native-only arguments, and sizes.
        java.util.Set<String> out = new java.util.HashSet<>(java.util.Set.of("IllegalArgumentException"));
        if (buffered && buf == FuzzBuffer.Kind.CLOSED) out.add("IllegalStateException");
        else if (buffered && buf == FuzzBuffer.Kind.FOREIGN) out.add("WrongThreadException");
        else if (buffered && writesBuffer && buf == FuzzBuffer.Kind.READ_ONLY) { /* IllegalArgumentException */ }
        else if (call == Call.BATCH && (buf == FuzzBuffer.Kind.CLOSED || buf == FuzzBuffer.Kind.FOREIGN
                || buf == FuzzBuffer.Kind.READ_ONLY)) {
            return null; // the adder's refusal is part of the batch's text: compared by the differential
        } else if (stringPath() && (path == PathKind.SURROGATE || path == PathKind.NUL
                || (call == Call.RENAMEAT && (path2 == PathKind.SURROGATE || path2 == PathKind.NUL)))) {
            if (call == Call.STATX) { out.add("IllegalStateException"); out.add("WrongThreadException"); }
        } else {
            return null;
        }
        return out;
    }

    /** Calls that pass {@code path} as a String (not the byte[] overloads used for NOT_UTF8). */
    private boolean stringPath() {
        return switch (call) {
            case FSTATAT, OPENAT, UNLINKAT, MKDIRAT -> path != PathKind.NOT_UTF8;
            case STATX, RENAMEAT -> true;
            default -> false;
        };
    }

    /** The descriptor for {@code s} in {@code box}; {@code own} is the engine's (or -1). */
    private static int fd(Sandbox box, int s, int own) {
        if (s == OWN) return own >= 0 ? own : -1;
        if (s == BAD) return 1_000_000;
        return box.fd(s);
    }

    /** Runs this call; returns its outcome as text (exceptions included: they are outcomes too). */
    String run(Syscalls sys, Sandbox box, int own, FuzzBuffer.ForeignThread foreign, List<String> violations) {
        List<FuzzBuffer> bufs = new ArrayList<>();
        try {
            FuzzBuffer b = FuzzBuffer.make(buf, size, hugeSize, fill, foreign);
            bufs.add(b);
            long t0 = System.nanoTime();
            String out;
            try {
                out = call(sys, box, own, b, bufs);
            } catch (ErrnoException e) {
                out = "ErrnoException " + Errno.symbol(e.errno());
            } catch (Exception | Error e) {
                out = e.getClass().getSimpleName();
            }
            long t1 = System.nanoTime();
            for (FuzzBuffer x : bufs) {
                String v = x.violation(t0, t1);
                if (v != null) violations.add(this + ": " + v);
            }
            return out;
        } finally {
            bufs.forEach(FuzzBuffer::close);
        }
    }

    private String call(Syscalls sys, Sandbox box, int own, FuzzBuffer b, List<FuzzBuffer> bufs) throws Exception {
        int fd = fd(box, slot, own), fd2 = fd(box, slot2, own);
        MemorySegment s = b.segment;
        switch (call) {
            case READ -> {
                return read(sys.read(fd, s), b);
            }
            case WRITE -> {
                return "" + sys.write(fd, s);
            }
            case PREAD -> {
                return read(sys.pread(fd, s, offset), b);
            }
            case PWRITE -> {
                return "" + sys.pwrite(fd, s, offset);
            }
            case READV, WRITEV -> {
                FuzzBuffer second = FuzzBuffer.make(FuzzBuffer.Kind.HEAP, 17, 0, (byte) (fill + 1), null);
                bufs.add(second);
                if (call == Call.READV) {
                    long n = sys.readv(fd, s, second.segment);
                    return read(n, b) + " second " + HexFormat.of().formatHex(second.contents(17));
                }
                return "" + sys.writev(fd, s, second.segment);
            }
            case LSEEK -> {
                return "" + sys.lseek(fd, offset, flags % 3);
            }
            case FSTAT -> {
                return summary(sys.fstat(fd));
            }
            case FSTATAT -> {
                return notUtf8() ? summary(sys.fstatat(Syscalls.AT_FDCWD, box.path(NOT_UTF8_NAME), flags & 0x100))
                        : summary(sys.fstatat(Syscalls.AT_FDCWD, box.path(path.name), flags & 0x100));
            }
            case STATX -> {
                sys.statx(Syscalls.AT_FDCWD, box.path(path.name == null ? "bad" : path.name), 0, 0xfff, s);
                // stx_mode (u16 at 28) and stx_size (u64 at 40)
                return "mode " + (s.get(ValueLayout.JAVA_SHORT, 28) & 0170000) + " size " + s.get(ValueLayout.JAVA_LONG, 40);
            }
            case GETDENTS -> {
                long n = sys.getdents64(fd, s);
                return n + " " + names(s, n);
            }
            case OPENAT -> {
                int flagsNow = OPEN_FLAGS[flags % OPEN_FLAGS.length] | 02000000;
                int nfd = notUtf8() ? sys.openat(Syscalls.AT_FDCWD, box.path(NOT_UTF8_NAME), flagsNow, 0644)
                        : sys.openat(Syscalls.AT_FDCWD, box.path(path.name), flagsNow, 0644);
                box.added(nfd);
                return "fd";
            }
            case CLOSE -> {
                sys.close(fd);
                if (slot != OWN && slot != BAD) box.closed(slot);
                return "0";
            }
            case UNLINKAT -> {
                int f = (flags & 1) != 0 ? 0x200 : 0;
                if (notUtf8()) sys.unlinkat(Syscalls.AT_FDCWD, box.path(NOT_UTF8_NAME), f);
                else sys.unlinkat(Syscalls.AT_FDCWD, box.path(path.name), f);
                return "0";
            }
            case MKDIRAT -> {
                if (notUtf8()) sys.mkdirat(Syscalls.AT_FDCWD, box.path(NOT_UTF8_NAME), 0755);
                else sys.mkdirat(Syscalls.AT_FDCWD, box.path(path.name), 0755);
                return "0";
            }
            case RENAMEAT -> {
                String to = path2.name == null ? "bad2" : path2.name;
                sys.renameat2(Syscalls.AT_FDCWD, box.path(path.name == null ? "bad" : path.name), Syscalls.AT_FDCWD,
                        box.path(to), flags & 1 /* RENAME_NOREPLACE */);
                return "0";
            }
            case FTRUNCATE -> {
                sys.ftruncate(fd, offset);
                return "0";
            }
            case FALLOCATE -> {
                sys.fallocate(fd, 0, offset, size);
                return "0";
            }
            case FSYNC -> {
                if ((flags & 1) != 0) sys.fdatasync(fd);
                else sys.fsync(fd);
                return "0";
            }
            case FADVISE -> {
                sys.fadvise(fd, offset, size, flags % 6);
                return "0";
            }
            case SENDTO -> {
                return "" + sys.sendto(fd, s, 0x4000 /* MSG_NOSIGNAL */ | ((flags & 1) != 0 ? 0x40 : 0), null);
            }
            case RECVFROM -> {
                return read(sys.recvfrom(fd, s, (flags & 1) != 0 ? 0x40 : 0, null), b);
            }
            case SPLICE -> {
                return "" + sys.splice(fd, -1, fd2, offset < 0 ? -1 : offset, size, (flags & 1) != 0 ? 2 /* NONBLOCK */ : 0);
            }
            case SENDFILE -> {
                return "" + sys.sendfile(fd2, fd, offset, size);
            }
            case GETRANDOM -> {
                return "" + sys.getrandom(s, 1 /* GRND_NONBLOCK */); // the count: the bytes are random
            }
            case GETPID -> {
                return "" + sys.getpid();
            }
            case UNAME -> {
                return sys.uname().toString();
            }
            case GETSOCKOPT -> {
                int n = sys.getsockopt(fd, 1 /* SOL_SOCKET */, 3 /* SO_TYPE */, s);
                return n + " " + (s.byteSize() >= 4 ? s.get(ValueLayout.JAVA_INT_UNALIGNED, 0) : "-");
            }
            case BATCH -> {
                return batch(sys, fd, fd2, b, bufs);
            }
            default -> throw new AssertionError(call);
        }
    }

    /** A batch of a pread into the buffer, a write of a heap copy to the second slot and a getpid. */
    private String batch(Syscalls sys, int fd, int fd2, FuzzBuffer b, List<FuzzBuffer> bufs) throws Exception {
        FuzzBuffer src = FuzzBuffer.make(FuzzBuffer.Kind.HEAP, 33, 0, (byte) (fill + 2), null);
        bufs.add(src);
        try (SyscallBatch batch = sys.batch()) {
            List<SyscallBatch.Result> rs = new ArrayList<>();
            List<String> out = new ArrayList<>();
            for (Runnable add : new Runnable[] {
                () -> rs.add(batch.pread(fd, b.segment, offset)),
                () -> rs.add(batch.write(fd2, src.segment)),
                () -> rs.add(batch.getpid()),
            }) {
                try {
                    add.run();
                } catch (RuntimeException e) {
                    out.add("adder " + e.getClass().getSimpleName());
                }
            }
            batch.submit();
            for (SyscallBatch.Result r : rs) {
                try {
                    out.add("" + r.get());
                } catch (ErrnoException e) {
                    out.add("ErrnoException " + Errno.symbol(e.errno()));
                } catch (Exception e) {
                    out.add(e.getClass().getSimpleName());
                }
            }
            byte[] c = b.contents(4096);
            out.add(c == null ? "-" : HexFormat.of().formatHex(c));
            return out.toString();
        }
    }

    private static final byte[] NOT_UTF8_NAME = {'b', 'a', 'd', (byte) 0xff};

    private boolean notUtf8() {
        return path == PathKind.NOT_UTF8;
    }

    /** A read's count and the bytes it delivered. */
    private static String read(long n, FuzzBuffer b) {
        byte[] c = b.contents(n);
        return n + (c == null ? "" : " " + HexFormat.of().formatHex(c));
    }

    /** What is the same for the same file in two sandboxes: type, permission bits, size, links. */
    private static String summary(Stat st) {
        return "mode " + Integer.toOctalString(st.mode()) + " size " + st.size() + " nlink " + st.nlink();
    }

    /** The names in a getdents64 buffer, sorted (the order and offsets depend on the inodes). */
    private static String names(MemorySegment s, long n) {
        TreeSet<String> names = new TreeSet<>();
        long off = 0;
        while (off + 19 < n) {
            int reclen = Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 16));
            if (reclen == 0) break;
            long end = off + 19;
            while (end < off + reclen && s.get(ValueLayout.JAVA_BYTE, end) != 0) end++;
            names.add(new String(s.asSlice(off + 19, end - off - 19).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
            off += reclen;
        }
        return names.toString();
    }

    @Override
    public String toString() {
        return call + "(slot=" + slot + ", slot2=" + slot2 + ", buf=" + buf + "[" + (buf == FuzzBuffer.Kind.HUGE ? hugeSize : size)
                + "], offset=" + offset + ", flags=" + flags + ", path=" + path + ", path2=" + path2 + ")";
    }
}
