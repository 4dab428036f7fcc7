package dev.flexsc.io;

import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.PollFlags.POLLIN;
import static dev.flexsc.SocketConstants.*;
import static dev.flexsc.io.NetFd.*;

/**
 * A listening TCP {@link ServerSocketChannel} whose operations are FlexSC system calls, in
 * blocking and non-blocking mode, selectable by a FlexSC selector (the server socket channel
 * of {@link FlexscSelectorProvider}); {@link #accept()} returns {@link FlexscSocketChannel}s.
 *
 * <table>
 * <caption>Operations and the calls they make</caption>
 * <tr><th>operation</th><th>system calls</th></tr>
 * <tr><td>{@link #open()}</td><td>socket(SOCK_NONBLOCK), setsockopt (SO_REUSEADDR=1 as the JDK; IPV6_V6ONLY=0)</td></tr>
 * <tr><td>bind</td><td>bind, listen, getsockname</td></tr>
 * <tr><td>accept</td><td>accept4(SOCK_NONBLOCK | SOCK_CLOEXEC); in blocking mode, a readiness wait when
 *     no connection is queued</td></tr>
 * <tr><td>close</td><td>shutdown(SHUT_RDWR) if an operation or a selector holds the descriptor
 *     (Linux then wakes a waiting accept), then close</td></tr>
 * </table>
 *
 * <p>Closing the channel makes a thread blocked in accept throw
 * {@link AsynchronousCloseException}; interrupting it closes the channel and throws
 * {@link java.nio.channels.ClosedByInterruptException}. {@link #socket()} is a
 * {@link ServerSocket} view (the JDK's HttpServer binds through it). UNIX-domain sockets:
 * see {@link FlexscSelectorProvider}. Thread-safe.
 */
public final class FlexscServerSocketChannel extends ServerSocketChannel implements SelectableFd {
    private final NetFd net;
    private final int family;
    private final FlexscSelectorProvider provider;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final Object stateLock = new Object();
    /** Guarded by stateLock; non-null once bound. */
    private volatile InetSocketAddress localAddress;
    /** Guarded by stateLock. */
    private ServerSocket socket;

    private FlexscServerSocketChannel(FlexscSelectorProvider provider, int fd, int family) {
        super(provider);
        this.provider = provider;
        this.net = new NetFd(provider.syscalls(), fd, provider.counters);
        this.family = family;
        provider.counters.channels.increment();
    }

    /** An unbound server socket of the default provider (IPv6 dual stack where available). */
    public static FlexscServerSocketChannel open() throws IOException {
        return open(FlexscSelectorProvider.ofDefault(), Sockaddr.DEFAULT_FAMILY);
    }

    /** An unbound server socket with the calls of {@code engine}. */
    public static FlexscServerSocketChannel open(FlexscEngine engine) throws IOException {
        return open(engine.syscalls());
    }

    /** An unbound server socket with the calls of {@code syscalls} ({@link FlexscSelectorProvider#of}). */
    public static FlexscServerSocketChannel open(Syscalls syscalls) throws IOException {
        return open(FlexscSelectorProvider.of(syscalls), Sockaddr.DEFAULT_FAMILY);
    }

    /** An unbound server socket of {@code family} (INET or INET6). */
    public static FlexscServerSocketChannel open(Syscalls syscalls, StandardProtocolFamily family) throws IOException {
        return open(FlexscSelectorProvider.of(syscalls), Sockaddr.family(Objects.requireNonNull(family, "family")));
    }

    /** The provider's channel. */
    static FlexscServerSocketChannel open(FlexscSelectorProvider p, int family) throws IOException {
        return new FlexscServerSocketChannel(p, FlexscSocketChannel.newSocket(p.syscalls(), family, true), family);
    }

    /** The calls this channel makes. */
    public Syscalls syscalls() {
        return net.sys;
    }

    @Override
    public ChannelFd channelFd() {
        return net.fd;
    }

    /** The descriptor number (tests check that it is closed). */
    int channelFdForTest() {
        return net.fdVal();
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) throw new ClosedChannelException();
    }

    boolean isBound() {
        return localAddress != null;
    }

    /** bind(2) then listen(2); a {@code backlog < 1} means 50, as the JDK. */
    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (localAddress != null) throw new AlreadyBoundException();
            net.bind(family, local == null ? Sockaddr.anyLocal(family) : Sockaddr.check(local, family));
            long r = net.call(SyscallTable.LISTEN, backlog < 1 ? 50 : backlog, 0, 0, 0, 0);
            if (r == CLOSED) throw new ClosedChannelException();
            if (isError(r)) throw NetErrors.of("listen(fd=" + net.fdVal() + ")", errno(r));
            localAddress = SockOpts.call(net, f -> Sockaddr.localAddress(net.sys, f));
            return this;
        }
    }

    /**
     * accept4(2). In blocking mode waits until a connection arrives; in non-blocking mode
     * returns null if none is queued. The new channel is in blocking mode.
     *
     * @throws NotYetBoundException if the channel is not bound
     * @throws AsynchronousCloseException if closed while waiting
     * @throws java.nio.channels.ClosedByInterruptException if the thread was interrupted
     */
    @Override
    public FlexscSocketChannel accept() throws IOException {
        return accept(0);
    }

    /**
     * accept, waiting at most {@code timeoutMs} in blocking mode (0: without bound), for the
     * server socket adaptor.
     */
    private FlexscSocketChannel accept(int timeoutMs) throws IOException {
        acceptLock.lock();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment peer = a.allocate(Sockaddr.MAX_LEN, 8), len = a.allocate(ValueLayout.JAVA_INT);
            boolean blocking = isBlocking();
            long n = CLOSED; // the accepted descriptor once >= 0
            Throwable failure = null;
            try {
                if (blocking) begin();
                synchronized (stateLock) {
                    ensureOpen();
                    if (localAddress == null) throw new NotYetBoundException();
                }
                n = accept4(peer, len);
                long deadline = timeoutMs > 0 ? System.nanoTime() + timeoutMs * 1_000_000L : 0;
                if (blocking) {
                    while ((n == UNAVAILABLE || n == INTERRUPTED) && isOpen()) {
                        int wait = -1;
                        if (timeoutMs > 0) {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) throw new SocketTimeoutException("Accept timed out");
                            wait = (int) Math.max(1, (left + 999_999) / 1_000_000);
                        }
                        net.await(POLLIN, wait);
                        n = accept4(peer, len);
                    }
                }
                if (isError(n)) throw NetErrors.of("accept4(fd=" + net.fdVal() + ")", errno(n));
            } catch (Throwable t) {
                failure = t;
            }
            if (blocking) {
                try {
                    end(n >= 0); // AsynchronousCloseException, ClosedByInterruptException where due
                } catch (IOException e) {
                    if (failure != null) e.addSuppressed(failure);
                    failure = e;
                }
            }
            if (failure == null && n >= 0) {
                try {
                    return FlexscSocketChannel.accepted(provider, (int) n, family, null, Sockaddr.decode(peer));
                } catch (Throwable t) {
                    failure = t;
                }
            }
            if (failure != null) {
                if (n >= 0) closeAccepted(n, failure); // accepted, but reported as failed: do not leak it
                if (failure instanceof IOException io) throw io;
                if (failure instanceof RuntimeException re) throw re;
                if (failure instanceof Error er) throw er;
                throw new java.io.UncheckedIOException(new IOException(failure));
            }
            return null;
        } finally {
            acceptLock.unlock();
        }
    }

    private long accept4(MemorySegment peer, MemorySegment len) throws IOException {
        len.set(ValueLayout.JAVA_INT, 0, (int) peer.byteSize());
        return net.call(SyscallTable.ACCEPT4, peer.address(), len.address(), SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0);
    }

    private void closeAccepted(long fd, Throwable t) {
        try {
            net.sys.close((int) fd);
        } catch (IOException e) {
            t.addSuppressed(e);
        }
    }

    /** The server socket adaptor's accept: blocking mode only, at most {@code timeoutMs} (0: without bound). */
    FlexscSocketChannel blockingAccept(int timeoutMs) throws IOException {
        if (!isBlocking()) throw new IllegalBlockingModeException();
        return accept(timeoutMs);
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return localAddress;
        }
    }

    InetSocketAddress localAddressOrNull() {
        return localAddress;
    }

    @Override
    public ServerSocket socket() {
        synchronized (stateLock) {
            if (socket == null) socket = ServerSocketAdaptor.of(this);
            return socket;
        }
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        SockOpts.checkSet(SockOpts.SERVER, name, value);
        synchronized (stateLock) {
            ensureOpen();
            SockOpts.set(net, family, name, value);
            return this;
        }
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        SockOpts.checkGet(SockOpts.SERVER, name);
        synchronized (stateLock) {
            ensureOpen();
            return SockOpts.get(net, family, name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return SockOpts.SERVER;
    }

    @Override
    public int translateInterestOps(int ops) {
        return (ops & SelectionKey.OP_ACCEPT) != 0 ? POLLIN : 0;
    }

    @Override
    public int translateReadyOps(int revents, int interestOps) {
        return (revents & POLLIN) != 0 && (interestOps & SelectionKey.OP_ACCEPT) != 0 ? SelectionKey.OP_ACCEPT : 0;
    }

    /** Cancels waits and shuts the socket down if an accept or a selector holds it (Linux then wakes the accept). */
    @Override
    protected void implCloseSelectableChannel() throws IOException {
        net.close(true);
    }

    /** The descriptor is O_NONBLOCK in both modes; the lock makes the change wait for an accept in flight. */
    @Override
    protected void implConfigureBlocking(boolean block) throws IOException {
        acceptLock.lock();
        try {
            synchronized (stateLock) {
                ensureOpen();
            }
        } finally {
            acceptLock.unlock();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSuperclass().getName()).append('[');
        if (!isOpen()) {
            sb.append("closed");
        } else {
            InetSocketAddress l = localAddress;
            sb.append(l == null ? "unbound" : l.toString());
        }
        return sb.append(" fd=").append(net.fdVal()).append(']').toString();
    }
}
