package dev.flexsc.io.fs;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The default file system as {@link FlexscFileSystemProvider} gives it: the JDK's, whose
 * paths are wrapped ({@link FlexscPath}) so that operations on them come to this provider.
 * Everything is the JDK file system's; watch services and path matchers take and give wrapped
 * paths. It cannot be closed (the default file system never can).
 */
final class FlexscFileSystem extends FileSystem {
    private final FlexscFileSystemProvider provider;
    private final FileSystem delegate;

    FlexscFileSystem(FlexscFileSystemProvider provider, FileSystem delegate) {
        this.provider = provider;
        this.delegate = delegate;
    }

    FileSystem delegate() {
        return delegate;
    }

    /** {@code p} (a path of the JDK's default file system) as a path of this one; null stays null. */
    Path wrap(Path p) {
        return p == null ? null : new FlexscPath(this, p);
    }

    /**
     * The JDK's path behind {@code p}, for the JDK provider's operations.
     *
     * @throws NullPointerException if p is null
     * @throws ProviderMismatchException if p is a path of another file system
     */
    static Path unwrap(Path p) {
        Objects.requireNonNull(p);
        if (p instanceof FlexscPath fp) return fp.delegate;
        throw new ProviderMismatchException("not a path of the default file system: " + p.getClass().getName());
    }

    /** The JDK's path behind {@code p} if it is one of ours, else p itself (for the path's own comparisons). */
    static Path unwrapLenient(Path p) {
        return p instanceof FlexscPath fp ? fp.delegate : Objects.requireNonNull(p);
    }

    @Override
    public FlexscFileSystemProvider provider() {
        return provider;
    }

    @Override
    public void close() throws IOException {
        delegate.close(); // the JDK's default file system throws UnsupportedOperationException
    }

    @Override
    public boolean isOpen() {
        return delegate.isOpen();
    }

    @Override
    public boolean isReadOnly() {
        return delegate.isReadOnly();
    }

    @Override
    public String getSeparator() {
        return delegate.getSeparator();
    }

    @Override
    public Iterable<Path> getRootDirectories() {
        List<Path> roots = new ArrayList<>();
        for (Path r : delegate.getRootDirectories()) roots.add(wrap(r));
        return roots;
    }

    @Override
    public Iterable<FileStore> getFileStores() {
        return delegate.getFileStores();
    }

    @Override
    public Set<String> supportedFileAttributeViews() {
        return delegate.supportedFileAttributeViews();
    }

    @Override
    public Path getPath(String first, String... more) {
        return wrap(delegate.getPath(first, more));
    }

    @Override
    public PathMatcher getPathMatcher(String syntaxAndPattern) {
        PathMatcher m = delegate.getPathMatcher(syntaxAndPattern);
        return p -> m.matches(unwrapLenient(p));
    }

    @Override
    public UserPrincipalLookupService getUserPrincipalLookupService() {
        return delegate.getUserPrincipalLookupService();
    }

    @Override
    public WatchService newWatchService() throws IOException {
        return new FlexscWatchService(this, delegate.newWatchService());
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
