package dev.flexsc.io;

import dev.flexsc.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.util.Objects;
import java.util.Set;

import static dev.flexsc.io.Sockaddr.*;
import static dev.flexsc.SocketConstants.*;

/** The socket options the channels support, as setsockopt(2)/getsockopt(2) through FlexSC. */
final class SockOpts {
    private SockOpts() {}

    static final Set<SocketOption<?>> STREAM = Set.of(StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_KEEPALIVE, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT,
            StandardSocketOptions.SO_LINGER, StandardSocketOptions.TCP_NODELAY);
    static final Set<SocketOption<?>> SERVER = Set.of(StandardSocketOptions.SO_RCVBUF,
            StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT);

    private record Key(int level, int name) {}

    private static Key key(SocketOption<?> o) {
        if (o == StandardSocketOptions.SO_SNDBUF) return new Key(SOL_SOCKET, SO_SNDBUF);
        if (o == StandardSocketOptions.SO_RCVBUF) return new Key(SOL_SOCKET, SO_RCVBUF);
        if (o == StandardSocketOptions.SO_KEEPALIVE) return new Key(SOL_SOCKET, SO_KEEPALIVE);
        if (o == StandardSocketOptions.SO_REUSEADDR) return new Key(SOL_SOCKET, SO_REUSEADDR);
        if (o == StandardSocketOptions.SO_REUSEPORT) return new Key(SOL_SOCKET, SO_REUSEPORT);
        if (o == StandardSocketOptions.SO_LINGER) return new Key(SOL_SOCKET, SO_LINGER);
        if (o == StandardSocketOptions.TCP_NODELAY) return new Key(IPPROTO_TCP, TCP_NODELAY);
        throw new UnsupportedOperationException("'" + o + "' not supported");
    }

    /** setsockopt(2) of {@code option} on a channel's descriptor, held while it runs; ClosedChannelException if closed. */
    static <T> void set(ChannelFd fd, Set<SocketOption<?>> supported, SocketOption<T> option, T value) throws IOException {
        fd.call(f -> {
            set(fd.syscalls(), f, supported, option, value);
            return null;
        });
    }

    /** getsockopt(2) of {@code option} on a channel's descriptor, held while it runs; ClosedChannelException if closed. */
    static <T> T get(ChannelFd fd, Set<SocketOption<?>> supported, SocketOption<T> option) throws IOException {
        return fd.call(f -> get(fd.syscalls(), f, supported, option));
    }

    private static <T> void set(Syscalls sys, int fd, Set<SocketOption<?>> supported, SocketOption<T> option, T value)
            throws IOException {
        Objects.requireNonNull(option, "option");
        if (!supported.contains(option)) throw new UnsupportedOperationException("'" + option + "' not supported");
        if (!option.type().isInstance(value)) throw new IllegalArgumentException("Invalid value '" + value + "'");
        Key k = key(option);
        if (option == StandardSocketOptions.SO_LINGER) {
            int secs = (Integer) value;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment l = a.allocate(8, 4);
                l.set(ValueLayout.JAVA_INT, 0, secs >= 0 ? 1 : 0);
                l.set(ValueLayout.JAVA_INT, 4, Math.max(0, Math.min(secs, 65535)));
                sys.setsockopt(fd, k.level, k.name, l);
            }
            return;
        }
        int v;
        if (value instanceof Boolean b) {
            v = b ? 1 : 0;
        } else {
            v = (Integer) value;
            if (v < 0) throw new IllegalArgumentException("Invalid value '" + value + "'");
        }
        sys.setsockopt(fd, k.level, k.name, v);
    }

    @SuppressWarnings("unchecked")
    private static <T> T get(Syscalls sys, int fd, Set<SocketOption<?>> supported, SocketOption<T> option) throws IOException {
        Objects.requireNonNull(option, "option");
        if (!supported.contains(option)) throw new UnsupportedOperationException("'" + option + "' not supported");
        Key k = key(option);
        if (option == StandardSocketOptions.SO_LINGER) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment l = a.allocate(8, 4);
                sys.getsockopt(fd, k.level, k.name, l);
                return (T) Integer.valueOf(l.get(ValueLayout.JAVA_INT, 0) != 0 ? l.get(ValueLayout.JAVA_INT, 4) : -1);
            }
        }
        int v = sys.getsockoptInt(fd, k.level, k.name);
        return option.type() == Boolean.class ? (T) Boolean.valueOf(v != 0) : (T) Integer.valueOf(v);
    }
}
