package dev.flexsc.io.fs;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.util.Iterator;
import java.util.Set;

/**
 * The JDK's directory stream of the default file system, with wrapped paths. The JDK gives a
 * {@link SecureDirectoryStream} on Linux (openat-relative operations, which some libraries use
 * to delete trees safely); the wrapper is one too when the JDK's is, and its operations are
 * the JDK's (a channel it opens is the JDK's: it is relative to the stream's descriptor).
 */
class FlexscDirectoryStream implements DirectoryStream<Path> {
    final FlexscFileSystem fs;
    private final DirectoryStream<Path> delegate;

    FlexscDirectoryStream(FlexscFileSystem fs, DirectoryStream<Path> delegate) {
        this.fs = fs;
        this.delegate = delegate;
    }

    static DirectoryStream<Path> of(FlexscFileSystem fs, DirectoryStream<Path> d) {
        return d instanceof SecureDirectoryStream<Path> s ? new Secure(fs, s) : new FlexscDirectoryStream(fs, d);
    }

    @Override
    public Iterator<Path> iterator() {
        Iterator<Path> i = delegate.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return i.hasNext();
            }

            @Override
            public Path next() {
                return fs.wrap(i.next());
            }

            @Override
            public void remove() {
                i.remove();
            }
        };
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    /** The secure form. */
    static final class Secure extends FlexscDirectoryStream implements SecureDirectoryStream<Path> {
        private final SecureDirectoryStream<Path> s;

        Secure(FlexscFileSystem fs, SecureDirectoryStream<Path> s) {
            super(fs, s);
            this.s = s;
        }

        @Override
        public SecureDirectoryStream<Path> newDirectoryStream(Path path, LinkOption... options) throws IOException {
            return new Secure(fs, s.newDirectoryStream(FlexscFileSystem.unwrap(path), options));
        }

        @Override
        public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
                throws IOException {
            return s.newByteChannel(FlexscFileSystem.unwrap(path), options, attrs);
        }

        @Override
        public void deleteFile(Path path) throws IOException {
            s.deleteFile(FlexscFileSystem.unwrap(path));
        }

        @Override
        public void deleteDirectory(Path path) throws IOException {
            s.deleteDirectory(FlexscFileSystem.unwrap(path));
        }

        @Override
        public void move(Path srcpath, SecureDirectoryStream<Path> targetdir, Path targetpath) throws IOException {
            if (!(targetdir instanceof Secure t)) throw new ProviderMismatchException();
            s.move(FlexscFileSystem.unwrap(srcpath), t.s, FlexscFileSystem.unwrap(targetpath));
        }

        @Override
        public <V extends FileAttributeView> V getFileAttributeView(Class<V> type) {
            return s.getFileAttributeView(type);
        }

        @Override
        public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
            return s.getFileAttributeView(FlexscFileSystem.unwrap(path), type, options);
        }
    }
}
