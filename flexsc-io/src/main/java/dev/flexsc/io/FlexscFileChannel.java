package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FdKind;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Stat;
import dev.flexsc.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystems;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.Collections;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link FileChannel} whose operations are FlexSC system calls: from a FlexSC green
 * thread they are posted to the syscall page and the thread parks while its carrier runs
 * others; from a platform thread they wait for the syscall thread. It behaves as the
 * JDK's file channel does (same results, same exceptions, same file contents; a
 * differential test holds it to that).
 *
 * <table>
 * <caption>Operations and the calls they make</caption>
 * <tr><th>operation</th><th>system calls</th></tr>
 * <tr><td>{@link #open open}</td><td>openat (unlinkat for DELETE_ON_CLOSE)</td></tr>
 * <tr><td>read / write at the position</td><td>read / write; readv / writev for several buffers</td></tr>
 * <tr><td>read / write at a position</td><td>pread64 / pwrite64</td></tr>
 * <tr><td>position, position(p)</td><td>lseek (fstat in append mode)</td></tr>
 * <tr><td>size, truncate</td><td>fstat; fstat, lseek, ftruncate, lseek</td></tr>
 * <tr><td>force</td><td>fsync (metadata) or fdatasync</td></tr>
 * <tr><td>transferTo</td><td>sendfile to a FlexSC file or socket channel; else pread64 + the target's write</td></tr>
 * <tr><td>transferFrom</td><td>the source's read + pwrite64</td></tr>
 * <tr><td>lock, tryLock, map</td><td>delegated to a JDK channel on the same open file (see below)</td></tr>
 * <tr><td>close</td><td>close, once no operation uses the descriptor any more</td></tr>
 * </table>
 *
 * <p><b>Buffers.</b> Direct buffers are used in place; heap buffers go through pooled
 * native memory (one copy).
 *
 * <p><b>Close and interrupt</b> follow {@link java.nio.channels.InterruptibleChannel}:
 * closing the channel makes a thread blocked in it throw
 * {@link java.nio.channels.AsynchronousCloseException} (a read or write blocked on a FIFO
 * included: close cancels the channel's calls that may block, as an interrupt does);
 * interrupting a thread blocked in it (or calling it with the interrupt status set) closes
 * the channel and throws {@link java.nio.channels.ClosedByInterruptException} with the
 * interrupt status set. A call that cannot be cancelled (stuck in the kernel on FUSE or
 * NFS) is waited for, as the JDK's channel waits for it. The descriptor is closed when the
 * last operation using it has returned, never under it.
 *
 * <p><b>Paths</b> reach the kernel as the JDK's own bytes for them (the file
 * {@link java.nio.file.Files} would open), whatever the JVM's file-name encoding.
 *
 * <p><b>Locks and mapping</b> are delegated to a JDK {@code FileChannel} opened on
 * {@code /proc/self/fd/N} (this channel's descriptor; the same inode, with this channel's
 * access modes), opened on first use and closed with this channel. POSIX record locks
 * belong to the process and the inode, so a lock taken through it is the same lock for the
 * kernel and for other processes, and the JDK's own table still reports overlaps with
 * other channels of this JVM ({@link java.nio.channels.OverlappingFileLockException}).
 * A mapping is of the inode's pages, so it sees this channel's writes. Needs {@code /proc}.
 *
 * <p>Thread-safe, like the JDK's: operations at the file position are serialised;
 * positional reads and writes run concurrently.
 */
public final class FlexscFileChannel extends FileChannel {
    private static final int SEEK_SET = 0, SEEK_CUR = 1;

    private final Syscalls sys;
    private final ChannelFd fd;
    private final Path path;
    private final boolean readable, writable, append;
    /** Serialises the operations that use or move the file position, as the JDK does. */
    private final ReentrantLock positionLock = new ReentrantLock();
    /** The JDK channel that locks and maps (see the class comment). */
    private final ProcFdChannel jdkChannel;
    private final ChannelIo.Runner runner = this::io;
    /**
     * The channel's calls run in this scope: close() cancels it, which makes a call blocked
     * in the kernel (a read on a FIFO) end as an interrupt would, without the interrupt.
     */
    private final dev.flexsc.spi.CancelScope calls = new dev.flexsc.spi.CancelScope();
    /**
     * The calls of reads and writes at the file position: {@link #sys} naming the descriptor's
     * {@link FdKind}, once an fstat of it told it (null before). For a regular file the default
     * call policy then makes them with the plain system call, without a try that does not wait
     * first (docs/io.md, "Call policies", point 6). The kind holds for the channel's life: the
     * channel owns its descriptor, and {@link ChannelFd} keeps the number from reuse while a
     * call uses it. Volatile: written by whichever operations made an fstat first, each with
     * an equal view (the same engine, the same kind); a reader that sees null asks fstat itself.
     */
    private volatile Syscalls kindCalls;
    /** Set once before the channel is shared (FlexscFiles' streams); volatile for safety. */
    private volatile boolean uninterruptible;

    private FlexscFileChannel(Syscalls sys, int fd, Path path, boolean readable, boolean writable, boolean append) {
        this.sys = sys;
        this.fd = new ChannelFd(fd, sys);
        this.path = path;
        this.readable = readable;
        this.writable = writable;
        this.append = append;
        this.jdkChannel = new ProcFdChannel(this.fd, readable, writable);
    }

    // ---- opening ----

    /**
     * Opens or creates a file as {@link FileChannel#open(Path, OpenOption...)} does, with
     * FlexSC calls through {@link Flexsc#syscalls()}.
     *
     * @throws IllegalArgumentException for an invalid combination (READ + APPEND, APPEND + TRUNCATE_EXISTING)
     * @throws UnsupportedOperationException for a path of another file system or an unknown option
     * @throws java.nio.file.NoSuchFileException      openat: ENOENT
     * @throws java.nio.file.FileAlreadyExistsException openat: EEXIST (CREATE_NEW)
     * @throws java.nio.file.AccessDeniedException     openat: EACCES or EPERM
     * @throws java.nio.file.FileSystemException       openat: another errno (the reason names it)
     */
    public static FlexscFileChannel open(Path path, OpenOption... options) throws IOException {
        return open(Flexsc.syscalls(), path, options);
    }

    /** As {@link FileChannel#open(Path, Set, FileAttribute[])}, through {@link Flexsc#syscalls()}. */
    public static FlexscFileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        return open(Flexsc.syscalls(), path, options, attrs);
    }

    /** As {@link #open(Path, OpenOption...)}, with the calls of {@code engine}. */
    public static FlexscFileChannel open(FlexscEngine engine, Path path, OpenOption... options) throws IOException {
        return open(engine.syscalls(), path, options);
    }

    /** As {@link #open(Path, OpenOption...)}, with the calls of {@code syscalls}. */
    public static FlexscFileChannel open(Syscalls syscalls, Path path, OpenOption... options) throws IOException {
        Set<OpenOption> set = new HashSet<>(options.length);
        Collections.addAll(set, options);
        return open(syscalls, path, set);
    }

    /** As {@link #open(Path, Set, FileAttribute[])}, with the calls of {@code syscalls}. */
    public static FlexscFileChannel open(Syscalls syscalls, Path path, Set<? extends OpenOption> options,
                                         FileAttribute<?>... attrs) throws IOException {
        Objects.requireNonNull(syscalls, "syscalls");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        if (path.getFileSystem() != FileSystems.getDefault()) {
            throw new UnsupportedOperationException("FlexscFileChannel opens files of the default file system only, not "
                    + path.getFileSystem().provider().getScheme() + ": " + path);
        }
        OpenFlags f = OpenFlags.of(options, attrs);
        byte[] name = PathBytes.of(path); // the JDK's bytes for the path, not toString() encoded again
        int fd;
        try {
            fd = syscalls.openat(Syscalls.AT_FDCWD, name, f.flags(), f.mode());
        } catch (ErrnoException e) {
            throw OpenFlags.translate(e, path);
        }
        if (f.deleteOnClose()) {
            // As the JDK on Unix: unlink at once; the open descriptor keeps the file alive until close.
            try {
                syscalls.unlinkat(Syscalls.AT_FDCWD, name, 0);
            } catch (ErrnoException ignored) {
                // best effort, as specified for DELETE_ON_CLOSE
            }
        }
        return new FlexscFileChannel(syscalls, fd, path, f.readable(), f.writable(), f.append());
    }

    /**
     * True if {@link #open(Syscalls, Path, Set, FileAttribute[])} takes these options and
     * attributes: {@link StandardOpenOption}s, {@code NOFOLLOW_LINKS}, and the permissions as the
     * only initial attribute. For others (the JDK's {@code ExtendedOpenOption}s) open throws
     * UnsupportedOperationException where the JDK's channel would open the file.
     */
    public static boolean takes(Set<? extends OpenOption> options, FileAttribute<?>... attrs) {
        for (OpenOption o : options) {
            if (!(o instanceof StandardOpenOption) && o != java.nio.file.LinkOption.NOFOLLOW_LINKS) return false;
        }
        for (FileAttribute<?> a : attrs) {
            if (a == null || !(a.name().equals("posix:permissions") || a.name().equals("unix:permissions"))) return false;
        }
        return true;
    }

    /** The calls this channel makes. */
    public Syscalls syscalls() {
        return sys;
    }

    /** The path it was opened with. */
    public Path path() {
        return path;
    }

    ChannelFd channelFd() {
        return fd;
    }

    boolean isWritable() {
        return writable;
    }

    boolean isAppend() {
        return append;
    }

    // ---- the bracket around every call ----

    /**
     * Runs one call on the descriptor between begin() and end(): an interrupt closes the
     * channel (ClosedByInterruptException), a concurrent close makes an operation that had
     * no effect throw AsynchronousCloseException, and the descriptor stays open until the
     * call has returned. Returns -1 only if end() is about to throw.
     */
    private long io(ChannelIo.FdCall call, long completedAtLeast) throws IOException {
        if (uninterruptible) {
            return ioInBracket(call, completedAtLeast, false);
        }
        try {
            return ioInBracket(call, completedAtLeast, true);
        } catch (IOException e) {
            throw ChannelIo.afterInterrupt(this, e); // an interrupt that got there before the JDK's interruptor
        }
    }

    private long ioInBracket(ChannelIo.FdCall call, long completedAtLeast, boolean interruptible) throws IOException {
        boolean completed = false;
        if (interruptible) begin();
        try {
            long r = calls.run(() -> fd.run(this, call)); // -1 if closed before or under the call: end() reports it
            completed = r >= completedAtLeast;
            return r;
        } finally {
            if (interruptible) end(completed);
            else if (!completed && !isOpen()) throw new AsynchronousCloseException();
        }
    }

    /**
     * Makes an interrupt leave this channel open, as the JDK does for the channels behind
     * {@code Files.newInputStream}/{@code newOutputStream}: a blocking call that the
     * interrupt cancels (a read on a FIFO) throws InterruptedIOException instead.
     */
    void setUninterruptible() {
        uninterruptible = true;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) throw new ClosedChannelException();
    }

    private void ensureReadable() {
        if (!readable) throw new NonReadableChannelException();
    }

    private void ensureWritable() {
        if (!writable) throw new NonWritableChannelException();
    }

    /** Runs {@code op} holding the position lock: the JDK serialises these operations too. */
    private long atPosition(ChannelIo.Op op) throws IOException {
        positionLock.lock();
        try {
            return op.run();
        } finally {
            positionLock.unlock();
        }
    }

    // ---- reading and writing ----

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        ensureOpen();
        ensureReadable();
        if (dst.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
        return (int) atPosition(() -> ChannelIo.read(runner, dst, (f, b) -> calls(f).read(f, b)));
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        ensureOpen();
        ensureReadable();
        return atPosition(() -> ChannelIo.read(runner, dsts, offset, length, (f, b) -> calls(f).readv(f, b)));
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        ensureOpen();
        ensureWritable();
        return (int) atPosition(() -> ChannelIo.write(runner, src, (f, b) -> calls(f).write(f, b)));
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ensureOpen();
        ensureWritable();
        return atPosition(() -> ChannelIo.write(runner, srcs, offset, length, (f, b) -> calls(f).writev(f, b)));
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        Objects.requireNonNull(dst, "dst");
        if (position < 0) throw new IllegalArgumentException("Negative position");
        ensureOpen();
        ensureReadable();
        if (dst.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
        return ChannelIo.read(runner, dst, (f, b) -> sys.pread(f, b, position));
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        Objects.requireNonNull(src, "src");
        if (position < 0) throw new IllegalArgumentException("Negative position");
        ensureOpen();
        ensureWritable();
        return ChannelIo.write(runner, src, (f, b) -> sys.pwrite(f, b, position));
    }

    /**
     * The calls for a read or write at the position on descriptor {@code f} (held by the
     * caller's bracket): {@link #kindCalls}, after one fstat on the channel's first use.
     */
    private Syscalls calls(int f) throws IOException {
        Syscalls c = kindCalls; // volatile read, pairs with the write in fstat()
        if (c != null) return c;
        fstat(f);
        return kindCalls;
    }

    /** fstat(2) of the channel's descriptor {@code f}, which also tells {@link #kindCalls}. */
    private Stat fstat(int f) throws IOException {
        Stat st = sys.fstat(f);
        if (kindCalls == null) kindCalls = sys.withFdKind(st.fdKind()); // volatile write, pairs with calls()' read
        return st;
    }

    // ---- position, size ----

    @Override
    public long position() throws IOException {
        ensureOpen();
        // In append mode every write goes to the end first: the position is the size.
        return atPosition(() -> io(f -> append ? fstat(f).size() : sys.lseek(f, 0, SEEK_CUR), 0));
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) throw new IllegalArgumentException();
        atPosition(() -> io(f -> sys.lseek(f, newPosition, SEEK_SET), 0));
        return this;
    }

    @Override
    public long size() throws IOException {
        ensureOpen();
        return atPosition(() -> io(f -> fstat(f).size(), 0));
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        ensureOpen();
        if (size < 0) throw new IllegalArgumentException("Negative size");
        ensureWritable();
        atPosition(() -> io(f -> {
            long current = fstat(f).size();
            long p = sys.lseek(f, 0, SEEK_CUR);
            if (size < current) sys.ftruncate(f, size);
            return sys.lseek(f, Math.min(p, size), SEEK_SET); // a position past the new end moves to it
        }, 0));
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        ensureOpen();
        io(f -> {
            if (metaData) sys.fsync(f);
            else sys.fdatasync(f);
            return 0;
        }, 0);
    }

    // ---- transfers ----

    private static final int TRANSFER_SIZE = 64 * 1024;

    /**
     * As {@link FileChannel#transferTo}: sendfile(2) into a {@link FlexscFileChannel} (not
     * in append mode: the kernel refuses it) or a {@link FlexscSocketChannel}; otherwise
     * pread64 into native memory and the target's own write.
     */
    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        ensureOpen();
        if (!target.isOpen()) throw new ClosedChannelException();
        ensureReadable();
        if (target instanceof FlexscFileChannel fc && !fc.writable) throw new NonWritableChannelException();
        if (position < 0 || count < 0) throw new IllegalArgumentException();
        long sz = size();
        if (position > sz) return 0;
        // Files such as those of /proc report size 0 and still have bytes: do not clip those.
        if (sz > 0) count = Math.min(count, sz - position);
        if (count == 0) return 0;
        // sendfile writes at the target's file position (or into its socket): hold the lock the
        // target's own write would hold, so a concurrent write to it cannot interleave.
        ReentrantLock targetLock = null;
        ChannelFd out = null;
        if (target instanceof FlexscFileChannel fc && !fc.append) {
            out = fc.channelFd();
            targetLock = fc.positionLock;
        } else if (target instanceof FlexscSocketChannel sc && sc.isConnected() && !sc.isOutputShutdown()) {
            // the socket's own write bracket: blocking mode waits for room, non-blocking sends what fits
            if (!fd.acquire()) throw new ClosedChannelException();
            try {
                long n = sc.sendfileFrom(fd, position, count);
                if (n >= 0) return n;
            } finally {
                fd.release();
            }
        }
        if (out != null) {
            targetLock.lock();
            try {
                long n = sendfile(out, position, count);
                if (n >= 0) return n;
            } finally {
                targetLock.unlock();
            }
        }
        return transferToArbitrary(position, count, target);
    }

    /** sendfile loop; -1 if the kernel cannot sendfile between these two (nothing was sent). */
    private long sendfile(ChannelFd out, long position, long count) throws IOException {
        if (!out.acquire()) throw new ClosedChannelException();
        try {
            long done = 0;
            while (done < count) {
                long at = position + done, want = count - done;
                long n;
                try {
                    n = io(f -> sys.sendfile(out.fd(), f, at, want), 0);
                } catch (ErrnoException e) {
                    boolean unsupported = e.errno() == Errno.EINVAL || e.errno() == Errno.ENOSYS
                            || e.errno() == Errno.EOPNOTSUPP;
                    if (done == 0 && unsupported) return -1;
                    if (done > 0) return done;
                    throw e;
                }
                if (n <= 0) break;
                done += n;
            }
            return done;
        } finally {
            out.release();
        }
    }

    private long transferToArbitrary(long position, long count, WritableByteChannel target) throws IOException {
        return copy(count, (bb, done) -> read(bb, position + done), (bb, done) -> target.write(bb));
    }

    /** One side of a {@link #copy}: reads into or writes from {@code bb}, {@code done} bytes into the transfer. */
    @FunctionalInterface
    private interface CopyStep {
        int run(ByteBuffer bb, long done) throws IOException;
    }

    /**
     * Up to {@code count} bytes through native memory, a chunk at a time: {@code read} fills
     * it, {@code write} empties it. Stops at end of input or at a short write; an error
     * after some bytes have moved returns their count, as the JDK's transfers do.
     */
    private static long copy(long count, CopyStep read, CopyStep write) throws IOException {
        try (NativeBuffers.Lease l = NativeBuffers.take(Math.min(count, TRANSFER_SIZE))) {
            ByteBuffer bb = l.segment().asByteBuffer();
            long done = 0;
            try {
                while (done < count) {
                    bb.clear().limit((int) Math.min(count - done, bb.capacity()));
                    int nr = read.run(bb, done);
                    if (nr <= 0) break;
                    bb.flip();
                    int nw = write.run(bb, done);
                    done += nw;
                    if (nw != nr) break;
                }
                return done;
            } catch (IOException e) {
                if (done > 0) return done;
                throw e;
            }
        }
    }

    /** As {@link FileChannel#transferFrom}: the source's read into native memory, then pwrite64. */
    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        ensureOpen();
        if (!src.isOpen()) throw new ClosedChannelException();
        if (src instanceof FlexscFileChannel fc && !fc.readable) throw new NonReadableChannelException();
        ensureWritable();
        if (position < 0 || count < 0) throw new IllegalArgumentException();
        if (count == 0) return 0;
        return copy(count, (bb, done) -> src.read(bb), (bb, done) -> write(bb, position + done));
    }

    // ---- delegated to the JDK: locks and mapping ----

    /** The JDK channel on the same open file (see the class comment). */
    private FileChannel delegate() throws IOException {
        ensureOpen();
        return jdkChannel.get();
    }

    /**
     * As {@link FileChannel#lock(long, long, boolean)}, through the JDK (see the class
     * comment). An interrupt while waiting closes this channel and throws
     * {@link FileLockInterruptionException}, as the JDK does.
     */
    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        ensureLockable(shared);
        try {
            return ProcFdChannel.lockOf(this, delegate().lock(position, size, shared));
        } catch (FileLockInterruptionException e) {
            close(); // the JDK closed its channel; this one follows
            throw e;
        }
    }

    /** As {@link FileChannel#tryLock(long, long, boolean)}, through the JDK (see the class comment). */
    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        ensureLockable(shared);
        FileLock l = delegate().tryLock(position, size, shared);
        return l == null ? null : ProcFdChannel.lockOf(this, l);
    }

    /** A shared lock needs read access, an exclusive one write access, as in the JDK. */
    private void ensureLockable(boolean shared) throws ClosedChannelException {
        ensureOpen();
        if (shared && !readable) throw new NonReadableChannelException();
        if (!shared && !writable) throw new NonWritableChannelException();
    }

    /** As {@link FileChannel#map(MapMode, long, long)}, by the JDK on the same file. */
    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        ensureOpen();
        return delegate().map(mode, position, size);
    }

    /** As {@link FileChannel#map(MapMode, long, long, Arena)}, by the JDK on the same file. */
    @Override
    public MemorySegment map(MapMode mode, long offset, long size, Arena arena) throws IOException {
        ensureOpen();
        return delegate().map(mode, offset, size, arena);
    }

    // ---- closing ----

    /**
     * Closes the JDK channel of locks and maps (releasing its locks), then the descriptor:
     * at once if no operation is using it, else when the last one returns.
     */
    @Override
    protected void implCloseChannel() throws IOException {
        // Marks the fd closed first, so that no JDK channel is opened after it (ProcFdChannel.close).
        long others = fd.closeAndHold();
        // Wakes the operations blocked in the kernel (a FIFO): their calls are cancelled and
        // return EINTR, which io() turns into AsynchronousCloseException (the channel is closed).
        if (others > 0) calls.cancel();
        try {
            jdkChannel.close();
        } finally {
            if (others >= 0) fd.releaseByCloser();
        }
    }

    @Override
    public String toString() {
        return "FlexscFileChannel[" + path + ", fd=" + fd.fd() + (isOpen() ? "" : ", closed") + "]";
    }
}
