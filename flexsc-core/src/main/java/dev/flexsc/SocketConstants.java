package dev.flexsc;

/**
 * The arguments of {@link Syscalls#socket}, {@link Syscalls#accept4},
 * {@link Syscalls#setsockopt}, {@link Syscalls#getsockopt} and {@link Syscalls#shutdown}:
 * address families, socket types and flags, option levels and names, shutdown modes
 * ({@code <sys/socket.h>}, {@code <netinet/in.h>}, {@code <netinet/tcp.h>}; x86-64 values).
 * {@code LinuxConstantsConformanceTest} checks every value against the C library's headers.
 */
public final class SocketConstants {
    private SocketConstants() {}

    // ---- socket(domain): address families ----
    /** Local (Unix domain) sockets. */
    public static final int AF_UNIX = 1;
    /** IPv4. */
    public static final int AF_INET = 2;
    /** IPv6. */
    public static final int AF_INET6 = 10;

    // ---- socket(type), accept4(flags) ----
    /** A byte stream (TCP). */
    public static final int SOCK_STREAM = 1;
    /** Datagrams (UDP). */
    public static final int SOCK_DGRAM = 2;
    /** Sequenced, reliable records. */
    public static final int SOCK_SEQPACKET = 5;
    /** Or-ed into the type (or accept4's flags): the descriptor is O_NONBLOCK. */
    public static final int SOCK_NONBLOCK = 04000;
    /** Or-ed into the type (or accept4's flags): the descriptor is close-on-exec. */
    public static final int SOCK_CLOEXEC = 02000000;

    // ---- setsockopt/getsockopt(level) ----
    /** Options of the socket itself (SO_*). */
    public static final int SOL_SOCKET = 1;
    /** IPv4 options (IP_*). */
    public static final int IPPROTO_IP = 0;
    /** TCP options (TCP_*). */
    public static final int IPPROTO_TCP = 6;
    /** IPv6 options (IPV6_*). */
    public static final int IPPROTO_IPV6 = 41;

    // ---- SOL_SOCKET options ----
    /** Bind to an address in TIME_WAIT. */
    public static final int SO_REUSEADDR = 2;
    /** (get) The socket type. */
    public static final int SO_TYPE = 3;
    /** (get) The pending error, cleared by reading it. */
    public static final int SO_ERROR = 4;
    /** Send buffer size. */
    public static final int SO_SNDBUF = 7;
    /** Receive buffer size. */
    public static final int SO_RCVBUF = 8;
    /** TCP keep-alive probes. */
    public static final int SO_KEEPALIVE = 9;
    /** Out-of-band data inline with the stream. */
    public static final int SO_OOBINLINE = 10;
    /** Linger on close ({@code struct linger}). */
    public static final int SO_LINGER = 13;
    /** Several sockets may bind the same address and port. */
    public static final int SO_REUSEPORT = 15;
    /** (get) 1 if the socket listens. */
    public static final int SO_ACCEPTCONN = 30;
    /** (get) The socket's address family. */
    public static final int SO_DOMAIN = 39;

    // ---- IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6 options ----
    /** Send small segments at once (no Nagle delay). */
    public static final int TCP_NODELAY = 1;
    /** Seconds of idleness before the first keep-alive probe. */
    public static final int TCP_KEEPIDLE = 4;
    /** Seconds between keep-alive probes. */
    public static final int TCP_KEEPINTVL = 5;
    /** Keep-alive probes before the connection is dropped. */
    public static final int TCP_KEEPCNT = 6;
    /** Acknowledge at once rather than delayed. */
    public static final int TCP_QUICKACK = 12;
    /** The IPv4 type-of-service byte. */
    public static final int IP_TOS = 1;
    /** An IPv6 socket accepts IPv6 only (no IPv4-mapped addresses). */
    public static final int IPV6_V6ONLY = 26;
    /** The IPv6 traffic class (IPv6's IP_TOS). */
    public static final int IPV6_TCLASS = 67;

    // ---- shutdown(how) ----
    /** No more receptions. */
    public static final int SHUT_RD = 0;
    /** No more transmissions. */
    public static final int SHUT_WR = 1;
    /** Neither. */
    public static final int SHUT_RDWR = 2;
}
