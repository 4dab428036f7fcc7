package dev.flexsc;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static dev.flexsc.abi.SyscallTable.*;

/**
 * Typed, allow-listed system calls. One method per call of the allow-list, named
 * after it, with the kernel's argument order; every engine (and the direct-call
 * baseline) runs them through the same code.
 *
 * <p><b>Buffers.</b> {@link MemorySegment} arguments that are native are used in place
 * (the kernel reads or writes them directly; they must stay alive until the call
 * returns). Heap segments and {@code byte[]} overloads are copied through temporary
 * native memory, which costs a copy and an allocation per call.
 *
 * <p><b>Errors.</b> A negative kernel result becomes an {@link ErrnoException} naming
 * the call, its main argument, the errno symbol and its meaning. A call that FlexSC never
 * runs exception-less throws {@link RefusedCallException} before anything is submitted.
 * A call that may block without bound (read on a pipe or socket, accept, ...) made by a
 * thread that is interrupted is cancelled and throws {@link InterruptedIOException} with
 * the interrupt status left set; other calls complete first.
 *
 * <p><b>Blocking.</b> Each method returns when the call has completed. On a platform
 * thread the caller spins briefly, then sleeps until its completion.
 *
 * <p>Thread-safe.
 */
public final class Syscalls {
    /**
     * The {@code dirfd} meaning "relative to the current directory"; the same value as
     * {@link AtFlags#AT_FDCWD}, kept here for existing callers.
     *
     * @see AtFlags
     */
    public static final int AT_FDCWD = AtFlags.AT_FDCWD;

    private final SyscallInvoker invoker;

    /** Typed calls over an engine's (or the direct baseline's) raw invoker. */
    public Syscalls(SyscallInvoker invoker) {
        this.invoker = Objects.requireNonNull(invoker, "invoker");
    }

    // ---- raw ----

    /**
     * Runs allow-listed system call {@code nr} with up to six arguments.
     *
     * @return the kernel's raw result: {@code >= 0} a value, {@code < 0} {@code -errno} (not thrown)
     * @throws RefusedCallException if {@code nr} is not allow-listed (nothing is submitted)
     * @throws IllegalArgumentException if more than six arguments are given
     */
    public long syscall(int nr, long... args) throws IOException {
        SyscallTable.require(nr);
        if (args.length > 6) throw new IllegalArgumentException("a system call takes at most 6 arguments, got " + args.length);
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        return invoker.invoke(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    // ---- batches ----

    /**
     * A new, empty batch of calls over the same engine: the calls added to it are submitted
     * together and waited for once (see {@link SyscallBatch}). The batch is for one thread
     * at a time; close it when done.
     */
    public SyscallBatch batch() {
        return new SyscallBatch(invoker);
    }

    // ---- process identity ----

    /** getpid(2). */
    public long getpid() throws IOException {
        return check(invoker.invoke(GETPID, 0, 0, 0, 0, 0, 0), "getpid()");
    }

    /** getppid(2). */
    public long getppid() throws IOException {
        return check(invoker.invoke(GETPPID, 0, 0, 0, 0, 0, 0), "getppid()");
    }

    /** getuid(2). */
    public long getuid() throws IOException {
        return check(invoker.invoke(GETUID, 0, 0, 0, 0, 0, 0), "getuid()");
    }

    /** getgid(2). */
    public long getgid() throws IOException {
        return check(invoker.invoke(GETGID, 0, 0, 0, 0, 0, 0), "getgid()");
    }

    /** uname(2). */
    public Utsname uname() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment u = a.allocate(Utsname.SIZE);
            check(invoker.invoke(UNAME, u.address(), 0, 0, 0, 0, 0), "uname()");
            return Utsname.from(u);
        }
    }

    /** getrandom(2): fills up to {@code buf.byteSize()} bytes, returns the count. */
    public long getrandom(MemorySegment buf, int flags) throws IOException {
        if (buf.isNative()) return check(invoker.invoke(GETRANDOM, buf.address(), buf.byteSize(), flags, 0, 0, 0), "getrandom()");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(Math.max(1, buf.byteSize()));
            long n = check(invoker.invoke(GETRANDOM, tmp.address(), buf.byteSize(), flags, 0, 0, 0), "getrandom()");
            MemorySegment.copy(tmp, 0, buf, 0, n);
            return n;
        }
    }

    // ---- files ----

    /** openat(2): returns the new file descriptor. */
    public int openat(int dirfd, String path, int flags, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = cString(a, path);
            return (int) check(invoker.invoke(OPENAT, dirfd, p.address(), flags, mode, 0, 0), "openat", path);
        }
    }

    /** close(2). */
    public void close(int fd) throws IOException {
        check(invoker.invoke(CLOSE, fd, 0, 0, 0, 0, 0), "close", fd);
    }

    /** read(2): up to {@code buf.byteSize()} bytes at the file position; returns the count (0 at end of file). */
    public long read(int fd, MemorySegment buf) throws IOException {
        checkWritable(buf);
        if (buf.isNative()) return check(invoker.invoke(READ, fd, buf.address(), buf.byteSize(), 0, 0, 0), "read", fd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(Math.max(1, buf.byteSize()));
            long n = check(invoker.invoke(READ, fd, tmp.address(), buf.byteSize(), 0, 0, 0), "read", fd);
            MemorySegment.copy(tmp, 0, buf, 0, n);
            return n;
        }
    }

    /** read(2) into {@code b[off, off+len)}. */
    public long read(int fd, byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return read(fd, MemorySegment.ofArray(b).asSlice(off, len));
    }

    /** read(2) into all of {@code b}. */
    public long read(int fd, byte[] b) throws IOException {
        return read(fd, b, 0, b.length);
    }

    /** write(2): up to {@code buf.byteSize()} bytes at the file position; returns the count. */
    public long write(int fd, MemorySegment buf) throws IOException {
        if (buf.isNative()) return check(invoker.invoke(WRITE, fd, buf.address(), buf.byteSize(), 0, 0, 0), "write", fd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = copyIn(a, buf);
            return check(invoker.invoke(WRITE, fd, tmp.address(), buf.byteSize(), 0, 0, 0), "write", fd);
        }
    }

    /** write(2) of {@code b[off, off+len)}. */
    public long write(int fd, byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return write(fd, MemorySegment.ofArray(b).asSlice(off, len));
    }

    /** write(2) of all of {@code b}. */
    public long write(int fd, byte[] b) throws IOException {
        return write(fd, b, 0, b.length);
    }

    /** pread64(2): up to {@code buf.byteSize()} bytes at {@code offset}; the file position is unchanged. */
    public long pread(int fd, MemorySegment buf, long offset) throws IOException {
        checkWritable(buf);
        if (buf.isNative()) return check(invoker.invoke(PREAD64, fd, buf.address(), buf.byteSize(), offset, 0, 0), "pread64", fd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(Math.max(1, buf.byteSize()));
            long n = check(invoker.invoke(PREAD64, fd, tmp.address(), buf.byteSize(), offset, 0, 0), "pread64", fd);
            MemorySegment.copy(tmp, 0, buf, 0, n);
            return n;
        }
    }

    /** pread64(2) into {@code b[off, off+len)}. */
    public long pread(int fd, byte[] b, int off, int len, long offset) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return pread(fd, MemorySegment.ofArray(b).asSlice(off, len), offset);
    }

    /** pwrite64(2): up to {@code buf.byteSize()} bytes at {@code offset}; the file position is unchanged. */
    public long pwrite(int fd, MemorySegment buf, long offset) throws IOException {
        if (buf.isNative()) return check(invoker.invoke(PWRITE64, fd, buf.address(), buf.byteSize(), offset, 0, 0), "pwrite64", fd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = copyIn(a, buf);
            return check(invoker.invoke(PWRITE64, fd, tmp.address(), buf.byteSize(), offset, 0, 0), "pwrite64", fd);
        }
    }

    /** pwrite64(2) of {@code b[off, off+len)}. */
    public long pwrite(int fd, byte[] b, int off, int len, long offset) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return pwrite(fd, MemorySegment.ofArray(b).asSlice(off, len), offset);
    }

    /** readv(2): fills the buffers in order; returns the total count. */
    public long readv(int fd, MemorySegment... bufs) throws IOException {
        for (MemorySegment b : bufs) checkWritable(b);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment[] nat = new MemorySegment[bufs.length];
            MemorySegment iov = iovec(a, bufs, nat, false);
            long n = check(invoker.invoke(READV, fd, iov.address(), bufs.length, 0, 0, 0), "readv", fd);
            long left = n;
            for (int i = 0; i < bufs.length && left > 0; i++) {
                long k = Math.min(left, bufs[i].byteSize());
                if (nat[i] != bufs[i]) MemorySegment.copy(nat[i], 0, bufs[i], 0, k);
                left -= k;
            }
            return n;
        }
    }

    /** writev(2): writes the buffers in order; returns the total count. */
    public long writev(int fd, MemorySegment... bufs) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = iovec(a, bufs, new MemorySegment[bufs.length], true);
            return check(invoker.invoke(WRITEV, fd, iov.address(), bufs.length, 0, 0, 0), "writev", fd);
        }
    }

    /** lseek(2): returns the new file position. */
    public long lseek(int fd, long offset, int whence) throws IOException {
        return check(invoker.invoke(LSEEK, fd, offset, whence, 0, 0, 0), "lseek", fd);
    }

    /** fsync(2). */
    public void fsync(int fd) throws IOException {
        check(invoker.invoke(FSYNC, fd, 0, 0, 0, 0, 0), "fsync", fd);
    }

    /** fdatasync(2). */
    public void fdatasync(int fd) throws IOException {
        check(invoker.invoke(FDATASYNC, fd, 0, 0, 0, 0, 0), "fdatasync", fd);
    }

    /** ftruncate(2). */
    public void ftruncate(int fd, long length) throws IOException {
        check(invoker.invoke(FTRUNCATE, fd, length, 0, 0, 0, 0), "ftruncate", fd);
    }

    /** fallocate(2). */
    public void fallocate(int fd, int mode, long offset, long length) throws IOException {
        check(invoker.invoke(FALLOCATE, fd, mode, offset, length, 0, 0), "fallocate", fd);
    }

    /** fadvise64(2) (posix_fadvise). */
    public void fadvise(int fd, long offset, long length, int advice) throws IOException {
        check(invoker.invoke(FADVISE64, fd, offset, length, advice, 0, 0), "fadvise64", fd);
    }

    /** fstat(2). */
    public Stat fstat(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(Stat.SIZE, 8);
            check(invoker.invoke(FSTAT, fd, st.address(), 0, 0, 0, 0), "fstat", fd);
            return Stat.from(st);
        }
    }

    /** newfstatat(2) (fstatat). */
    public Stat fstatat(int dirfd, String path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = cString(a, path);
            MemorySegment st = a.allocate(Stat.SIZE, 8);
            check(invoker.invoke(NEWFSTATAT, dirfd, p.address(), st.address(), flags, 0, 0), "newfstatat", path);
            return Stat.from(st);
        }
    }

    /** statx(2) into {@code buf} (a native segment of at least 256 bytes: struct statx). */
    public void statx(int dirfd, String path, int flags, int mask, MemorySegment buf) throws IOException {
        requireNative(buf, 256, "statx");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = cString(a, path);
            check(invoker.invoke(STATX, dirfd, p.address(), flags, mask, buf.address(), 0), "statx", path);
        }
    }

    /** getdents64(2) into a native buffer; returns bytes filled (0 at end of directory). */
    public long getdents64(int fd, MemorySegment buf) throws IOException {
        requireNative(buf, 1, "getdents64");
        return check(invoker.invoke(GETDENTS64, fd, buf.address(), buf.byteSize(), 0, 0, 0), "getdents64", fd);
    }

    /** mkdirat(2). */
    public void mkdirat(int dirfd, String path, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(invoker.invoke(MKDIRAT, dirfd, cString(a, path).address(), mode, 0, 0, 0), "mkdirat", path);
        }
    }

    /** unlinkat(2) ({@code AT_REMOVEDIR} = 0x200 removes a directory). */
    public void unlinkat(int dirfd, String path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(invoker.invoke(UNLINKAT, dirfd, cString(a, path).address(), flags, 0, 0, 0), "unlinkat", path);
        }
    }

    /** renameat2(2). */
    public void renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(invoker.invoke(RENAMEAT2, olddirfd, cString(a, oldpath).address(), newdirfd,
                    cString(a, newpath).address(), flags, 0), "renameat2", oldpath);
        }
    }

    /**
     * sendfile(2): copies up to {@code count} bytes from {@code inFd} to {@code outFd}.
     * {@code offset < 0} reads at (and advances) inFd's file position; otherwise reads at
     * {@code offset} and leaves the position alone. Returns the count.
     */
    public long sendfile(int outFd, int inFd, long offset, long count) throws IOException {
        if (offset < 0) return check(invoker.invoke(SENDFILE, outFd, inFd, 0, count, 0, 0), "sendfile", outFd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment off = a.allocateFrom(ValueLayout.JAVA_LONG, offset);
            return check(invoker.invoke(SENDFILE, outFd, inFd, off.address(), count, 0, 0), "sendfile", outFd);
        }
    }

    /** splice(2); an offset {@code < 0} means "use the file position" (NULL). Returns the count. */
    public long splice(int fdIn, long offIn, int fdOut, long offOut, long len, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            long pin = offIn < 0 ? 0 : a.allocateFrom(ValueLayout.JAVA_LONG, offIn).address();
            long pout = offOut < 0 ? 0 : a.allocateFrom(ValueLayout.JAVA_LONG, offOut).address();
            return check(invoker.invoke(SPLICE, fdIn, pin, fdOut, pout, len, flags), "splice", fdIn);
        }
    }

    /** madvise(2) over a native region (page aligned). */
    public void madvise(MemorySegment region, int advice) throws IOException {
        requireNative(region, 0, "madvise");
        check(invoker.invoke(MADVISE, region.address(), region.byteSize(), advice, 0, 0, 0), "madvise", region.address());
    }

    // ---- sockets ----

    /** socket(2): returns the new descriptor. */
    public int socket(int domain, int type, int protocol) throws IOException {
        return (int) check(invoker.invoke(SOCKET, domain, type, protocol, 0, 0, 0), "socket", domain);
    }

    /** bind(2) to a native {@code struct sockaddr}. */
    public void bind(int fd, MemorySegment addr) throws IOException {
        requireNative(addr, 2, "bind");
        check(invoker.invoke(BIND, fd, addr.address(), addr.byteSize(), 0, 0, 0), "bind", fd);
    }

    /** listen(2). */
    public void listen(int fd, int backlog) throws IOException {
        check(invoker.invoke(LISTEN, fd, backlog, 0, 0, 0, 0), "listen", fd);
    }

    /**
     * accept4(2). {@code addr} (native, or null) receives the peer's address; returns the
     * new descriptor. Blocks until a connection arrives unless the socket is non-blocking;
     * cancelled by an interrupt.
     */
    public int accept4(int fd, MemorySegment addr, int flags) throws IOException {
        if (addr == null) return (int) check(invoker.invoke(ACCEPT4, fd, 0, 0, flags, 0, 0), "accept4", fd);
        requireNative(addr, 2, "accept4");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, (int) addr.byteSize());
            return (int) check(invoker.invoke(ACCEPT4, fd, addr.address(), len.address(), flags, 0, 0), "accept4", fd);
        }
    }

    /** connect(2) to a native {@code struct sockaddr}. */
    public void connect(int fd, MemorySegment addr) throws IOException {
        requireNative(addr, 2, "connect");
        check(invoker.invoke(CONNECT, fd, addr.address(), addr.byteSize(), 0, 0, 0), "connect", fd);
    }

    /** sendto(2); {@code dest} may be null (connected socket). Returns the count sent. */
    public long sendto(int fd, MemorySegment buf, int flags, MemorySegment dest) throws IOException {
        long d = 0, dl = 0;
        if (dest != null) {
            requireNative(dest, 2, "sendto");
            d = dest.address();
            dl = dest.byteSize();
        }
        if (buf.isNative()) return check(invoker.invoke(SENDTO, fd, buf.address(), buf.byteSize(), flags, d, dl), "sendto", fd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = copyIn(a, buf);
            return check(invoker.invoke(SENDTO, fd, tmp.address(), buf.byteSize(), flags, d, dl), "sendto", fd);
        }
    }

    /** recvfrom(2); {@code src} may be null. Returns the count received (0: orderly shutdown). */
    public long recvfrom(int fd, MemorySegment buf, int flags, MemorySegment src) throws IOException {
        checkWritable(buf);
        try (Arena a = Arena.ofConfined()) {
            long s = 0, sl = 0;
            if (src != null) {
                requireNative(src, 2, "recvfrom");
                s = src.address();
                sl = a.allocateFrom(ValueLayout.JAVA_INT, (int) src.byteSize()).address();
            }
            if (buf.isNative()) return check(invoker.invoke(RECVFROM, fd, buf.address(), buf.byteSize(), flags, s, sl), "recvfrom", fd);
            MemorySegment tmp = a.allocate(Math.max(1, buf.byteSize()));
            long n = check(invoker.invoke(RECVFROM, fd, tmp.address(), buf.byteSize(), flags, s, sl), "recvfrom", fd);
            MemorySegment.copy(tmp, 0, buf, 0, n);
            return n;
        }
    }

    /** sendmsg(2) with a native {@code struct msghdr}. */
    public long sendmsg(int fd, MemorySegment msghdr, int flags) throws IOException {
        requireNative(msghdr, 56, "sendmsg");
        return check(invoker.invoke(SENDMSG, fd, msghdr.address(), flags, 0, 0, 0), "sendmsg", fd);
    }

    /** recvmsg(2) with a native {@code struct msghdr}. */
    public long recvmsg(int fd, MemorySegment msghdr, int flags) throws IOException {
        requireNative(msghdr, 56, "recvmsg");
        return check(invoker.invoke(RECVMSG, fd, msghdr.address(), flags, 0, 0, 0), "recvmsg", fd);
    }

    /** shutdown(2). */
    public void shutdown(int fd, int how) throws IOException {
        check(invoker.invoke(SHUTDOWN, fd, how, 0, 0, 0, 0), "shutdown", fd);
    }

    /** setsockopt(2) with a native value. */
    public void setsockopt(int fd, int level, int name, MemorySegment value) throws IOException {
        requireNative(value, 0, "setsockopt");
        check(invoker.invoke(SETSOCKOPT, fd, level, name, value.address(), value.byteSize(), 0), "setsockopt", fd);
    }

    /** setsockopt(2) with an int value. */
    public void setsockopt(int fd, int level, int name, int value) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            setsockopt(fd, level, name, a.allocateFrom(ValueLayout.JAVA_INT, value));
        }
    }

    /** getsockopt(2) into a native buffer; returns the option's length. */
    public int getsockopt(int fd, int level, int name, MemorySegment value) throws IOException {
        requireNative(value, 0, "getsockopt");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, (int) value.byteSize());
            check(invoker.invoke(GETSOCKOPT, fd, level, name, value.address(), len.address(), 0), "getsockopt", fd);
            return len.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** getsockopt(2) of an int option. */
    public int getsockoptInt(int fd, int level, int name) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            getsockopt(fd, level, name, v);
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    // ---- helpers ----

    private static long check(long r, String call) throws IOException {
        if (r < 0) throw error(call, r);
        return r;
    }

    private static long check(long r, String name, int fd) throws IOException {
        if (r < 0) throw error(name + "(fd=" + fd + ")", r);
        return r;
    }

    private static long check(long r, String name, long addr) throws IOException {
        if (r < 0) throw error(name + "(addr=0x" + Long.toHexString(addr) + ")", r);
        return r;
    }

    private static long check(long r, String name, String path) throws IOException {
        if (r < 0) throw error(name + "(path=" + path + ")", r);
        return r;
    }

    private static IOException error(String call, long r) {
        int errno = (int) -r;
        if (errno == Errno.EINTR && Thread.currentThread().isInterrupted()) {
            return new InterruptedIOException(call + ": interrupted (EINTR); the call was cancelled");
        }
        return new ErrnoException(call, errno);
    }

    /** The exception the single call named {@code call} throws for raw result {@code r < 0} (for batches). */
    static IOException errorOf(String call, long r) {
        return error(call, r);
    }

    private static MemorySegment cString(Arena a, String s) {
        Objects.requireNonNull(s, "path");
        if (s.indexOf('\0') >= 0) throw new IllegalArgumentException("path contains a NUL character: " + s);
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = a.allocate(b.length + 1L);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m;
    }

    private static MemorySegment copyIn(Arena a, MemorySegment heap) {
        MemorySegment tmp = a.allocate(Math.max(1, heap.byteSize()));
        MemorySegment.copy(heap, 0, tmp, 0, heap.byteSize());
        return tmp;
    }

    private static void checkWritable(MemorySegment buf) {
        if (buf.isReadOnly()) throw new IllegalArgumentException("buffer is read-only");
    }

    private static void requireNative(MemorySegment s, long min, String call) {
        Objects.requireNonNull(s, call);
        if (!s.isNative()) throw new IllegalArgumentException(call + ": needs a native segment (Arena.allocate), got a heap segment");
        if (s.byteSize() < min) throw new IllegalArgumentException(call + ": segment of " + s.byteSize() + " bytes, needs " + min);
    }

    private static MemorySegment iovec(Arena a, MemorySegment[] bufs, MemorySegment[] nat, boolean copyIn) {
        if (bufs.length > 1024) throw new IllegalArgumentException("at most 1024 buffers (IOV_MAX), got " + bufs.length);
        MemorySegment iov = a.allocate(16L * Math.max(1, bufs.length), 8);
        for (int i = 0; i < bufs.length; i++) {
            MemorySegment b = bufs[i];
            nat[i] = b.isNative() ? b : (copyIn ? copyIn(a, b) : a.allocate(Math.max(1, b.byteSize())));
            iov.set(ValueLayout.JAVA_LONG, 16L * i, nat[i].address());
            iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, b.byteSize());
        }
        return iov;
    }
}
