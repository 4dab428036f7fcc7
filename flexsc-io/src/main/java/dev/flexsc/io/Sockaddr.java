package dev.flexsc.io;

import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Objects;

import static dev.flexsc.SocketConstants.*;

/**
 * {@code struct sockaddr_in} / {@code sockaddr_in6} in native memory (the socket constants
 * the channels use are {@link dev.flexsc.SocketConstants} and {@link dev.flexsc.MsgFlags}).
 */
final class Sockaddr {
    private Sockaddr() {}

    /** Large enough for sockaddr_in6. */
    static final int MAX_LEN = 28;

    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** The family a socket opened without one gets: IPv6 (dual stack) unless unavailable or java.net.preferIPv4Stack. */
    static final int DEFAULT_FAMILY = defaultFamily();

    /**
     * Whether the host has IPv6, probed by opening an AF_INET6 socket. The probe is a fact
     * about the host, made once when this class loads, not a call on a channel's behalf, so it
     * is made directly: through an engine, loading this class would open the default engine
     * (and fail where none runs), whatever engine the channels use.
     */
    private static int defaultFamily() {
        if (Boolean.getBoolean("java.net.preferIPv4Stack")) return AF_INET;
        Syscalls direct = DirectSyscalls.syscalls();
        int fd;
        try {
            fd = direct.socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        } catch (IOException noIpv6) {
            return AF_INET;
        }
        try {
            direct.close(fd);
        } catch (IOException ignored) {
            // the probe's own socket: nothing uses it, and close(2) releases it even when it fails
        }
        return AF_INET6;
    }

    static int family(StandardProtocolFamily f) {
        return switch (f) {
            case INET -> AF_INET;
            case INET6 -> AF_INET6;
            case UNIX -> throw new UnsupportedOperationException("UNIX domain sockets are not supported by FlexSC channels");
        };
    }

    /** Checks and resolves a connect or bind target as the JDK does. */
    static InetSocketAddress check(SocketAddress sa) {
        Objects.requireNonNull(sa, "address");
        if (!(sa instanceof InetSocketAddress isa)) throw new UnsupportedAddressTypeException();
        if (isa.isUnresolved()) throw new UnresolvedAddressException();
        return isa;
    }

    /** Writes {@code isa} for a socket of {@code family}; returns the segment of the sockaddr's exact length. */
    static MemorySegment encode(Arena a, int family, InetSocketAddress isa) {
        InetAddress ia = isa.getAddress();
        MemorySegment s = a.allocate(MAX_LEN, 8);
        if (family == AF_INET) {
            if (!(ia instanceof Inet4Address)) throw new UnsupportedAddressTypeException();
            s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
            s.set(BE_SHORT, 2, (short) isa.getPort());
            MemorySegment.copy(ia.getAddress(), 0, s, ValueLayout.JAVA_BYTE, 4, 4);
            return s.asSlice(0, 16);
        }
        byte[] b6;
        int scope = 0;
        if (ia instanceof Inet4Address) {
            b6 = new byte[16];
            if (!ia.isAnyLocalAddress()) { // 0.0.0.0 binds ::, the dual-stack wildcard, as the JDK does
                b6[10] = (byte) 0xff;
                b6[11] = (byte) 0xff;
                System.arraycopy(ia.getAddress(), 0, b6, 12, 4);
            }
        } else {
            b6 = ia.getAddress();
            scope = ((Inet6Address) ia).getScopeId();
        }
        s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET6);
        s.set(BE_SHORT, 2, (short) isa.getPort());
        MemorySegment.copy(b6, 0, s, ValueLayout.JAVA_BYTE, 8, 16);
        s.set(ValueLayout.JAVA_INT, 24, scope);
        return s.asSlice(0, 28);
    }

    /** Reads a sockaddr written by the kernel. */
    static InetSocketAddress decode(MemorySegment s) throws IOException {
        int family = s.get(ValueLayout.JAVA_SHORT, 0);
        int port = Short.toUnsignedInt(s.get(BE_SHORT, 2));
        try {
            if (family == AF_INET) {
                byte[] b = s.asSlice(4, 4).toArray(ValueLayout.JAVA_BYTE);
                return new InetSocketAddress(InetAddress.getByAddress(b), port);
            }
            if (family == AF_INET6) {
                byte[] b = s.asSlice(8, 16).toArray(ValueLayout.JAVA_BYTE);
                int scope = s.get(ValueLayout.JAVA_INT, 24);
                InetAddress ia = InetAddress.getByAddress(b); // an IPv4-mapped address comes back as Inet4Address
                if (ia instanceof Inet6Address && scope != 0) ia = Inet6Address.getByAddress(null, b, scope);
                return new InetSocketAddress(ia, port);
            }
        } catch (UnknownHostException e) {
            throw new IOException("bad address from the kernel", e);
        }
        throw new IOException("unexpected socket address family " + family);
    }

    /** getsockname(2) through {@code sys}: the socket's local address. */
    static InetSocketAddress localAddress(Syscalls sys, int fd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(MAX_LEN, 8);
            sys.getsockname(fd, s);
            return decode(s);
        }
    }

    /**
     * Checks a bind or connect address for a socket of {@code family} as the JDK does: an
     * InetSocketAddress (else UnsupportedAddressTypeException), resolved (else
     * UnresolvedAddressException), and IPv4 for an IPv4 socket.
     */
    static InetSocketAddress check(SocketAddress sa, int family) {
        InetSocketAddress isa = check(sa);
        if (family == AF_INET && !(isa.getAddress() instanceof Inet4Address)) throw new UnsupportedAddressTypeException();
        return isa;
    }

    /** A connect target: the wildcard address means this host's loopback, as the JDK connects it. */
    static InetSocketAddress connectTarget(SocketAddress sa, int family) {
        InetSocketAddress isa = check(sa, family);
        if (!isa.getAddress().isAnyLocalAddress()) return isa;
        InetAddress lo = isa.getAddress() instanceof Inet4Address ? InetAddress.getLoopbackAddress() : IPV6_LOOPBACK;
        if (lo instanceof Inet6Address && family == AF_INET) lo = InetAddress.getLoopbackAddress();
        return new InetSocketAddress(lo, isa.getPort());
    }

    private static final InetAddress IPV6_LOOPBACK;

    static {
        try {
            IPV6_LOOPBACK = InetAddress.getByAddress("localhost", new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The wildcard address a bind to null uses on a socket of {@code family}. */
    static InetSocketAddress anyLocal(int family) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(family == AF_INET ? new byte[4] : new byte[16]), 0);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
