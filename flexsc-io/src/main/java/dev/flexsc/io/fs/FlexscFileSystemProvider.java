package dev.flexsc.io.fs;

import dev.flexsc.Flexsc;
import dev.flexsc.Syscalls;
import dev.flexsc.io.FlexscFileChannel;
import dev.flexsc.io.FlexscFiles;
import dev.flexsc.io.FlexscProviders;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.spi.FileSystemProvider;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;

/**
 * The JVM's default file system provider wrapped so that opening a file makes FlexSC calls:
 * {@link #newFileChannel}, {@link #newByteChannel}, {@link #newInputStream} and
 * {@link #newOutputStream} return {@link FlexscFileChannel}s and streams over them, so
 * {@code Files.readAllBytes}, {@code Files.newInputStream}, {@code Files.write},
 * {@code FileChannel.open(path)} and every other {@code Files} method that opens a file go
 * through FlexSC. Everything else (attributes, directories, links, copy, move, watch
 * services, asynchronous channels) is the JDK's provider's, on the same paths.
 *
 * <p><b>Turning it on:</b> {@code -Djava.nio.file.spi.DefaultFileSystemProvider=dev.flexsc.io.fs.FlexscFileSystemProvider};
 * the JDK then makes this provider with the platform's in its constructor, through the system
 * class loader ({@link FlexscProviders} has every flag). Paths of the default file system are
 * then {@code FlexscPath}s, which wrap the JDK's; they behave as the JDK's in every respect
 * (names, equality, URIs, {@code toFile()}).
 *
 * <p><b>What stays the JDK's when opening:</b> options FlexSC's channel does not take
 * ({@code ExtendedOpenOption.DIRECT} and others not in {@link StandardOpenOption} or
 * {@code NOFOLLOW_LINKS}) and initial attributes other than permissions go to the JDK's
 * provider, as do calls made by a thread that is starting FlexSC ({@link Flexsc#startingOnThisThread()}: an
 * engine reads {@code /proc} files as it opens), opens made from a static initializer before
 * FlexSC started ({@link #inStaticInitializer}), and every call after the engine failed to
 * open (logged once).
 *
 * <p>Thread-safe.
 */
public final class FlexscFileSystemProvider extends FileSystemProvider {
    private static volatile FlexscFileSystemProvider installed;

    private final FileSystemProvider platform;
    private final FlexscFileSystem fs;
    private final LongAdder channels = new LongAdder(), calls = new LongAdder(), delegated = new LongAdder();

    /** FlexSC's calls, once opened; null before. */
    private volatile Syscalls syscalls;
    /** Why FlexSC's engine could not be opened; null while it could be or has not been tried. */
    private volatile Throwable unavailable;

    /**
     * The JDK calls this when {@code java.nio.file.spi.DefaultFileSystemProvider} names this
     * class, with the platform's default provider. Opens nothing: FlexSC's engine opens on the
     * first file opened.
     */
    public FlexscFileSystemProvider(FileSystemProvider platform) {
        this.platform = Objects.requireNonNull(platform, "platform");
        this.fs = new FlexscFileSystem(this, platform.getFileSystem(URI.create("file:///")));
        installed = this;
    }

    /** The provider the JDK made at start-up, or null if this JVM runs without it. */
    public static FlexscFileSystemProvider installed() {
        return installed;
    }

    /** The JDK's provider this one wraps. */
    public FileSystemProvider platform() {
        return platform;
    }

    /** The JDK's path of the default file system behind {@code path} (one of this provider's). */
    public static Path platformPath(Path path) {
        return FlexscFileSystem.unwrap(path);
    }

    /** Files opened as FlexSC channels or streams. */
    public long channelsOpened() {
        return channels.sum();
    }

    /** FlexSC calls those channels made. */
    public long calls() {
        return calls.sum();
    }

    /** Operations left to the JDK's provider. */
    public long delegated() {
        return delegated.sum();
    }

    /**
     * FlexSC's calls (counted), or null where the file must be opened by the JDK's provider:
     * this thread is starting FlexSC ({@link Flexsc#startingOnThisThread()}: opening an
     * engine), runs a static initializer before FlexSC started ({@link #inStaticInitializer}),
     * or the engine could not be opened.
     */
    private Syscalls syscalls() {
        Syscalls s = syscalls;
        if (s != null) return s;
        if (unavailable != null || Flexsc.startingOnThisThread() || inStaticInitializer()) return null;
        try {
            synchronized (this) {
                s = syscalls;
                if (s == null) {
                    s = Flexsc.syscalls().counting(calls);
                    syscalls = s;
                }
            }
            FlexscProviders.registerOnFirstUse();
            return s;
        } catch (RuntimeException | Error e) {
            unavailable = e;
            System.getLogger(FlexscFileSystemProvider.class.getName()).log(System.Logger.Level.WARNING,
                    "FlexSC's engine cannot be opened: files are opened by the JDK's provider", e);
            return null;
        }
    }

    /**
     * True if this thread runs a static initializer. Starting FlexSC initializes classes
     * (libflexsc's loader, JNA, which seeds a SecureRandom, so the JDK's security providers)
     * and waits for the engine's threads: from inside an initializer it could need the very
     * class in progress (the JDK's {@code Security} reads its properties file through this
     * provider while it initializes: the first temporary file an application makes gets here
     * so). Such an open goes to the JDK's provider, and a later one starts FlexSC. Walked only
     * until FlexSC has started.
     */
    private static boolean inStaticInitializer() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("<clinit>")));
    }

    private Path unwrap(Path p) {
        return FlexscFileSystem.unwrap(p);
    }

    /** Counts one operation left to the JDK's provider. */
    private FileSystemProvider jdk() {
        delegated.increment();
        return platform;
    }

    // ---- the file system ----

    @Override
    public String getScheme() {
        return platform.getScheme();
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
        return jdk().newFileSystem(uri, env); // the default file system exists already: the JDK throws
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
        platform.getFileSystem(uri); // the JDK's checks of the URI
        return fs;
    }

    @Override
    public Path getPath(URI uri) {
        return fs.wrap(platform.getPath(uri));
    }

    @Override
    public FileSystem newFileSystem(Path path, Map<String, ?> env) throws IOException {
        return jdk().newFileSystem(unwrap(path), env);
    }

    // ---- opening files: FlexSC ----

    private static Set<OpenOption> set(OpenOption... options) {
        Set<OpenOption> s = new HashSet<>(options.length);
        for (OpenOption o : options) s.add(Objects.requireNonNull(o));
        return s;
    }

    /**
     * The calls that open a file with {@code options} and {@code attrs}, or null where the
     * JDK's provider opens it: options or attributes FlexSC's channel does not take
     * ({@link FlexscFileChannel#takes}), or no engine for this thread ({@link #syscalls()}).
     */
    private Syscalls opener(Set<? extends OpenOption> options, FileAttribute<?>... attrs) {
        return FlexscFileChannel.takes(options, attrs) ? syscalls() : null;
    }

    /** Counts a file FlexSC opened. */
    private <T> T opened(T channelOrStream) {
        channels.increment();
        return channelOrStream;
    }

    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        Path p = unwrap(path); // a foreign path fails before an engine opens
        Syscalls s = opener(options, attrs);
        if (s == null) return jdk().newFileChannel(p, options, attrs);
        return opened(FlexscFileChannel.open(s, path, options, attrs));
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        Path p = unwrap(path);
        Syscalls s = opener(options, attrs);
        if (s == null) return jdk().newByteChannel(p, options, attrs);
        return opened(FlexscFileChannel.open(s, path, options, attrs));
    }

    @Override
    public InputStream newInputStream(Path path, OpenOption... options) throws IOException {
        Path p = unwrap(path);
        Syscalls s = opener(set(options));
        if (s == null) return jdk().newInputStream(p, options);
        return opened(FlexscFiles.newInputStream(s, path, options));
    }

    @Override
    public OutputStream newOutputStream(Path path, OpenOption... options) throws IOException {
        Path p = unwrap(path);
        Syscalls s = opener(set(options));
        if (s == null) return jdk().newOutputStream(p, options);
        return opened(FlexscFiles.newOutputStream(s, path, options));
    }

    // ---- everything else: the JDK's provider ----

    @Override
    public AsynchronousFileChannel newAsynchronousFileChannel(Path path, Set<? extends OpenOption> options,
                                                              ExecutorService executor, FileAttribute<?>... attrs) throws IOException {
        return jdk().newAsynchronousFileChannel(unwrap(path), options, executor, attrs);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
        Objects.requireNonNull(filter);
        return FlexscDirectoryStream.of(fs, jdk().newDirectoryStream(unwrap(dir), p -> filter.accept(fs.wrap(p))));
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        jdk().createDirectory(unwrap(dir), attrs);
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException {
        jdk().createSymbolicLink(unwrap(link), unwrap(target), attrs);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
        jdk().createLink(unwrap(link), unwrap(existing));
    }

    @Override
    public void delete(Path path) throws IOException {
        jdk().delete(unwrap(path));
    }

    @Override
    public boolean deleteIfExists(Path path) throws IOException {
        return jdk().deleteIfExists(unwrap(path));
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
        return fs.wrap(jdk().readSymbolicLink(unwrap(link)));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
        jdk().copy(unwrap(source), unwrap(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
        jdk().move(unwrap(source), unwrap(target), options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
        return jdk().isSameFile(unwrap(path), FlexscFileSystem.unwrapLenient(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
        return jdk().isHidden(unwrap(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
        return jdk().getFileStore(unwrap(path));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
        jdk().checkAccess(unwrap(path), modes);
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        return jdk().getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
            throws IOException {
        return jdk().readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
        return jdk().readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        jdk().setAttribute(unwrap(path), attribute, value, options);
    }

    @Override
    public String toString() {
        return "FlexscFileSystemProvider[" + platform + "]";
    }
}
