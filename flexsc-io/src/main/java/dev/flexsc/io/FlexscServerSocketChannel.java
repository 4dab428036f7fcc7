package dev.flexsc.io;

import dev.flexsc.ErrnoException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.io.Sockaddr.*;
import static dev.flexsc.SocketConstants.*;

/**
 * A listening TCP {@link ServerSocketChannel} whose operations are FlexSC system calls, in
 * blocking mode; {@link #accept()} returns {@link FlexscSocketChannel}s.
 *
 * <table>
 * <caption>Operations and the calls they make</caption>
 * <tr><th>operation</th><th>system calls</th></tr>
 * <tr><td>{@link #open()}</td><td>socket, setsockopt (SO_REUSEADDR=1 as the JDK; IPV6_V6ONLY=0)</td></tr>
 * <tr><td>bind</td><td>bind, listen; getsockname (directly) for the bound address</td></tr>
 * <tr><td>accept</td><td>accept4(SOCK_CLOEXEC), blocking</td></tr>
 * <tr><td>close</td><td>shutdown(SHUT_RDWR) if a thread is blocked in accept (Linux wakes it), then close</td></tr>
 * </table>
 *
 * <p>A blocked accept holds one syscall thread of the engine. Closing the channel makes it
 * throw {@link java.nio.channels.AsynchronousCloseException}; interrupting its thread closes
 * the channel and throws {@link java.nio.channels.ClosedByInterruptException}.
 *
 * <p><b>Not supported:</b> non-blocking mode and selectors, {@link #socket()}, UNIX domain
 * sockets, options other than {@link #supportedOptions()}. Thread-safe.
 */
public final class FlexscServerSocketChannel extends ServerSocketChannel {
    private final Syscalls sys;
    private final ChannelFd fd;
    private final int family;
    private final ReentrantLock acceptLock = new ReentrantLock(), stateLock = new ReentrantLock();
    private volatile InetSocketAddress localAddress;

    private FlexscServerSocketChannel(Syscalls sys, int fd, int family) {
        super(SelectorProvider.provider());
        this.sys = sys;
        this.fd = new ChannelFd(fd, sys);
        this.family = family;
    }

    /** An unbound server socket through {@link Flexsc#syscalls()} (IPv6 dual stack where available). */
    public static FlexscServerSocketChannel open() throws IOException {
        return open(Flexsc.syscalls());
    }

    /** An unbound server socket with the calls of {@code engine}. */
    public static FlexscServerSocketChannel open(FlexscEngine engine) throws IOException {
        return open(engine.syscalls());
    }

    /** An unbound server socket with the calls of {@code syscalls}. */
    public static FlexscServerSocketChannel open(Syscalls syscalls) throws IOException {
        return open(syscalls, DEFAULT_FAMILY);
    }

    /** An unbound server socket of {@code family} (INET or INET6). */
    public static FlexscServerSocketChannel open(Syscalls syscalls, StandardProtocolFamily family) throws IOException {
        return open(syscalls, Sockaddr.family(Objects.requireNonNull(family, "family")));
    }

    private static FlexscServerSocketChannel open(Syscalls sys, int family) throws IOException {
        return new FlexscServerSocketChannel(sys, FlexscSocketChannel.newSocket(sys, family, true), family);
    }

    /** The calls this channel makes. */
    public Syscalls syscalls() {
        return sys;
    }

    /** The descriptor number (tests check that it is closed). */
    int channelFdForTest() {
        return fd.fd();
    }

    /** The bracket around a call that may block (see FlexscFileChannel.io). */
    private long io(ChannelIo.FdCall call, long completedAtLeast) throws IOException {
        try {
            return ioInBracket(call, completedAtLeast);
        } catch (IOException e) {
            throw ChannelIo.afterInterrupt(this, e); // an interrupt that got there before the JDK's interruptor
        }
    }

    private long ioInBracket(ChannelIo.FdCall call, long completedAtLeast) throws IOException {
        boolean completed = false;
        begin();
        try {
            long r = fd.run(this, call);
            completed = r >= completedAtLeast;
            return r;
        } finally {
            end(completed);
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) throw new ClosedChannelException();
    }

    /** bind(2) then listen(2); a {@code backlog < 1} means 50, as the JDK. */
    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        stateLock.lock();
        try {
            ensureOpen();
            if (localAddress != null) throw new AlreadyBoundException();
            InetSocketAddress isa = local == null ? new InetSocketAddress(0) : Sockaddr.check(local);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sa = Sockaddr.encode(a, family, isa);
                io(f -> {
                    sys.bind(f, sa);
                    sys.listen(f, backlog < 1 ? 50 : backlog);
                    return 0;
                }, 0);
            } catch (ErrnoException e) {
                throw bindError(e, isa);
            }
            localAddress = fd.call(Sockaddr::localAddress);
            return this;
        } finally {
            stateLock.unlock();
        }
    }

    static IOException bindError(ErrnoException e, InetSocketAddress isa) {
        if (e.errno() == 98 /* EADDRINUSE */ || e.errno() == 13 /* EACCES */ || e.errno() == 99 /* EADDRNOTAVAIL */) {
            BindException b = new BindException(e.getMessage() + " (" + isa + ")");
            b.initCause(e);
            return b;
        }
        return e;
    }

    /**
     * accept4(2), blocking until a connection arrives.
     *
     * @throws NotYetBoundException if the channel is not bound
     * @throws java.nio.channels.AsynchronousCloseException if closed while waiting
     * @throws java.nio.channels.ClosedByInterruptException if the thread was interrupted
     */
    @Override
    public FlexscSocketChannel accept() throws IOException {
        acceptLock.lock();
        try {
            ensureOpen();
            if (localAddress == null) throw new NotYetBoundException();
            long[] accepted = {-1};
            try (Arena a = Arena.ofConfined()) {
                MemorySegment peer = a.allocate(MAX_LEN, 8);
                try {
                    io(f -> accepted[0] = sys.accept4(f, peer, SOCK_CLOEXEC), 0);
                    return FlexscSocketChannel.accepted(sys, (int) accepted[0], family, Sockaddr.decode(peer));
                } catch (Throwable t) {
                    // Accepted, but end() reports an interrupt or close: do not leak the new socket.
                    if (accepted[0] >= 0) {
                        try {
                            sys.close((int) accepted[0]);
                        } catch (IOException e) {
                            t.addSuppressed(e);
                        }
                    }
                    throw t;
                }
            }
        } finally {
            acceptLock.unlock();
        }
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        return localAddress;
    }

    /** Not supported: use the channel. */
    @Override
    public ServerSocket socket() {
        throw new UnsupportedOperationException("FlexscServerSocketChannel has no java.net.ServerSocket adaptor; use the channel");
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        ensureOpen();
        SockOpts.set(fd, SockOpts.SERVER, name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        ensureOpen();
        return SockOpts.get(fd, SockOpts.SERVER, name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return SockOpts.SERVER;
    }

    /** Wakes a blocked accept with shutdown(SHUT_RDWR) (Linux returns EINVAL from it), then closes when unused. */
    @Override
    protected void implCloseSelectableChannel() throws IOException {
        fd.closeSocket();
    }

    /** Only blocking mode is supported. */
    @Override
    protected void implConfigureBlocking(boolean block) {
        FlexscSocketChannel.requireBlocking(block);
    }

    @Override
    public String toString() {
        return "FlexscServerSocketChannel[fd=" + fd.fd() + ", local=" + localAddress + (isOpen() ? "" : ", closed") + "]";
    }
}
