package dev.flexsc.io.fs;

import java.io.IOException;
import java.net.URI;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Objects;

/**
 * A path of {@link FlexscFileSystem}: the JDK's path of the default file system, wrapped so
 * that {@code Files} and {@code FileChannel} reach {@link FlexscFileSystemProvider} through
 * {@code path.getFileSystem().provider()}. Every method is the JDK path's, with the paths it
 * takes unwrapped and the paths it returns wrapped; names, comparison, equality and hash are
 * the JDK path's own.
 */
final class FlexscPath implements Path {
    private final FlexscFileSystem fs;
    final Path delegate;

    FlexscPath(FlexscFileSystem fs, Path delegate) {
        this.fs = fs;
        this.delegate = Objects.requireNonNull(delegate);
    }

    private Path wrap(Path p) {
        return fs.wrap(p);
    }

    @Override
    public FlexscFileSystem getFileSystem() {
        return fs;
    }

    @Override
    public boolean isAbsolute() {
        return delegate.isAbsolute();
    }

    @Override
    public Path getRoot() {
        return wrap(delegate.getRoot());
    }

    @Override
    public Path getFileName() {
        return wrap(delegate.getFileName());
    }

    @Override
    public Path getParent() {
        return wrap(delegate.getParent());
    }

    @Override
    public int getNameCount() {
        return delegate.getNameCount();
    }

    @Override
    public Path getName(int index) {
        return wrap(delegate.getName(index));
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
        return wrap(delegate.subpath(beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
        return delegate.startsWith(FlexscFileSystem.unwrapLenient(other));
    }

    @Override
    public boolean endsWith(Path other) {
        return delegate.endsWith(FlexscFileSystem.unwrapLenient(other));
    }

    @Override
    public Path normalize() {
        return wrap(delegate.normalize());
    }

    @Override
    public Path resolve(Path other) {
        return wrap(delegate.resolve(FlexscFileSystem.unwrapLenient(other)));
    }

    @Override
    public Path relativize(Path other) {
        return wrap(delegate.relativize(FlexscFileSystem.unwrapLenient(other)));
    }

    @Override
    public URI toUri() {
        return delegate.toUri();
    }

    @Override
    public Path toAbsolutePath() {
        return wrap(delegate.toAbsolutePath());
    }

    @Override
    public Path toRealPath(LinkOption... options) throws IOException {
        return wrap(delegate.toRealPath(options));
    }

    @Override
    public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers)
            throws IOException {
        Objects.requireNonNull(watcher);
        if (!(watcher instanceof FlexscWatchService w)) throw new java.nio.file.ProviderMismatchException();
        return w.register(this, events, modifiers);
    }

    @Override
    public int compareTo(Path other) {
        return delegate.compareTo(FlexscFileSystem.unwrapLenient(other));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlexscPath p && delegate.equals(p.delegate);
    }

    @Override
    public int hashCode() {
        return delegate.hashCode();
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
