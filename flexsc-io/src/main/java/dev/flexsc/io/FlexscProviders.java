package dev.flexsc.io;

import java.lang.management.ManagementFactory;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.FileSystems;
import java.util.List;

import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * FlexSC under an unmodified application: the JVM flags that make the JDK's NIO go through
 * FlexSC, and what the providers did since.
 *
 * <p><b>Turning it on.</b> Start the JVM with the flags of {@link #JVM_FLAGS}, most simply as
 * a JDK argument file: {@code java -cp <flexsc-io and its dependencies> dev.flexsc.io.FlexscProviders > flexsc.args}
 * writes it, then {@code java @flexsc.args -cp ... your.Main}, or
 * {@code JDK_JAVA_OPTIONS=@flexsc.args} for a launcher script you cannot edit (the java
 * launcher expands an argument file there too). The two providers can only be named by system properties read
 * when the JVM first uses NIO, so they are command-line flags; an argument file keeps them
 * together with the module flags FlexSC needs, and the launcher expands it itself.
 * <ul>
 * <li>{@code -Djava.nio.channels.spi.SelectorProvider=dev.flexsc.io.FlexscSelectorProvider}:
 *     {@code SocketChannel.open()}, {@code ServerSocketChannel.open()}, {@code Pipe.open()},
 *     {@code Selector.open()} return FlexSC channels and selectors.</li>
 * <li>{@code -Djava.nio.file.spi.DefaultFileSystemProvider=dev.flexsc.io.fs.FlexscFileSystemProvider}:
 *     the default file system's {@code newFileChannel}, {@code newByteChannel},
 *     {@code newInputStream} and {@code newOutputStream} (so {@code Files.*},
 *     {@code FileChannel.open}) return FlexSC channels and streams; everything else goes to
 *     the JDK's provider.</li>
 * <li>{@code --enable-native-access=ALL-UNNAMED} (FFM and JNA), {@code --add-opens
 *     java.base/java.lang=ALL-UNNAMED} (the M:N scheduler, for FlexscExecutors), {@code
 *     --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (what the selector provider leaves to
 *     the JDK's: UNIX-domain sockets, datagram channels), {@code --add-exports
 *     java.base/jdk.internal.misc=ALL-UNNAMED} (a virtual thread of the JDK's scheduler that
 *     waits for a socket gives its scheduler a spare carrier meanwhile, as the JDK's own file
 *     I/O does).</li>
 * </ul>
 * These are the class path's spellings; on the module path each {@code ALL-UNNAMED} names the
 * modules instead ({@code --add-exports java.base/jdk.internal.misc=dev.flexsc.io} and so on,
 * as docs/io.md shows). Without the properties nothing changes: the jar declares no service, so the JDK's providers
 * stay the JVM's.
 *
 * <p><b>Seeing that it is on.</b> {@link #status()}, and the platform MXBean
 * {@code dev.flexsc:type=FlexscProviders} ({@link FlexscProvidersMXBean}), registered when a
 * provider is first used.
 */
public final class FlexscProviders {
    private FlexscProviders() {}

    /** The property that names the JVM's selector provider. */
    public static final String SELECTOR_PROVIDER_PROPERTY = "java.nio.channels.spi.SelectorProvider";
    /** The property that names the class wrapping the JVM's default file system provider. */
    public static final String FILE_SYSTEM_PROVIDER_PROPERTY = "java.nio.file.spi.DefaultFileSystemProvider";
    /** The file system provider's class name (in {@code dev.flexsc.io.fs}). */
    public static final String FILE_SYSTEM_PROVIDER_CLASS = "dev.flexsc.io.fs.FlexscFileSystemProvider";

    /** The JVM flags that turn both providers on, one argument each (the argument file's lines). */
    public static final List<String> JVM_FLAGS = List.of(
            "-D" + SELECTOR_PROVIDER_PROPERTY + "=" + FlexscSelectorProvider.class.getName(),
            "-D" + FILE_SYSTEM_PROVIDER_PROPERTY + "=" + FILE_SYSTEM_PROVIDER_CLASS,
            "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED");

    /** The MXBean's name. */
    public static final String OBJECT_NAME = "dev.flexsc:type=FlexscProviders";

    /** The JVM's FlexSC selector provider, once the JDK made it; null otherwise. */
    private static volatile FlexscSelectorProvider selectorProvider;
    private static volatile boolean registered;
    /** Set while this thread registers the MXBean: the MBean server's start may use NIO itself. */
    private static final ThreadLocal<Boolean> REGISTERING = new ThreadLocal<>();

    /**
     * What the providers did: whether each is the JVM's, and its counts.
     *
     * @param selectorProviderActive    FlexSC's selector provider is the JVM's
     * @param fileSystemProviderActive  FlexSC's file system provider wraps the JVM's default one
     * @param socketChannels            socket channels and pipe ends its selector provider opened
     * @param selectors                 selectors it opened
     * @param socketCalls               FlexSC calls they made (readiness waits included)
     * @param fileChannels              files the file system provider opened as FlexSC channels
     * @param fileCalls                 FlexSC calls those channels made
     * @param fileDelegated             file system operations it left to the JDK's provider
     */
    public record Status(boolean selectorProviderActive, boolean fileSystemProviderActive, long socketChannels,
                         long selectors, long socketCalls, long fileChannels, long fileCalls, long fileDelegated) {}

    /** The providers' state now (a racy snapshot of counters that only grow). Opens nothing. */
    public static Status status() {
        FlexscSelectorProvider sp = selectorProvider;
        dev.flexsc.io.fs.FlexscFileSystemProvider fs = dev.flexsc.io.fs.FlexscFileSystemProvider.installed();
        return new Status(sp != null, fs != null,
                sp == null ? 0 : sp.counters.channels.sum(), sp == null ? 0 : sp.counters.selectors.sum(),
                sp == null ? 0 : sp.counters.calls.sum(), fs == null ? 0 : fs.channelsOpened(),
                fs == null ? 0 : fs.calls(), fs == null ? 0 : fs.delegated());
    }

    /** True if FlexSC's selector provider is the JVM's (asks the JDK, which makes its provider if it has not yet). */
    public static boolean selectorProviderActive() {
        return SelectorProvider.provider() instanceof FlexscSelectorProvider;
    }

    /** True if FlexSC's provider wraps the default file system's (the JDK makes it if it has not yet). */
    public static boolean fileSystemProviderActive() {
        return FileSystems.getDefault().provider().getClass().getName().equals(FILE_SYSTEM_PROVIDER_CLASS);
    }

    /** The JDK made FlexSC's selector provider the JVM's. */
    static void selectorProviderInstalled(FlexscSelectorProvider p) {
        selectorProvider = p;
    }

    /**
     * Registers the MXBean; each provider calls it on its first use (never from its
     * constructor: the JDK makes the file system provider while it starts, before JMX could).
     * Idempotent; a failure is logged, never thrown: monitoring must not break I/O.
     */
    public static void registerOnFirstUse() {
        if (registered || REGISTERING.get() != null) return;
        synchronized (FlexscProviders.class) {
            if (registered) return;
            registered = true;
            REGISTERING.set(Boolean.TRUE);
            try {
                ManagementFactory.getPlatformMBeanServer().registerMBean(new Bean(), ObjectName.getInstance(OBJECT_NAME));
            } catch (InstanceAlreadyExistsException e) {
                // another class loader's copy registered first: its counters are the JVM's providers'
            } catch (JMException | RuntimeException | Error e) {
                System.getLogger(FlexscProviders.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot register " + OBJECT_NAME, e);
            } finally {
                REGISTERING.remove();
            }
        }
    }

    /** Prints the argument file's lines: {@code java -cp ... dev.flexsc.io.FlexscProviders > flexsc.args}. */
    public static void main(String[] args) {
        for (String f : JVM_FLAGS) System.out.println(f);
    }

    /** The MXBean over {@link #status()}. */
    private static final class Bean implements FlexscProvidersMXBean {
        @Override
        public boolean isSelectorProviderActive() {
            return status().selectorProviderActive();
        }

        @Override
        public boolean isFileSystemProviderActive() {
            return status().fileSystemProviderActive();
        }

        @Override
        public long getSocketChannels() {
            return status().socketChannels();
        }

        @Override
        public long getSelectors() {
            return status().selectors();
        }

        @Override
        public long getSocketCalls() {
            return status().socketCalls();
        }

        @Override
        public long getFileChannels() {
            return status().fileChannels();
        }

        @Override
        public long getFileCalls() {
            return status().fileCalls();
        }

        @Override
        public long getFileDelegated() {
            return status().fileDelegated();
        }
    }
}
