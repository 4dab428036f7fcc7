package dev.flexsc.io;

import dev.flexsc.Flexsc;
import dev.flexsc.Syscalls;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link SelectorProvider} whose channels and selectors make FlexSC system calls: what
 * {@code SocketChannel.open()}, {@code ServerSocketChannel.open()}, {@code Pipe.open()} and
 * {@code Selector.open()} return once it is the JVM's provider. Unmodified servers (Jetty,
 * Tomcat, Netty's NIO transport, the JDK's HttpServer and HttpClient) reach their sockets
 * through this one extension point.
 *
 * <p><b>Turning it on.</b> {@code -Djava.nio.channels.spi.SelectorProvider=dev.flexsc.io.FlexscSelectorProvider}
 * (the JDK instantiates it with the public no-argument constructor, through the system
 * class loader); {@link FlexscProviders} documents the flags that turn on both providers. The
 * jar alone changes nothing: it declares no service, so without the property the JDK's own
 * provider stays the JVM's.
 *
 * <p><b>What it opens.</b>
 * <ul>
 * <li>{@link #openSocketChannel()}: a {@link FlexscSocketChannel}; {@link #openServerSocketChannel()}:
 *     a {@link FlexscServerSocketChannel} (TCP over IPv4 and IPv6, blocking and non-blocking
 *     mode, with {@code socket()} adaptors);</li>
 * <li>{@link #openPipe()}: a pipe whose two ends are FlexSC channels;</li>
 * <li>{@link #openSelector()}: an epoll selector over FlexSC calls, which selects the channels
 *     of this provider;</li>
 * <li>UNIX-domain sockets ({@link StandardProtocolFamily#UNIX}), datagram channels and
 *     {@link #inheritedChannel()}: the JDK's own channels, made with direct system calls,
 *     where the JVM lets this class reach the JDK's provider
 *     ({@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}); else
 *     UnsupportedOperationException naming that flag. Servers of HTTP over TCP do not use
 *     them; a channel of the JDK cannot be registered with a FlexSC selector
 *     ({@link java.nio.channels.IllegalSelectorException}).</li>
 * </ul>
 *
 * <p>The JVM's instance uses {@link Flexsc#syscalls()} (the default engine, opened on first
 * use); {@link #of(Syscalls)} gives the provider of another engine's calls, whose channels and
 * selectors work together. Thread-safe.
 */
public class FlexscSelectorProvider extends SelectorProvider {
    private static final Map<Syscalls, FlexscSelectorProvider> BY_SYSCALLS = new ConcurrentHashMap<>();
    /** The provider of {@link Flexsc#syscalls()} when it is not the JVM's provider. */
    private static volatile FlexscSelectorProvider defaultProvider;

    /** Null for the JVM's provider until first used: the default engine opens lazily. */
    private volatile Syscalls syscalls;
    private final boolean lazy;
    /** Calls counted for {@link FlexscProviders}: channels and selectors opened. */
    final ProviderCounters counters = new ProviderCounters();

    /**
     * The JVM's provider: the JDK calls this constructor when the system property
     * {@code java.nio.channels.spi.SelectorProvider} names this class. Its channels use
     * {@link Flexsc#syscalls()}, opened when the first channel or selector is.
     */
    public FlexscSelectorProvider() {
        this.lazy = true;
        FlexscProviders.selectorProviderInstalled(this);
    }

    private FlexscSelectorProvider(Syscalls syscalls) {
        this.syscalls = Objects.requireNonNull(syscalls, "syscalls").counting(counters.calls);
        this.lazy = false;
    }

    /**
     * The provider whose channels and selectors make the calls of {@code syscalls}: one per
     * {@code Syscalls}, so that its channels can be registered with its selectors. For
     * {@link Flexsc#syscalls()} it is the JVM's provider when that is a FlexSC one.
     */
    public static FlexscSelectorProvider of(Syscalls syscalls) {
        Objects.requireNonNull(syscalls, "syscalls");
        dev.flexsc.FlexscEngine d = Flexsc.defaultEngineIfOpen();
        if (d != null && d.syscalls() == syscalls && SelectorProvider.provider() instanceof FlexscSelectorProvider p && p.lazy) {
            return p;
        }
        return BY_SYSCALLS.computeIfAbsent(syscalls, FlexscSelectorProvider::new);
    }

    /** The provider of {@link Flexsc#syscalls()}: the JVM's provider if it is a FlexSC one. */
    public static FlexscSelectorProvider ofDefault() {
        if (SelectorProvider.provider() instanceof FlexscSelectorProvider p && p.lazy) return p;
        FlexscSelectorProvider p = defaultProvider;
        if (p == null) {
            p = of(Flexsc.syscalls());
            defaultProvider = p;
        }
        return p;
    }

    /** The calls this provider's channels make (counted for {@link FlexscProviders}). */
    public Syscalls syscalls() {
        Syscalls s = syscalls;
        if (s == null) {
            synchronized (this) {
                s = syscalls;
                if (s == null) {
                    // the shared default engine: opened once, lives with the JVM
                    s = Flexsc.syscalls().counting(counters.calls);
                    syscalls = s;
                    FlexscProviders.registerOnFirstUse();
                }
            }
        }
        return s;
    }

    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return FlexscSocketChannel.open(this, Sockaddr.DEFAULT_FAMILY);
    }

    @Override
    public SocketChannel openSocketChannel(ProtocolFamily family) throws IOException {
        Objects.requireNonNull(family, "family");
        if (family == StandardProtocolFamily.UNIX) return PlatformChannels.provider("UNIX-domain sockets").openSocketChannel(family);
        return FlexscSocketChannel.open(this, Sockaddr.family(standard(family)));
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        return FlexscServerSocketChannel.open(this, Sockaddr.DEFAULT_FAMILY);
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        Objects.requireNonNull(family, "family");
        if (family == StandardProtocolFamily.UNIX) {
            return PlatformChannels.provider("UNIX-domain sockets").openServerSocketChannel(family);
        }
        return FlexscServerSocketChannel.open(this, Sockaddr.family(standard(family)));
    }

    /** INET or INET6; another family is refused as the JDK refuses it. */
    private static StandardProtocolFamily standard(ProtocolFamily family) {
        if (family instanceof StandardProtocolFamily f) return f;
        throw new UnsupportedOperationException("Protocol family not supported");
    }

    @Override
    public Pipe openPipe() throws IOException {
        return FlexscPipe.open(this);
    }

    @Override
    public AbstractSelector openSelector() throws IOException {
        FlexscSelector s = new FlexscSelector(this, syscalls());
        counters.selectors.increment();
        return s;
    }

    /** The JDK's datagram channel (direct calls); see the class comment. */
    @Override
    public DatagramChannel openDatagramChannel() throws IOException {
        return PlatformChannels.provider("datagram channels").openDatagramChannel();
    }

    /** The JDK's datagram channel (direct calls); see the class comment. */
    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        return PlatformChannels.provider("datagram channels").openDatagramChannel(family);
    }

    /**
     * The JDK's inherited channel (System.inheritedChannel()), where this class can reach the
     * JDK's provider; otherwise null, as for a JVM that inherited none.
     */
    @Override
    public Channel inheritedChannel() throws IOException {
        SelectorProvider p = PlatformChannels.providerOrNull();
        return p == null ? null : p.inheritedChannel();
    }

    @Override
    public String toString() {
        return "FlexscSelectorProvider[" + (syscalls == null ? "default engine, not opened yet" : syscalls) + "]";
    }
}
