package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.Flexsc;
import dev.flexsc.Stat;
import dev.flexsc.Syscalls;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

import static dev.flexsc.AtFlags.AT_REMOVEDIR;
import static dev.flexsc.AtFlags.AT_SYMLINK_NOFOLLOW;

/**
 * The file methods of {@link java.nio.file.Files}, with the same signatures and
 * contracts, whose I/O goes through {@link FlexscFileChannel} (FlexSC calls through
 * {@link Flexsc#syscalls()}). A path of another file system is handed to {@code Files}.
 *
 * <p>Streams are {@link Channels#newInputStream}/{@link Channels#newOutputStream} over a
 * FlexscFileChannel that, as the JDK's file streams, an interrupt does not close.
 *
 * <p>{@link #copy(Path, Path, CopyOption...)} copies a regular file with newfstatat,
 * openat and sendfile; a directory, a symbolic link copied as a link (NOFOLLOW_LINKS) or
 * a special file is handed to {@code Files.copy}. COPY_ATTRIBUTES copies the permissions
 * and the times through the JDK's attribute view (not the owner).
 */
public final class FlexscFiles {
    private FlexscFiles() {}

    private static final int CHUNK = NativeBuffers.MAX_POOLED;
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static boolean foreign(Path p) {
        return p.getFileSystem() != FileSystems.getDefault();
    }

    private static Syscalls sys() {
        return Flexsc.syscalls();
    }

    /** As {@link Files#newByteChannel(Path, OpenOption...)}. */
    public static SeekableByteChannel newByteChannel(Path path, OpenOption... options) throws IOException {
        if (foreign(path)) return Files.newByteChannel(path, options);
        return FlexscFileChannel.open(path, options);
    }

    /** As {@link Files#newByteChannel(Path, Set, FileAttribute[])}. */
    public static SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
                                                     FileAttribute<?>... attrs) throws IOException {
        if (foreign(path)) return Files.newByteChannel(path, options, attrs);
        return FlexscFileChannel.open(path, options, attrs);
    }

    /** As {@link Files#newInputStream(Path, OpenOption...)}. */
    public static InputStream newInputStream(Path path, OpenOption... options) throws IOException {
        if (foreign(path)) return Files.newInputStream(path, options);
        return newInputStream(sys(), path, options);
    }

    /**
     * As {@link Files#newInputStream(Path, OpenOption...)}, with the calls of {@code syscalls}
     * ({@code path} of the default file system).
     */
    public static InputStream newInputStream(Syscalls syscalls, Path path, OpenOption... options) throws IOException {
        for (OpenOption o : options) {
            if (o == StandardOpenOption.APPEND || o == StandardOpenOption.WRITE) {
                throw new UnsupportedOperationException("'" + o + "' not allowed");
            }
        }
        FlexscFileChannel ch = FlexscFileChannel.open(syscalls, path, options);
        ch.setUninterruptible();
        return Channels.newInputStream(ch);
    }

    /** As {@link Files#newOutputStream(Path, OpenOption...)}: by default CREATE, TRUNCATE_EXISTING, WRITE. */
    public static OutputStream newOutputStream(Path path, OpenOption... options) throws IOException {
        if (foreign(path)) return Files.newOutputStream(path, options);
        return newOutputStream(sys(), path, options);
    }

    /**
     * As {@link Files#newOutputStream(Path, OpenOption...)}, with the calls of {@code syscalls}
     * ({@code path} of the default file system).
     */
    public static OutputStream newOutputStream(Syscalls syscalls, Path path, OpenOption... options) throws IOException {
        FlexscFileChannel ch = FlexscFileChannel.open(syscalls, path, outputOptions(options));
        ch.setUninterruptible();
        return Channels.newOutputStream(ch);
    }

    private static Set<OpenOption> outputOptions(OpenOption... options) {
        Set<OpenOption> opts = new HashSet<>();
        if (options.length == 0) {
            opts.add(StandardOpenOption.CREATE);
            opts.add(StandardOpenOption.TRUNCATE_EXISTING);
        } else {
            for (OpenOption o : options) {
                if (o == StandardOpenOption.READ) throw new IllegalArgumentException("READ not allowed");
                opts.add(Objects.requireNonNull(o, "an open option is null"));
            }
        }
        opts.add(StandardOpenOption.WRITE);
        return opts;
    }

    /** As {@link Files#readAllBytes(Path)}: size from fstat, then read(2) until end of file. */
    public static byte[] readAllBytes(Path path) throws IOException {
        if (foreign(path)) return Files.readAllBytes(path);
        try (FlexscFileChannel ch = FlexscFileChannel.open(path)) {
            ch.setUninterruptible();
            long size = ch.size();
            if (size > MAX_ARRAY) throw new OutOfMemoryError("Required array size too large");
            byte[] buf = new byte[(int) size];
            int n = 0;
            while (true) {
                if (n == buf.length) {
                    // The file grew, or reports size 0 (/proc): probe, then grow.
                    if (buf.length == MAX_ARRAY) throw new OutOfMemoryError("Required array size too large");
                    byte[] one = new byte[1];
                    if (ch.read(ByteBuffer.wrap(one)) < 0) break;
                    buf = Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, Math.max(8192, 2L * buf.length + 1)));
                    buf[n++] = one[0];
                    continue;
                }
                int r = ch.read(ByteBuffer.wrap(buf, n, Math.min(buf.length - n, CHUNK)));
                if (r < 0) break;
                n += r;
            }
            return n == buf.length ? buf : Arrays.copyOf(buf, n);
        }
    }

    /** As {@link Files#readString(Path)} (UTF-8). */
    public static String readString(Path path) throws IOException {
        return readString(path, StandardCharsets.UTF_8);
    }

    /**
     * As {@link Files#readString(Path, Charset)}: malformed or unmappable input throws
     * {@link java.nio.charset.MalformedInputException} / UnmappableCharacterException.
     */
    public static String readString(Path path, Charset cs) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(cs, "cs");
        byte[] b = readAllBytes(path);
        return cs.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
    }

    /** As {@link Files#write(Path, byte[], OpenOption...)}. */
    public static Path write(Path path, byte[] bytes, OpenOption... options) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        if (foreign(path)) return Files.write(path, bytes, options);
        try (FlexscFileChannel ch = FlexscFileChannel.open(path, outputOptions(options))) {
            ch.setUninterruptible();
            for (int off = 0; off < bytes.length; ) {
                off += ch.write(ByteBuffer.wrap(bytes, off, Math.min(CHUNK, bytes.length - off)));
            }
        }
        return path;
    }

    /** As {@link Files#write(Path, Iterable, Charset, OpenOption...)}: each line then the line separator. */
    public static Path write(Path path, Iterable<? extends CharSequence> lines, Charset cs, OpenOption... options)
            throws IOException {
        Objects.requireNonNull(lines, "lines");
        Objects.requireNonNull(cs, "cs");
        if (foreign(path)) return Files.write(path, lines, cs, options);
        // CharsetEncoder's default action is REPORT, as Files.newBufferedWriter's.
        try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(newOutputStream(path, options), cs.newEncoder()))) {
            for (CharSequence line : lines) {
                w.append(line);
                w.newLine();
            }
        }
        return path;
    }

    /** As {@link Files#write(Path, Iterable, OpenOption...)} (UTF-8). */
    public static Path write(Path path, Iterable<? extends CharSequence> lines, OpenOption... options) throws IOException {
        return write(path, lines, StandardCharsets.UTF_8, options);
    }

    /** As {@link Files#writeString(Path, CharSequence, OpenOption...)} (UTF-8). */
    public static Path writeString(Path path, CharSequence csq, OpenOption... options) throws IOException {
        return writeString(path, csq, StandardCharsets.UTF_8, options);
    }

    /** As {@link Files#writeString(Path, CharSequence, Charset, OpenOption...)}: unencodable text throws. */
    public static Path writeString(Path path, CharSequence csq, Charset cs, OpenOption... options) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(csq, "csq");
        Objects.requireNonNull(cs, "cs");
        ByteBuffer bb = encode(csq, cs);
        byte[] b = new byte[bb.remaining()];
        bb.get(b);
        return write(path, b, options);
    }

    private static ByteBuffer encode(CharSequence csq, Charset cs) throws CharacterCodingException {
        try {
            return cs.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(csq));
        } catch (java.nio.charset.MalformedInputException e) {
            // A lone surrogate: Files.writeString reports it as unmappable, so do we.
            throw new java.nio.charset.UnmappableCharacterException(e.getInputLength());
        }
    }

    // ---- copy ----

    /**
     * As {@link Files#copy(Path, Path, CopyOption...)}. A regular file is copied with
     * sendfile(2) between two FlexscFileChannels; the target is created with the source's
     * permission bits (less the umask), as the JDK does.
     */
    public static Path copy(Path source, Path target, CopyOption... options) throws IOException {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        if (foreign(source) || foreign(target)) return Files.copy(source, target, options);
        boolean replace = false, copyAttrs = false, noFollow = false;
        for (CopyOption o : options) {
            if (o == StandardCopyOption.REPLACE_EXISTING) replace = true;
            else if (o == StandardCopyOption.COPY_ATTRIBUTES) copyAttrs = true;
            else if (o == LinkOption.NOFOLLOW_LINKS) noFollow = true;
            else if (o == null) throw new NullPointerException("options contains 'null'");
            else throw new UnsupportedOperationException("Unsupported copy option: " + o);
        }
        Syscalls s = sys();
        Stat src = stat(s, source, noFollow);
        if (src == null) throw OpenFlags.translate(new ErrnoException("newfstatat(path=" + source + ")", Errno.ENOENT), source);
        if (!src.isRegularFile()) return Files.copy(source, target, options); // directory, link, device, FIFO
        Stat dst = stat(s, target, true);
        if (dst != null) {
            if (dst.dev() == src.dev() && dst.ino() == src.ino()) return target; // same file: nothing to do
            if (!replace) throw new FileAlreadyExistsException(target.toString());
            delete(s, target, dst.isDirectory());
        }
        try (FlexscFileChannel in = FlexscFileChannel.open(s, source, Set.of(StandardOpenOption.READ));
             FlexscFileChannel out = FlexscFileChannel.open(s, target, Set.of(StandardOpenOption.WRITE,
                     StandardOpenOption.CREATE_NEW), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                     java.nio.file.attribute.PosixFilePermissions.fromString(permString(src.mode()))))) {
            try {
                long size = in.size(), done = 0;
                while (done < size) {
                    long n = in.transferTo(done, size - done, out);
                    if (n <= 0) break;
                    done += n;
                }
                // A file that grew since (or /proc-style size 0): copy the rest through the position.
                in.position(done);
                out.position(done);
                ByteBuffer bb = ByteBuffer.allocateDirect(64 * 1024);
                while (in.read(bb.clear()) > 0) {
                    bb.flip();
                    while (bb.hasRemaining()) out.write(bb);
                }
            } catch (IOException | RuntimeException e) {
                try {
                    s.unlinkat(Syscalls.AT_FDCWD, PathBytes.of(target), 0);
                } catch (IOException x) {
                    e.addSuppressed(x);
                }
                throw e;
            }
        }
        if (copyAttrs) {
            PosixFileAttributeView v = Files.getFileAttributeView(target, PosixFileAttributeView.class);
            BasicFileAttributes a = Files.readAttributes(source, BasicFileAttributes.class);
            v.setPermissions(java.nio.file.attribute.PosixFilePermissions.fromString(permString(src.mode())));
            v.setTimes(a.lastModifiedTime(), a.lastAccessTime(), null);
        }
        return target;
    }

    private static String permString(int mode) {
        String rwx = "rwxrwxrwx";
        StringBuilder b = new StringBuilder(9);
        for (int i = 0; i < 9; i++) b.append((mode & (0400 >> i)) != 0 ? rwx.charAt(i) : '-');
        return b.toString();
    }

    /** newfstatat(2); null if the path does not exist. */
    private static Stat stat(Syscalls s, Path p, boolean noFollow) throws IOException {
        try {
            return s.fstatat(Syscalls.AT_FDCWD, PathBytes.of(p), noFollow ? AT_SYMLINK_NOFOLLOW : 0);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) return null;
            throw OpenFlags.translate(e, p);
        }
    }

    /** unlinkat(2) of a file or an empty directory. */
    private static void delete(Syscalls s, Path p, boolean directory) throws IOException {
        try {
            s.unlinkat(Syscalls.AT_FDCWD, PathBytes.of(p), directory ? AT_REMOVEDIR : 0);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOTEMPTY || e.errno() == Errno.EEXIST) {
                throw (DirectoryNotEmptyException) new DirectoryNotEmptyException(p.toString()).initCause(e);
            }
            if (e.errno() != Errno.ENOENT) throw OpenFlags.translate(e, p);
        }
    }

    /** As {@link Files#copy(InputStream, Path, CopyOption...)}: only REPLACE_EXISTING is accepted. */
    public static long copy(InputStream in, Path target, CopyOption... options) throws IOException {
        Objects.requireNonNull(in, "in");
        if (foreign(target)) return Files.copy(in, target, options);
        boolean replace = false;
        for (CopyOption o : options) {
            if (o == StandardCopyOption.REPLACE_EXISTING) replace = true;
            else if (o == null) throw new NullPointerException("options contains 'null'");
            else throw new UnsupportedOperationException(o + " not supported");
        }
        Syscalls s = sys();
        if (replace) {
            Stat st = stat(s, target, true);
            if (st != null) delete(s, target, st.isDirectory());
        }
        try (OutputStream out = newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            return in.transferTo(out);
        }
    }

    /** As {@link Files#copy(Path, OutputStream)}. */
    public static long copy(Path source, OutputStream out) throws IOException {
        Objects.requireNonNull(out, "out");
        try (InputStream in = newInputStream(source)) {
            return in.transferTo(out);
        }
    }
}
