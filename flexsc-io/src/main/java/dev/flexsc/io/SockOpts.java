package dev.flexsc.io;

import dev.flexsc.ErrnoException;
import dev.flexsc.Syscalls;
import jdk.net.ExtendedSocketOptions;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static dev.flexsc.SocketConstants.*;

/**
 * The socket options the FlexSC socket channels support, as setsockopt(2)/getsockopt(2)
 * through FlexSC, with the JDK's checks: the standard options a TCP channel of the JDK
 * supports, and jdk.net's keep-alive and quick-ack options. Not supported (the JDK's channels
 * have them): {@code SO_OOBINLINE} (an option of a JDK-internal class) and
 * {@code SO_INCOMING_NAPI_ID}.
 */
final class SockOpts {
    private SockOpts() {}

    static final Set<SocketOption<?>> STREAM = Set.of(StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_KEEPALIVE, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
            StandardSocketOptions.SO_LINGER, StandardSocketOptions.TCP_NODELAY, StandardSocketOptions.IP_TOS,
            ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL, ExtendedSocketOptions.TCP_KEEPCOUNT,
            ExtendedSocketOptions.TCP_QUICKACK);
    static final Set<SocketOption<?>> SERVER = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
            ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL, ExtendedSocketOptions.TCP_KEEPCOUNT,
            ExtendedSocketOptions.TCP_QUICKACK);

    private record Key(int level, int name) {}

    private static final Map<SocketOption<?>, Key> KEYS = Map.ofEntries(
            Map.entry(StandardSocketOptions.SO_SNDBUF, new Key(SOL_SOCKET, SO_SNDBUF)),
            Map.entry(StandardSocketOptions.SO_RCVBUF, new Key(SOL_SOCKET, SO_RCVBUF)),
            Map.entry(StandardSocketOptions.SO_KEEPALIVE, new Key(SOL_SOCKET, SO_KEEPALIVE)),
            Map.entry(StandardSocketOptions.SO_REUSEADDR, new Key(SOL_SOCKET, SO_REUSEADDR)),
            Map.entry(StandardSocketOptions.SO_REUSEPORT, new Key(SOL_SOCKET, SO_REUSEPORT)),
            Map.entry(StandardSocketOptions.SO_LINGER, new Key(SOL_SOCKET, SO_LINGER)),
            Map.entry(StandardSocketOptions.TCP_NODELAY, new Key(IPPROTO_TCP, TCP_NODELAY)),
            Map.entry(StandardSocketOptions.IP_TOS, new Key(IPPROTO_IP, IP_TOS)),
            Map.entry(ExtendedSocketOptions.TCP_KEEPIDLE, new Key(IPPROTO_TCP, TCP_KEEPIDLE)),
            Map.entry(ExtendedSocketOptions.TCP_KEEPINTERVAL, new Key(IPPROTO_TCP, TCP_KEEPINTVL)),
            Map.entry(ExtendedSocketOptions.TCP_KEEPCOUNT, new Key(IPPROTO_TCP, TCP_KEEPCNT)),
            Map.entry(ExtendedSocketOptions.TCP_QUICKACK, new Key(IPPROTO_TCP, TCP_QUICKACK)));

    /**
     * The JDK channels' checks before anything else: null name, an unsupported option
     * (UnsupportedOperationException), a value of the wrong type (IllegalArgumentException).
     */
    static <T> void checkSet(Set<SocketOption<?>> supported, SocketOption<T> option, T value) {
        Objects.requireNonNull(option);
        if (!supported.contains(option)) throw new UnsupportedOperationException("'" + option + "' not supported");
        if (!option.type().isInstance(value)) throw new IllegalArgumentException("Invalid value '" + value + "'");
    }

    /** The JDK channels' checks of getOption: null name, an unsupported option. */
    static void checkGet(Set<SocketOption<?>> supported, SocketOption<?> option) {
        Objects.requireNonNull(option);
        if (!supported.contains(option)) throw new UnsupportedOperationException("'" + option + "' not supported");
    }

    /**
     * setsockopt(2) of {@code option} (checked by {@link #checkSet}) on a socket of {@code family},
     * holding the descriptor; ClosedChannelException if closed.
     */
    static <T> void set(NetFd net, int family, SocketOption<T> option, T value) throws IOException {
        int v;
        if (value instanceof Boolean b) {
            v = b ? 1 : 0;
        } else {
            v = (Integer) value;
        }
        if ((option == StandardSocketOptions.SO_RCVBUF || option == StandardSocketOptions.SO_SNDBUF) && v < 0) {
            throw new IllegalArgumentException("Invalid send/receive buffer size");
        }
        if (option == StandardSocketOptions.IP_TOS && (v < 0 || v > 255)) throw new IllegalArgumentException("Invalid IP_TOS value");
        if ((option == ExtendedSocketOptions.TCP_KEEPIDLE || option == ExtendedSocketOptions.TCP_KEEPINTERVAL
                || option == ExtendedSocketOptions.TCP_KEEPCOUNT) && v < 0) {
            throw new IllegalArgumentException("Negative " + option.name() + " value: " + v);
        }
        Key k = KEYS.get(option);
        int value0 = v;
        call(net, f -> {
            Syscalls sys = net.sys;
            if (option == StandardSocketOptions.SO_LINGER) {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment l = a.allocate(8, 4); // struct linger: int l_onoff, int l_linger
                    l.set(ValueLayout.JAVA_INT, 0, value0 >= 0 ? 1 : 0);
                    l.set(ValueLayout.JAVA_INT, 4, Math.max(0, Math.min(value0, 65535)));
                    sys.setsockopt(f, k.level, k.name, l);
                }
            } else if (option == StandardSocketOptions.IP_TOS && family == AF_INET6) {
                sys.setsockopt(f, IPPROTO_IPV6, IPV6_TCLASS, value0);
                try {
                    sys.setsockopt(f, IPPROTO_IP, IP_TOS, value0); // for IPv4-mapped peers, as the JDK
                } catch (ErrnoException ignored) {
                    // an IPv6-only path: the traffic class is what counts
                }
            } else {
                sys.setsockopt(f, k.level, k.name, value0);
            }
            return null;
        });
    }

    /** getsockopt(2) of {@code option} (checked by {@link #checkGet}); ClosedChannelException if closed. */
    @SuppressWarnings("unchecked")
    static <T> T get(NetFd net, int family, SocketOption<T> option) throws IOException {
        Key k = KEYS.get(option);
        return call(net, f -> {
            Syscalls sys = net.sys;
            if (option == StandardSocketOptions.SO_LINGER) {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment l = a.allocate(8, 4);
                    sys.getsockopt(f, k.level, k.name, l);
                    return (T) Integer.valueOf(l.get(ValueLayout.JAVA_INT, 0) != 0 ? l.get(ValueLayout.JAVA_INT, 4) : -1);
                }
            }
            int v = option == StandardSocketOptions.IP_TOS && family == AF_INET6
                    ? sys.getsockoptInt(f, IPPROTO_IPV6, IPV6_TCLASS) : sys.getsockoptInt(f, k.level, k.name);
            // Linux doubles a SO_SNDBUF/SO_RCVBUF it is given (room for its bookkeeping) and
            // getsockopt(2) returns the doubled size; the JDK halves it, so that getOption
            // returns what setOption set: so do we.
            if (option == StandardSocketOptions.SO_SNDBUF || option == StandardSocketOptions.SO_RCVBUF) v /= 2;
            return option.type() == Boolean.class ? (T) Boolean.valueOf(v != 0) : (T) Integer.valueOf(v);
        });
    }

    /** A call on the descriptor that never blocks. */
    @FunctionalInterface
    interface OptCall<T> {
        T run(int fd) throws IOException;
    }

    /** Runs {@code c} holding the descriptor; setsockopt's errors are SocketExceptions, as the JDK's. */
    static <T> T call(NetFd net, OptCall<T> c) throws IOException {
        if (!net.fd.acquire()) throw new ClosedChannelException();
        try {
            return c.run(net.fd.fd());
        } catch (ErrnoException e) {
            SocketException x = new SocketException(e.getMessage());
            x.initCause(e);
            throw x;
        } finally {
            net.fd.release();
        }
    }
}
