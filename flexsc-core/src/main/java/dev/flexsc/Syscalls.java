package dev.flexsc;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.OwnedFds;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.util.Objects;

import static dev.flexsc.abi.SyscallTable.*;

/**
 * Typed, allow-listed system calls. One method per call of the allow-list, named
 * after it, with the kernel's argument order; every engine (and the direct-call
 * baseline) runs them through the same code.
 *
 * <p><b>Buffers</b> (the same rules for every method and for {@link SyscallBatch}):
 * <ul>
 * <li>A segment whose arena is closed throws {@link IllegalStateException}; a segment
 *     confined to another thread throws {@link WrongThreadException}; both before anything
 *     is submitted.</li>
 * <li>Native segments of a confined arena, of an automatic arena ({@link Arena#ofAuto()})
 *     or of the global scope (including direct and mapped {@code ByteBuffer}s) are used in
 *     place: the kernel reads or writes them directly, and they are kept reachable until the
 *     call has completed, so the garbage collector cannot free them under the kernel.</li>
 * <li>Heap segments, {@code byte[]} overloads and segments of a shared arena
 *     ({@link Arena#ofShared()}, which another thread may close at any time) go through
 *     native memory FlexSC owns: one copy each way. A read whose shared arena was closed
 *     while it ran throws IllegalStateException when its bytes are copied back (the kernel
 *     never wrote the closed memory).</li>
 * <li>A method returns only when the kernel is done with every byte it was given: an engine
 *     hands a call back only once it completed, also when it is interrupted or the engine
 *     is closed (a call stuck in the kernel is waited for, however long). Only then are
 *     the copies freed.</li>
 * <li>Structures that hold pointers ({@code msghdr}, iovecs built by the caller) are passed
 *     as given: the memory they point to is the caller's to keep alive until the call
 *     returns. The typed {@link #readv}, {@link #writev} and {@link #sendmsg(int, int,
 *     MemorySegment...)} apply the rules above to each buffer.</li>
 * </ul>
 *
 * <p><b>Paths</b> given as a {@code String} are encoded as UTF-8, exactly: one that holds a
 * NUL or a lone surrogate (which has no UTF-8 encoding) throws
 * {@link IllegalArgumentException} before any call. The {@code byte[]} overloads pass a
 * path's bytes as they are (file names need not be UTF-8 on Linux).
 *
 * <p><b>Descriptors</b> the engine owns (its device or ring: {@link SyscallInvoker#ownedFds()})
 * are refused as descriptor arguments with {@link RefusedCallException}.
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
    /** The kind of every descriptor argument {@code a0} of calls made here ({@link #withFdKind}). */
    private final FdKind fdKind;

    /*
     * The error paths' classes are loaded with this one, not on a first error: a class read
     * from a class directory needs a descriptor to load, and a call that failed with EMFILE
     * leaves none (NoClassDefFoundError instead, and for good at that call site). The
     * exceptions' own classes, and Errno's table, which an ErrnoException's message reads.
     */
    static {
        new ErrnoException("load", Errno.EMFILE).getMessage();
        Class<?>[] thrownOnErrors = {EngineClosedException.class, EngineUnavailableException.class,
                RefusedCallException.class}; // a class literal loads its class
        Objects.requireNonNull(thrownOnErrors);
    }

    /** Typed calls over an engine's (or the direct baseline's) raw invoker. */
    public Syscalls(SyscallInvoker invoker) {
        this(invoker, FdKind.UNKNOWN);
    }

    private Syscalls(SyscallInvoker invoker, FdKind fdKind) {
        this.invoker = Objects.requireNonNull(invoker, "invoker");
        this.fdKind = Objects.requireNonNull(fdKind, "fdKind");
    }

    /**
     * The same calls through the same engine, for a caller that makes them on descriptors it
     * knows to be of {@code kind}: every call made through the result whose first argument is
     * a descriptor (read, write, readv, writev above all) promises that descriptor is of
     * {@code kind} until the call returns ({@link FdKind}). A channel that owns a regular file
     * uses it for its reads and writes, so that the default call policy makes them with the
     * plain system call, without trying them without waiting first.
     */
    public Syscalls withFdKind(FdKind kind) {
        return kind == fdKind ? this : new Syscalls(invoker, kind);
    }

    /** The kind {@link #withFdKind} gave these calls ({@link FdKind#UNKNOWN} if none). */
    public FdKind fdKind() {
        return fdKind;
    }

    /** Runs allow-listed call {@code nr} after refusing the engine's own descriptors as arguments. */
    private long call(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        OwnedFds own = invoker.ownedFds();
        if (own != OwnedFds.NONE) own.check(SyscallTable.lookup(nr), a0, a1, a2, a3, a4, a5);
        FdKind k = fdKind;
        return k == FdKind.UNKNOWN ? invoker.invoke(nr, a0, a1, a2, a3, a4, a5)
                : invoker.invoke(k, nr, a0, a1, a2, a3, a4, a5);
    }

    // ---- raw ----

    /**
     * Runs allow-listed system call {@code nr} with up to six arguments. Pointer arguments
     * are passed as given: the memory is the caller's to keep alive until this returns.
     *
     * @return the kernel's raw result: {@code >= 0} a value, {@code < 0} {@code -errno} (not thrown)
     * @throws RefusedCallException if {@code nr} is not allow-listed, or a descriptor argument
     *         is one the engine owns (nothing is submitted)
     * @throws IllegalArgumentException if more than six arguments are given
     */
    public long syscall(int nr, long... args) throws IOException {
        SyscallTable.require(nr);
        if (args.length > 6) throw new IllegalArgumentException("a system call takes at most 6 arguments, got " + args.length);
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        return call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    /**
     * Runs allow-listed system call {@code nr} with six arguments, as {@link #syscall(int,
     * long...)} does, without the argument array: for callers that make a call often and
     * handle its raw result themselves (a non-blocking receive's {@code -EAGAIN}). Pointer
     * arguments are passed as given: the memory is the caller's to keep alive until this
     * returns, and only memory {@link #usableInPlace} says may be used in place belongs here.
     *
     * @return the kernel's raw result: {@code >= 0} a value, {@code < 0} {@code -errno} (not thrown)
     * @throws RefusedCallException if {@code nr} is not allow-listed, or a descriptor argument
     *         is one the engine owns (nothing is submitted)
     */
    public long syscall(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        SyscallTable.require(nr);
        return call(nr, a0, a1, a2, a3, a4, a5);
    }

    /**
     * The buffer rules' verdict on {@code seg} (see the class comment): true if a call may use
     * its memory in place (the caller keeps it reachable until the call returned), false if the
     * call must go through a copy the caller owns (a heap segment, a shared arena's).
     *
     * @throws IllegalStateException if its arena is closed
     * @throws WrongThreadException if it is confined to another thread
     */
    public static boolean usableInPlace(MemorySegment seg) {
        return CallMemory.inPlace(seg, "usableInPlace");
    }

    /**
     * The same calls through the same engine, each one counted in {@code calls} (also
     * readiness waits and each call of a batch): what a provider reports as the calls it made.
     */
    public Syscalls counting(java.util.concurrent.atomic.LongAdder calls) {
        return new Syscalls(new CountingInvoker(invoker, Objects.requireNonNull(calls, "calls")), fdKind);
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
        CallMemory.checkWritable(buf);
        if (CallMemory.inPlace(buf, "getrandom")) {
            try {
                return check(call(GETRANDOM, buf.address(), buf.byteSize(), flags, 0, 0, 0), "getrandom()");
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = CallMemory.roomFor(a, buf);
            long n = check(call(GETRANDOM, tmp.address(), buf.byteSize(), flags, 0, 0, 0), "getrandom()");
            MemorySegment.copy(tmp, 0, buf, 0, n);
            return n;
        }
    }

    // ---- files ----

    /** openat(2): returns the new file descriptor. */
    public int openat(int dirfd, String path, int flags, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = CallMemory.path(a, path, "openat");
            return (int) check(call(OPENAT, dirfd, p.address(), flags, mode, 0, 0), "openat", path);
        }
    }

    /** openat(2) of a path given as its bytes (no NUL): returns the new file descriptor. */
    public int openat(int dirfd, byte[] path, int flags, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = CallMemory.path(a, path, "openat");
            return (int) check(call(OPENAT, dirfd, p.address(), flags, mode, 0, 0), "openat", path);
        }
    }

    /** close(2). */
    public void close(int fd) throws IOException {
        check(call(CLOSE, fd, 0, 0, 0, 0, 0), "close", fd);
    }

    /** read(2): up to {@code buf.byteSize()} bytes at the file position; returns the count (0 at end of file). */
    public long read(int fd, MemorySegment buf) throws IOException {
        CallMemory.checkWritable(buf);
        if (CallMemory.inPlace(buf, "read")) {
            try {
                return check(call(READ, fd, buf.address(), buf.byteSize(), 0, 0, 0), "read", fd);
            } finally {
                Reference.reachabilityFence(buf); // the kernel wrote it until invoke returned
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = CallMemory.roomFor(a, buf);
            long n = check(call(READ, fd, tmp.address(), buf.byteSize(), 0, 0, 0), "read", fd);
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
        if (CallMemory.inPlace(buf, "write")) {
            try {
                return check(call(WRITE, fd, buf.address(), buf.byteSize(), 0, 0, 0), "write", fd);
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = CallMemory.copyOf(a, buf);
            return check(call(WRITE, fd, tmp.address(), buf.byteSize(), 0, 0, 0), "write", fd);
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
        CallMemory.checkWritable(buf);
        if (CallMemory.inPlace(buf, "pread64")) {
            try {
                return check(call(PREAD64, fd, buf.address(), buf.byteSize(), offset, 0, 0), "pread64", fd);
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = CallMemory.roomFor(a, buf);
            long n = check(call(PREAD64, fd, tmp.address(), buf.byteSize(), offset, 0, 0), "pread64", fd);
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
        if (CallMemory.inPlace(buf, "pwrite64")) {
            try {
                return check(call(PWRITE64, fd, buf.address(), buf.byteSize(), offset, 0, 0), "pwrite64", fd);
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = CallMemory.copyOf(a, buf);
            return check(call(PWRITE64, fd, tmp.address(), buf.byteSize(), offset, 0, 0), "pwrite64", fd);
        }
    }

    /** pwrite64(2) of {@code b[off, off+len)}. */
    public long pwrite(int fd, byte[] b, int off, int len, long offset) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return pwrite(fd, MemorySegment.ofArray(b).asSlice(off, len), offset);
    }

    /** readv(2): fills the buffers in order; returns the total count. */
    public long readv(int fd, MemorySegment... bufs) throws IOException {
        for (MemorySegment b : bufs) CallMemory.checkWritable(b);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment[] nat = new MemorySegment[bufs.length];
            MemorySegment iov = iovec(a, bufs, nat, false, "readv");
            long n = check(call(READV, fd, iov.address(), bufs.length, 0, 0, 0), "readv", fd);
            long left = n;
            for (int i = 0; i < bufs.length && left > 0; i++) {
                long k = Math.min(left, bufs[i].byteSize());
                if (nat[i] != bufs[i]) MemorySegment.copy(nat[i], 0, bufs[i], 0, k);
                left -= k;
            }
            return n;
        } finally {
            Reference.reachabilityFence(bufs);
        }
    }

    /** writev(2): writes the buffers in order; returns the total count. */
    public long writev(int fd, MemorySegment... bufs) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = iovec(a, bufs, new MemorySegment[bufs.length], true, "writev");
            return check(call(WRITEV, fd, iov.address(), bufs.length, 0, 0, 0), "writev", fd);
        } finally {
            Reference.reachabilityFence(bufs);
        }
    }

    /** lseek(2): returns the new file position. */
    public long lseek(int fd, long offset, int whence) throws IOException {
        return check(call(LSEEK, fd, offset, whence, 0, 0, 0), "lseek", fd);
    }

    /** fsync(2). */
    public void fsync(int fd) throws IOException {
        check(call(FSYNC, fd, 0, 0, 0, 0, 0), "fsync", fd);
    }

    /** fdatasync(2). */
    public void fdatasync(int fd) throws IOException {
        check(call(FDATASYNC, fd, 0, 0, 0, 0, 0), "fdatasync", fd);
    }

    /** ftruncate(2). */
    public void ftruncate(int fd, long length) throws IOException {
        check(call(FTRUNCATE, fd, length, 0, 0, 0, 0), "ftruncate", fd);
    }

    /** fallocate(2). */
    public void fallocate(int fd, int mode, long offset, long length) throws IOException {
        check(call(FALLOCATE, fd, mode, offset, length, 0, 0), "fallocate", fd);
    }

    /** fadvise64(2) (posix_fadvise). */
    public void fadvise(int fd, long offset, long length, int advice) throws IOException {
        check(call(FADVISE64, fd, offset, length, advice, 0, 0), "fadvise64", fd);
    }

    /** fstat(2). */
    public Stat fstat(int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(Stat.SIZE, 8);
            check(call(FSTAT, fd, st.address(), 0, 0, 0, 0), "fstat", fd);
            return Stat.from(st);
        }
    }

    /** newfstatat(2) (fstatat). */
    public Stat fstatat(int dirfd, String path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            return fstatat(a, dirfd, CallMemory.path(a, path, "newfstatat"), flags, path);
        }
    }

    /** newfstatat(2) (fstatat) of a path given as its bytes. */
    public Stat fstatat(int dirfd, byte[] path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            return fstatat(a, dirfd, CallMemory.path(a, path, "newfstatat"), flags, path);
        }
    }

    private Stat fstatat(Arena a, int dirfd, MemorySegment p, int flags, Object path) throws IOException {
        MemorySegment st = a.allocate(Stat.SIZE, 8);
        check(call(NEWFSTATAT, dirfd, p.address(), st.address(), flags, 0, 0), "newfstatat", path);
        return Stat.from(st);
    }

    /** statx(2) into {@code buf} (a native segment of at least 256 bytes: struct statx). */
    public void statx(int dirfd, String path, int flags, int mask, MemorySegment buf) throws IOException {
        requireNative(buf, 256, "statx");
        CallMemory.checkWritable(buf);
        boolean inPlace = CallMemory.inPlace(buf, "statx");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = CallMemory.path(a, path, "statx");
            MemorySegment dst = inPlace ? buf : CallMemory.roomFor(a, buf);
            check(call(STATX, dirfd, p.address(), flags, mask, dst.address(), 0), "statx", path);
            if (!inPlace) MemorySegment.copy(dst, 0, buf, 0, buf.byteSize());
        } finally {
            Reference.reachabilityFence(buf);
        }
    }

    /** getdents64(2) into a native buffer; returns bytes filled (0 at end of directory). */
    public long getdents64(int fd, MemorySegment buf) throws IOException {
        requireNative(buf, 1, "getdents64");
        CallMemory.checkWritable(buf);
        if (CallMemory.inPlace(buf, "getdents64")) {
            try {
                return check(call(GETDENTS64, fd, buf.address(), buf.byteSize(), 0, 0, 0), "getdents64", fd);
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = CallMemory.roomFor(a, buf);
            long n = check(call(GETDENTS64, fd, tmp.address(), buf.byteSize(), 0, 0, 0), "getdents64", fd);
            MemorySegment.copy(tmp, 0, buf, 0, n);
            return n;
        }
    }

    /** mkdirat(2). */
    public void mkdirat(int dirfd, String path, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(call(MKDIRAT, dirfd, CallMemory.path(a, path, "mkdirat").address(), mode, 0, 0, 0), "mkdirat", path);
        }
    }

    /** mkdirat(2) of a path given as its bytes. */
    public void mkdirat(int dirfd, byte[] path, int mode) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(call(MKDIRAT, dirfd, CallMemory.path(a, path, "mkdirat").address(), mode, 0, 0, 0), "mkdirat", path);
        }
    }

    /** unlinkat(2) ({@link AtFlags#AT_REMOVEDIR} in {@code flags} removes a directory). */
    public void unlinkat(int dirfd, String path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(call(UNLINKAT, dirfd, CallMemory.path(a, path, "unlinkat").address(), flags, 0, 0, 0), "unlinkat", path);
        }
    }

    /** unlinkat(2) of a path given as its bytes. */
    public void unlinkat(int dirfd, byte[] path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(call(UNLINKAT, dirfd, CallMemory.path(a, path, "unlinkat").address(), flags, 0, 0, 0), "unlinkat", path);
        }
    }

    /** renameat2(2). */
    public void renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(call(RENAMEAT2, olddirfd, CallMemory.path(a, oldpath, "renameat2").address(), newdirfd,
                    CallMemory.path(a, newpath, "renameat2").address(), flags, 0), "renameat2", oldpath);
        }
    }

    /** renameat2(2) of paths given as their bytes. */
    public void renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            check(call(RENAMEAT2, olddirfd, CallMemory.path(a, oldpath, "renameat2").address(), newdirfd,
                    CallMemory.path(a, newpath, "renameat2").address(), flags, 0), "renameat2", oldpath);
        }
    }

    /**
     * sendfile(2): copies up to {@code count} bytes from {@code inFd} to {@code outFd}.
     * {@code offset < 0} reads at (and advances) inFd's file position; otherwise reads at
     * {@code offset} and leaves the position alone. Returns the count.
     */
    public long sendfile(int outFd, int inFd, long offset, long count) throws IOException {
        if (offset < 0) return check(call(SENDFILE, outFd, inFd, 0, count, 0, 0), "sendfile", outFd);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment off = a.allocateFrom(ValueLayout.JAVA_LONG, offset);
            return check(call(SENDFILE, outFd, inFd, off.address(), count, 0, 0), "sendfile", outFd);
        }
    }

    /** splice(2); an offset {@code < 0} means "use the file position" (NULL). Returns the count. */
    public long splice(int fdIn, long offIn, int fdOut, long offOut, long len, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            long pin = offIn < 0 ? 0 : a.allocateFrom(ValueLayout.JAVA_LONG, offIn).address();
            long pout = offOut < 0 ? 0 : a.allocateFrom(ValueLayout.JAVA_LONG, offOut).address();
            return check(call(SPLICE, fdIn, pin, fdOut, pout, len, flags), "splice", fdIn);
        }
    }

    /**
     * madvise(2) over a native region (page aligned). The region is used in place (advice is
     * about the memory itself): one of a shared arena is accepted only for advice that keeps
     * its contents (WILLNEED, POPULATE_READ/WRITE, ...), since another thread could close the
     * arena and the kernel would then discard or zero memory the caller no longer owns.
     *
     * @throws IllegalArgumentException for a heap segment, or for a shared arena's region
     *         with advice that changes contents (DONTNEED, FREE, REMOVE, ...)
     */
    public void madvise(MemorySegment region, int advice) throws IOException {
        requireNative(region, 0, "madvise");
        if (!CallMemory.inPlace(region, "madvise") && !CallMemory.keepsContents(advice)) {
            throw new IllegalArgumentException("madvise(addr=0x" + Long.toHexString(region.address()) + ", advice="
                    + advice + "): the region belongs to a shared arena, which another thread may close while the call"
                    + " runs, and this advice changes its contents; use a confined, automatic or global arena's region");
        }
        try {
            check(call(MADVISE, region.address(), region.byteSize(), advice, 0, 0, 0), "madvise", region.address());
        } finally {
            Reference.reachabilityFence(region);
        }
    }

    // ---- sockets ----

    /** socket(2): returns the new descriptor. */
    public int socket(int domain, int type, int protocol) throws IOException {
        return (int) check(invoker.invoke(SOCKET, domain, type, protocol, 0, 0, 0), "socket", domain);
    }

    /** bind(2) to a native {@code struct sockaddr}. */
    public void bind(int fd, MemorySegment addr) throws IOException {
        requireNative(addr, 2, "bind");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = CallMemory.inPlace(addr, "bind") ? addr : CallMemory.copyOf(a, addr);
            check(call(BIND, fd, src.address(), socklen(addr), 0, 0, 0), "bind", fd);
        } finally {
            Reference.reachabilityFence(addr);
        }
    }

    /** listen(2). */
    public void listen(int fd, int backlog) throws IOException {
        check(call(LISTEN, fd, backlog, 0, 0, 0, 0), "listen", fd);
    }

    /**
     * accept4(2). {@code addr} (native, or null) receives the peer's address; returns the
     * new descriptor. Blocks until a connection arrives unless the socket is non-blocking;
     * cancelled by an interrupt.
     */
    public int accept4(int fd, MemorySegment addr, int flags) throws IOException {
        if (addr == null) return (int) check(call(ACCEPT4, fd, 0, 0, flags, 0, 0), "accept4", fd);
        requireNative(addr, 2, "accept4");
        CallMemory.checkWritable(addr);
        boolean inPlace = CallMemory.inPlace(addr, "accept4");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, socklen(addr));
            MemorySegment dst = inPlace ? addr : CallMemory.roomFor(a, addr);
            int r = (int) check(call(ACCEPT4, fd, dst.address(), len.address(), flags, 0, 0), "accept4", fd);
            if (!inPlace) MemorySegment.copy(dst, 0, addr, 0, Math.min(addr.byteSize(), len.get(ValueLayout.JAVA_INT, 0)));
            return r;
        } finally {
            Reference.reachabilityFence(addr);
        }
    }

    /** connect(2) to a native {@code struct sockaddr}. */
    public void connect(int fd, MemorySegment addr) throws IOException {
        requireNative(addr, 2, "connect");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = CallMemory.inPlace(addr, "connect") ? addr : CallMemory.copyOf(a, addr);
            check(call(CONNECT, fd, src.address(), socklen(addr), 0, 0, 0), "connect", fd);
        } finally {
            Reference.reachabilityFence(addr);
        }
    }

    /** sendto(2); {@code dest} may be null (connected socket). Returns the count sent. */
    public long sendto(int fd, MemorySegment buf, int flags, MemorySegment dest) throws IOException {
        if (dest != null) requireNative(dest, 2, "sendto");
        boolean inPlace = CallMemory.inPlace(buf, "sendto");
        if (inPlace && dest == null) {
            try {
                return check(call(SENDTO, fd, buf.address(), buf.byteSize(), flags, 0, 0), "sendto", fd);
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = inPlace ? buf : CallMemory.copyOf(a, buf);
            long d = 0, dl = 0;
            if (dest != null) {
                d = (CallMemory.inPlace(dest, "sendto") ? dest : CallMemory.copyOf(a, dest)).address();
                dl = socklen(dest);
            }
            return check(call(SENDTO, fd, src.address(), buf.byteSize(), flags, d, dl), "sendto", fd);
        } finally {
            Reference.reachabilityFence(buf);
            Reference.reachabilityFence(dest);
        }
    }

    /** recvfrom(2); {@code src} may be null. Returns the count received (0: orderly shutdown). */
    public long recvfrom(int fd, MemorySegment buf, int flags, MemorySegment src) throws IOException {
        CallMemory.checkWritable(buf);
        boolean inPlace = CallMemory.inPlace(buf, "recvfrom");
        if (inPlace && src == null) {
            try {
                return check(call(RECVFROM, fd, buf.address(), buf.byteSize(), flags, 0, 0), "recvfrom", fd);
            } finally {
                Reference.reachabilityFence(buf);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            long s = 0, sl = 0;
            MemorySegment from = null, fromLen = null;
            if (src != null) {
                requireNative(src, 2, "recvfrom");
                CallMemory.checkWritable(src);
                from = CallMemory.inPlace(src, "recvfrom") ? src : CallMemory.roomFor(a, src);
                fromLen = a.allocateFrom(ValueLayout.JAVA_INT, socklen(src));
                s = from.address();
                sl = fromLen.address();
            }
            MemorySegment dst = inPlace ? buf : CallMemory.roomFor(a, buf);
            long n = check(call(RECVFROM, fd, dst.address(), buf.byteSize(), flags, s, sl), "recvfrom", fd);
            if (!inPlace) MemorySegment.copy(dst, 0, buf, 0, n);
            if (from != null && from != src) {
                MemorySegment.copy(from, 0, src, 0, Math.min(src.byteSize(), fromLen.get(ValueLayout.JAVA_INT, 0)));
            }
            return n;
        } finally {
            Reference.reachabilityFence(buf);
            Reference.reachabilityFence(src);
        }
    }

    /**
     * sendmsg(2) with a native {@code struct msghdr}. The buffers and address it points to
     * are passed as given (see the class comment); the struct itself follows the buffer rules.
     */
    public long sendmsg(int fd, MemorySegment msghdr, int flags) throws IOException {
        requireNative(msghdr, 56, "sendmsg");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = CallMemory.inPlace(msghdr, "sendmsg") ? msghdr : CallMemory.copyOf(a, msghdr);
            return check(call(SENDMSG, fd, m.address(), flags, 0, 0, 0), "sendmsg", fd);
        } finally {
            Reference.reachabilityFence(msghdr);
        }
    }

    /**
     * sendmsg(2) of {@code bufs} in order, with no address and no control data: a gather
     * send whose buffers follow the buffer rules (as {@link #writev}). Returns the count sent.
     */
    public long sendmsg(int fd, int flags, MemorySegment... bufs) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = iovec(a, bufs, new MemorySegment[bufs.length], true, "sendmsg");
            MemorySegment msg = a.allocate(56, 8); // struct msghdr, zeroed: no name, no control data
            msg.set(ValueLayout.JAVA_LONG, 16, iov.address()); // msg_iov
            msg.set(ValueLayout.JAVA_LONG, 24, bufs.length); // msg_iovlen
            return check(call(SENDMSG, fd, msg.address(), flags, 0, 0, 0), "sendmsg", fd);
        } finally {
            Reference.reachabilityFence(bufs);
        }
    }

    /**
     * recvmsg(2) with a native {@code struct msghdr}. The buffers it points to are passed as
     * given (see the class comment); the struct itself follows the buffer rules.
     */
    public long recvmsg(int fd, MemorySegment msghdr, int flags) throws IOException {
        requireNative(msghdr, 56, "recvmsg");
        CallMemory.checkWritable(msghdr);
        boolean inPlace = CallMemory.inPlace(msghdr, "recvmsg");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = inPlace ? msghdr : CallMemory.copyOf(a, msghdr);
            long n = check(call(RECVMSG, fd, m.address(), flags, 0, 0, 0), "recvmsg", fd);
            if (!inPlace) MemorySegment.copy(m, 0, msghdr, 0, msghdr.byteSize()); // lengths and flags the kernel set
            return n;
        } finally {
            Reference.reachabilityFence(msghdr);
        }
    }

    /** shutdown(2). */
    public void shutdown(int fd, int how) throws IOException {
        check(call(SHUTDOWN, fd, how, 0, 0, 0, 0), "shutdown", fd);
    }

    /** setsockopt(2) with a native value. */
    public void setsockopt(int fd, int level, int name, MemorySegment value) throws IOException {
        requireNative(value, 0, "setsockopt");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = CallMemory.inPlace(value, "setsockopt") ? value : CallMemory.copyOf(a, value);
            check(call(SETSOCKOPT, fd, level, name, v.address(), socklen(value), 0), "setsockopt", fd);
        } finally {
            Reference.reachabilityFence(value);
        }
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
        CallMemory.checkWritable(value);
        boolean inPlace = CallMemory.inPlace(value, "getsockopt");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, socklen(value));
            MemorySegment dst = inPlace ? value : CallMemory.roomFor(a, value);
            check(call(GETSOCKOPT, fd, level, name, dst.address(), len.address(), 0), "getsockopt", fd);
            int n = len.get(ValueLayout.JAVA_INT, 0);
            if (!inPlace) MemorySegment.copy(dst, 0, value, 0, Math.min(value.byteSize(), n));
            return n;
        } finally {
            Reference.reachabilityFence(value);
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

    /** getsockname(2) into a native buffer; returns the address's length. */
    public int getsockname(int fd, MemorySegment addr) throws IOException {
        return sockname(GETSOCKNAME, "getsockname", fd, addr);
    }

    /** getpeername(2) into a native buffer; returns the address's length. */
    public int getpeername(int fd, MemorySegment addr) throws IOException {
        return sockname(GETPEERNAME, "getpeername", fd, addr);
    }

    private int sockname(int nr, String name, int fd, MemorySegment addr) throws IOException {
        requireNative(addr, 2, name);
        CallMemory.checkWritable(addr);
        boolean inPlace = CallMemory.inPlace(addr, name);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(ValueLayout.JAVA_INT, socklen(addr));
            MemorySegment dst = inPlace ? addr : CallMemory.roomFor(a, addr);
            check(call(nr, fd, dst.address(), len.address(), 0, 0, 0), name, fd);
            int n = len.get(ValueLayout.JAVA_INT, 0);
            if (!inPlace) MemorySegment.copy(dst, 0, addr, 0, Math.min(addr.byteSize(), n));
            return n;
        } finally {
            Reference.reachabilityFence(addr);
        }
    }

    // ---- readiness ----

    /**
     * poll(2) of {@code nfds} {@code struct pollfd}s (8 bytes each: int fd, short events,
     * short revents) in {@code fds}; the kernel writes each revents. Waits up to
     * {@code timeoutMs} milliseconds (negative: without bound; 0: returns at once). Returns
     * the number of descriptors with events, 0 on timeout. Cancelled by an interrupt.
     */
    public int poll(MemorySegment fds, int nfds, int timeoutMs) throws IOException {
        Objects.requireNonNull(fds, "fds");
        if (nfds < 0 || 8L * nfds > fds.byteSize()) {
            throw new IllegalArgumentException("poll: " + nfds + " pollfds do not fit in " + fds.byteSize() + " bytes");
        }
        CallMemory.checkWritable(fds);
        boolean inPlace = CallMemory.inPlace(fds, "poll");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = inPlace ? fds : CallMemory.copyOf(a, fds);
            int n = (int) check(call(POLL, p.address(), nfds, timeoutMs, 0, 0, 0), "poll(nfds=" + nfds + ")");
            if (!inPlace) MemorySegment.copy(p, 0, fds, 0, 8L * nfds);
            return n;
        } finally {
            Reference.reachabilityFence(fds);
        }
    }

    /**
     * Waits until descriptor {@code fd} has one of {@code events} ({@link PollFlags}
     * {@code POLLIN}, {@code POLLOUT}, ...) or {@code timeoutMs} milliseconds passed (negative:
     * without bound), as poll(2) of one descriptor: the engine's readiness wait (an io_uring
     * poll entry where the engine has one, a posted poll(2) elsewhere,
     * {@link SyscallInvoker#awaitReady}). Returns the events that are ready, {@code POLLERR},
     * {@code POLLHUP} and {@code POLLNVAL} included, or 0 on timeout. Cancelled by an
     * interrupt (InterruptedIOException) and by a cancelled {@link dev.flexsc.spi.CancelScope}
     * (an ErrnoException with EINTR).
     */
    public int awaitReady(int fd, int events, int timeoutMs) throws IOException {
        return (int) check(invoker.awaitReady(fd, events, timeoutMs), "poll", fd);
    }

    /** epoll_create1(2): returns the new epoll descriptor. */
    public int epollCreate1(int flags) throws IOException {
        return (int) check(invoker.invoke(EPOLL_CREATE1, flags, 0, 0, 0, 0, 0), "epoll_create1(flags=" + flags + ")");
    }

    /**
     * epoll_ctl(2) with a {@code struct epoll_event} of {@code events} and 64 bits of
     * {@code data} (built here; ignored by EPOLL_CTL_DEL).
     */
    public void epollCtl(int epfd, int op, int fd, int events, long data) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = a.allocate(12, 4); // packed on x86-64: u32 events, u64 data at offset 4
            ev.set(ValueLayout.JAVA_INT, 0, events);
            ev.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, data);
            check(call(EPOLL_CTL, epfd, op, fd, ev.address(), 0, 0), "epoll_ctl", epfd);
        }
    }

    /**
     * epoll_wait(2) into {@code events} ({@code maxevents} packed 12-byte {@code struct
     * epoll_event}s); waits up to {@code timeoutMs} milliseconds (negative: without bound; 0:
     * returns at once). Returns the number of events written. Cancelled by an interrupt.
     */
    public int epollWait(int epfd, MemorySegment events, int maxevents, int timeoutMs) throws IOException {
        Objects.requireNonNull(events, "events");
        if (maxevents <= 0 || 12L * maxevents > events.byteSize()) {
            throw new IllegalArgumentException("epoll_wait: " + maxevents + " events do not fit in " + events.byteSize() + " bytes");
        }
        CallMemory.checkWritable(events);
        boolean inPlace = CallMemory.inPlace(events, "epoll_wait");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = inPlace ? events : CallMemory.roomFor(a, events);
            int n = (int) check(call(EPOLL_WAIT, epfd, dst.address(), maxevents, timeoutMs, 0, 0), "epoll_wait", epfd);
            if (!inPlace) MemorySegment.copy(dst, 0, events, 0, 12L * n);
            return n;
        } finally {
            Reference.reachabilityFence(events);
        }
    }

    /** eventfd2(2): returns the new descriptor. */
    public int eventfd2(int initval, int flags) throws IOException {
        return (int) check(invoker.invoke(EVENTFD2, Integer.toUnsignedLong(initval), flags, 0, 0, 0, 0),
                "eventfd2(flags=" + flags + ")");
    }

    /** pipe2(2): returns {read end, write end}. */
    public int[] pipe2(int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8, 4);
            check(invoker.invoke(PIPE2, fds.address(), flags, 0, 0, 0, 0), "pipe2(flags=" + flags + ")");
            return new int[] {fds.get(ValueLayout.JAVA_INT, 0), fds.get(ValueLayout.JAVA_INT, 4)};
        }
    }

    // ---- helpers ----

    /**
     * A socket length for a segment of any size: the kernel's {@code socklen_t}/{@code int}
     * lengths are 32 bits, and a segment of 2^31 bytes or more (cast, it would be negative or
     * cut short) is at least as large as the kernel will ever use.
     */
    private static int socklen(MemorySegment s) {
        return (int) Math.min(s.byteSize(), Integer.MAX_VALUE);
    }

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

    /** {@code path}: a String, or a byte[] path (decoded as UTF-8 for the message only). */
    private static long check(long r, String name, Object path) throws IOException {
        if (r < 0) {
            String p = path instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(path);
            throw error(name + "(path=" + p + ")", r);
        }
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

    private static void requireNative(MemorySegment s, long min, String call) {
        Objects.requireNonNull(s, call);
        if (!s.isNative()) throw new IllegalArgumentException(call + ": needs a native segment (Arena.allocate), got a heap segment");
        if (s.byteSize() < min) throw new IllegalArgumentException(call + ": segment of " + s.byteSize() + " bytes, needs " + min);
    }

    /**
     * An iovec array over {@code bufs} in {@code a}: each buffer in place or through a copy
     * ({@code nat[i]}, copied in when {@code copyIn}) as the buffer rules say.
     */
    private static MemorySegment iovec(Arena a, MemorySegment[] bufs, MemorySegment[] nat, boolean copyIn, String call) {
        if (bufs.length > 1024) throw new IllegalArgumentException("at most 1024 buffers (IOV_MAX), got " + bufs.length);
        MemorySegment iov = a.allocate(16L * Math.max(1, bufs.length), 8);
        for (int i = 0; i < bufs.length; i++) {
            MemorySegment b = bufs[i];
            nat[i] = CallMemory.inPlace(b, call) ? b : (copyIn ? CallMemory.copyOf(a, b) : CallMemory.roomFor(a, b));
            iov.set(ValueLayout.JAVA_LONG, 16L * i, nat[i].address());
            iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, b.byteSize());
        }
        return iov;
    }
}
