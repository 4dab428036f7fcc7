package dev.flexsc.io;

import dev.flexsc.ErrnoException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.io.Sockaddr.*;
import static dev.flexsc.SocketConstants.*;
import static dev.flexsc.MsgFlags.MSG_NOSIGNAL;

/**
 * A TCP {@link SocketChannel} whose operations are FlexSC system calls, in blocking mode.
 *
 * <table>
 * <caption>Operations and the calls they make</caption>
 * <tr><th>operation</th><th>system calls</th></tr>
 * <tr><td>{@link #open()}</td><td>socket (and setsockopt IPV6_V6ONLY=0 for a dual-stack IPv6 socket)</td></tr>
 * <tr><td>bind, connect</td><td>bind; connect (blocking)</td></tr>
 * <tr><td>read; scatter read</td><td>read; readv</td></tr>
 * <tr><td>write; gather write</td><td>sendto; sendmsg (both with MSG_NOSIGNAL: a closed peer gives EPIPE, not SIGPIPE)</td></tr>
 * <tr><td>shutdownInput / shutdownOutput</td><td>shutdown(SHUT_RD / SHUT_WR)</td></tr>
 * <tr><td>options</td><td>setsockopt / getsockopt</td></tr>
 * <tr><td>getLocalAddress</td><td>getsockname, made directly (not on the allow-list; it never blocks)</td></tr>
 * <tr><td>close</td><td>shutdown(SHUT_RDWR) if a thread is blocked in the channel, then close once none is</td></tr>
 * </table>
 *
 * <p>Reads and writes block a syscall thread of the engine while they wait for the peer
 * (see {@link dev.flexsc.FlexscConfig#poolThreads()}); the calling green thread parks.
 *
 * <p><b>Close and interrupt</b> as {@link java.nio.channels.InterruptibleChannel}: a thread
 * blocked in read, write or connect when the channel is closed throws
 * {@link AsynchronousCloseException} (close shuts the socket down, which wakes the blocked
 * call); interrupting it closes the channel and throws
 * {@link java.nio.channels.ClosedByInterruptException}.
 *
 * <p><b>Not supported:</b> non-blocking mode and selectors ({@code configureBlocking(false)}
 * throws UnsupportedOperationException; registering with a JDK selector throws
 * {@link java.nio.channels.IllegalSelectorException}), {@link #socket()}, UNIX domain
 * sockets, options other than {@link #supportedOptions()}.
 *
 * <p>Thread-safe: one read and one write may proceed at once, as with the JDK's channel.
 */
public final class FlexscSocketChannel extends SocketChannel {
    private final Syscalls sys;
    private final ChannelFd fd;
    private final int family;
    private final ReentrantLock readLock = new ReentrantLock(), writeLock = new ReentrantLock();
    /** Guards connect, bind and the shutdown flags' transitions. */
    private final ReentrantLock stateLock = new ReentrantLock();
    private volatile boolean bound, connected, inputClosed, outputClosed;
    private volatile InetSocketAddress localAddress, remoteAddress;
    private final ChannelIo.Runner runner = this::io;

    private FlexscSocketChannel(Syscalls sys, int fd, int family) {
        super(SelectorProvider.provider());
        this.sys = sys;
        this.fd = new ChannelFd(fd, sys);
        this.family = family;
    }

    /** An unconnected socket through {@link Flexsc#syscalls()}: IPv6 dual stack where available, as the JDK. */
    public static FlexscSocketChannel open() throws IOException {
        return open(Flexsc.syscalls());
    }

    /** An unconnected socket with the calls of {@code engine}. */
    public static FlexscSocketChannel open(FlexscEngine engine) throws IOException {
        return open(engine.syscalls());
    }

    /** An unconnected socket with the calls of {@code syscalls}. */
    public static FlexscSocketChannel open(Syscalls syscalls) throws IOException {
        return open(syscalls, DEFAULT_FAMILY);
    }

    /** An unconnected socket of {@code family} (INET or INET6) with the calls of {@code syscalls}. */
    public static FlexscSocketChannel open(Syscalls syscalls, StandardProtocolFamily family) throws IOException {
        return open(syscalls, Sockaddr.family(Objects.requireNonNull(family, "family")));
    }

    /** A socket connected to {@code remote}, through {@link Flexsc#syscalls()}. */
    public static FlexscSocketChannel open(SocketAddress remote) throws IOException {
        return open(Flexsc.syscalls(), remote);
    }

    /** A socket connected to {@code remote}, with the calls of {@code syscalls}. */
    public static FlexscSocketChannel open(Syscalls syscalls, SocketAddress remote) throws IOException {
        InetSocketAddress isa = Sockaddr.check(remote);
        FlexscSocketChannel ch = open(syscalls, isa.getAddress() instanceof java.net.Inet6Address ? AF_INET6 : DEFAULT_FAMILY);
        try {
            ch.connect(isa);
        } catch (Throwable t) {
            try {
                ch.close();
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
        return ch;
    }

    private static FlexscSocketChannel open(Syscalls sys, int family) throws IOException {
        return new FlexscSocketChannel(sys, newSocket(sys, family, false), family);
    }

    /**
     * socket(2) for a stream channel or a listener of {@code family}: an IPv6 socket is made
     * dual stack (IPV6_V6ONLY=0), as the JDK; {@code reuseAddress} sets SO_REUSEADDR=1, as
     * the JDK does for a listener. The fd is closed again if a setsockopt fails.
     */
    static int newSocket(Syscalls sys, int family, boolean reuseAddress) throws IOException {
        Objects.requireNonNull(sys, "syscalls");
        int fd = sys.socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        try {
            if (family == AF_INET6) sys.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
            if (reuseAddress) sys.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        } catch (IOException e) {
            sys.close(fd);
            throw e;
        }
        return fd;
    }

    /** A socket returned by accept4 on a {@link FlexscServerSocketChannel}. */
    static FlexscSocketChannel accepted(Syscalls sys, int fd, int family, InetSocketAddress remote) {
        FlexscSocketChannel ch = new FlexscSocketChannel(sys, fd, family);
        ch.bound = true;
        ch.connected = true;
        ch.remoteAddress = remote;
        return ch;
    }

    ChannelFd channelFd() {
        return fd;
    }

    /** The lock every write holds (FlexscFileChannel.transferTo holds it around sendfile). */
    ReentrantLock writeLock() {
        return writeLock;
    }

    boolean isOutputShutdown() {
        return outputClosed;
    }

    /** The calls this channel makes. */
    public Syscalls syscalls() {
        return sys;
    }

    // ---- the bracket around every call (see FlexscFileChannel.io) ----

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
        } catch (IOException e) {
            throw translate(e); // fd.run rethrows only while the channel is open
        } finally {
            end(completed);
        }
    }

    private static IOException translate(IOException e) {
        if (!(e instanceof ErrnoException ee)) return e;
        IOException x = switch (ee.errno()) {
            case 104 /* ECONNRESET */ -> new SocketException("Connection reset: " + ee.getMessage());
            case 111 /* ECONNREFUSED */, 110 /* ETIMEDOUT */ -> new ConnectException(ee.getMessage());
            case 101 /* ENETUNREACH */, 113 /* EHOSTUNREACH */ -> new NoRouteToHostException(ee.getMessage());
            default -> null;
        };
        if (x == null) return e;
        x.initCause(e);
        return x;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) throw new ClosedChannelException();
    }

    private void ensureOpenAndConnected() throws ClosedChannelException {
        ensureOpen();
        if (!connected) throw new NotYetConnectedException();
    }

    // ---- connection ----

    @Override
    public SocketChannel bind(SocketAddress local) throws IOException {
        stateLock.lock();
        try {
            ensureOpen();
            if (bound || connected) throw new AlreadyBoundException();
            InetSocketAddress isa = local == null ? new InetSocketAddress(0) : Sockaddr.check(local);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sa = Sockaddr.encode(a, family, isa);
                io(f -> {
                    sys.bind(f, sa);
                    return 0;
                }, 0);
            } catch (ErrnoException e) {
                throw FlexscServerSocketChannel.bindError(e, isa);
            }
            bound = true;
            return this;
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Connects in blocking mode (connect(2)); returns true. As the JDK, a failed connect
     * closes the channel.
     *
     * @throws ConnectException connection refused or timed out
     */
    @Override
    public boolean connect(SocketAddress remote) throws IOException {
        InetSocketAddress isa = Sockaddr.check(remote);
        readLock.lock();
        try {
            writeLock.lock();
            try {
                stateLock.lock();
                try {
                    ensureOpen();
                    if (connected) throw new AlreadyConnectedException();
                } finally {
                    stateLock.unlock();
                }
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment sa = Sockaddr.encode(a, family, isa);
                    io(f -> {
                        sys.connect(f, sa);
                        return 0;
                    }, 0);
                } catch (IOException e) {
                    close();
                    throw e;
                }
                stateLock.lock();
                try {
                    bound = true;
                    connected = true;
                    remoteAddress = isa;
                } finally {
                    stateLock.unlock();
                }
                return true;
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
    }

    /** Blocking mode only: true once connected. */
    @Override
    public boolean finishConnect() throws IOException {
        ensureOpen();
        if (!connected) throw new NoConnectionPendingException();
        return true;
    }

    @Override
    public boolean isConnected() {
        return connected;
    }

    /** Always false: connections are made in blocking mode. */
    @Override
    public boolean isConnectionPending() {
        return false;
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        return remoteAddress;
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        InetSocketAddress l = localAddress;
        if (l == null && (bound || connected)) {
            l = fd.call(Sockaddr::localAddress);
            localAddress = l;
        }
        return l;
    }

    /** shutdown(2); ENOTCONN (the peer has gone already) is not an error, as in the JDK. */
    private Object shutdown(int f, int how) throws IOException {
        try {
            sys.shutdown(f, how);
        } catch (ErrnoException e) {
            if (e.errno() != 107 /* ENOTCONN */) throw e;
        }
        return null;
    }

    @Override
    public SocketChannel shutdownInput() throws IOException {
        stateLock.lock();
        try {
            ensureOpen();
            if (!connected) throw new NotYetConnectedException();
            if (!inputClosed) {
                fd.call(f -> shutdown(f, SHUT_RD)); // wakes a read blocked in the kernel: it returns 0 (end of stream)
                inputClosed = true;
            }
            return this;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        stateLock.lock();
        try {
            ensureOpen();
            if (!connected) throw new NotYetConnectedException();
            if (!outputClosed) {
                fd.call(f -> shutdown(f, SHUT_WR));
                outputClosed = true;
            }
            return this;
        } finally {
            stateLock.unlock();
        }
    }

    /** Not supported: use the channel itself, or {@code Channels.newInputStream/newOutputStream}. */
    @Override
    public Socket socket() {
        throw new UnsupportedOperationException("FlexscSocketChannel has no java.net.Socket adaptor;"
                + " use the channel, or Channels.newInputStream/newOutputStream on it");
    }

    // ---- data ----

    /**
     * recvfrom(2) with no flags (on a stream socket the same as read(2)); -1 at end of stream
     * or after {@link #shutdownInput()}. recvfrom rather than read: it is the call every
     * engine treats as a socket call (a direct try with MSG_DONTWAIT under ADAPTIVE on the
     * page engines; on io_uring one submission that waits, where read's RWF_NOWAIT probe
     * went round the ring twice whenever no data had arrived yet).
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        readLock.lock();
        try {
            ensureOpenAndConnected();
            if (dst.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
            if (inputClosed) return -1;
            int n = ChannelIo.read(runner, dst, (f, b) -> sys.recvfrom(f, b, 0, null));
            return n <= 0 && inputClosed ? -1 : n;
        } finally {
            readLock.unlock();
        }
    }

    /** readv(2). */
    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        readLock.lock();
        try {
            ensureOpenAndConnected();
            if (inputClosed) return -1;
            long n = ChannelIo.read(runner, dsts, offset, length, sys::readv);
            return n <= 0 && inputClosed ? -1 : n;
        } finally {
            readLock.unlock();
        }
    }

    /** sendto(2) with MSG_NOSIGNAL; a blocking socket sends every byte unless interrupted. */
    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        return (int) writing(() -> ChannelIo.write(runner, src, (f, b) -> sys.sendto(f, b, MSG_NOSIGNAL, null)));
    }

    /** sendmsg(2) with MSG_NOSIGNAL over the buffers' remaining bytes. */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        return writing(() -> ChannelIo.write(runner, srcs, offset, length, this::sendmsg));
    }

    /** Runs a write under the write lock, on a connected channel whose output is open. */
    private long writing(ChannelIo.Op op) throws IOException {
        writeLock.lock();
        try {
            ensureOpenAndConnected();
            if (outputClosed) throw new ClosedChannelException();
            try {
                return op.run();
            } catch (ErrnoException e) {
                if (outputClosed) throw new AsynchronousCloseException(); // shutdownOutput() under the write
                throw e;
            }
        } finally {
            writeLock.unlock();
        }
    }

    private long sendmsg(int f, MemorySegment[] bufs) throws IOException {
        return sys.sendmsg(f, MSG_NOSIGNAL, bufs); // a gather send: each buffer under the buffer rules
    }

    // ---- options ----

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        ensureOpen();
        SockOpts.set(fd, SockOpts.STREAM, name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        ensureOpen();
        return SockOpts.get(fd, SockOpts.STREAM, name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return SockOpts.STREAM;
    }

    // ---- lifecycle ----

    /**
     * Shuts the socket down if another thread is inside an operation (its blocked call
     * returns, and end() turns that into AsynchronousCloseException), then closes the fd
     * once the last operation has left it.
     */
    @Override
    protected void implCloseSelectableChannel() throws IOException {
        fd.closeSocket();
    }

    /** Only blocking mode is supported. */
    @Override
    protected void implConfigureBlocking(boolean block) {
        requireBlocking(block);
    }

    /** implConfigureBlocking of both socket channels: non-blocking mode is not supported. */
    static void requireBlocking(boolean block) {
        if (!block) {
            throw new UnsupportedOperationException("FlexSC socket channels support blocking mode only");
        }
    }

    @Override
    public String toString() {
        return "FlexscSocketChannel[fd=" + fd.fd() + (connected ? ", remote=" + remoteAddress : "")
                + (isOpen() ? "" : ", closed") + "]";
    }
}
