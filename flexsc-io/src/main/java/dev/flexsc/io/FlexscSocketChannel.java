package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.MsgFlags.MSG_DONTWAIT;
import static dev.flexsc.MsgFlags.MSG_NOSIGNAL;
import static dev.flexsc.MsgFlags.MSG_PEEK;
import static dev.flexsc.PollFlags.POLLIN;
import static dev.flexsc.PollFlags.POLLOUT;
import static dev.flexsc.SocketConstants.*;
import static dev.flexsc.io.NetFd.*;

/**
 * A TCP {@link SocketChannel} whose operations are FlexSC system calls, in blocking and
 * non-blocking mode, selectable by a FlexSC selector: the socket channel of
 * {@link FlexscSelectorProvider}, so what {@code SocketChannel.open()} returns when that
 * provider is the JVM's.
 *
 * <table>
 * <caption>Operations and the calls they make</caption>
 * <tr><th>operation</th><th>system calls</th></tr>
 * <tr><td>{@link #open()}</td><td>socket(SOCK_NONBLOCK) (and setsockopt IPV6_V6ONLY=0 for a dual-stack IPv6 socket)</td></tr>
 * <tr><td>bind; connect; finishConnect</td><td>bind, getsockname; connect (EINPROGRESS, then readiness and
 *     getsockopt(SO_ERROR)); poll(POLLOUT, timeout 0) and getsockopt(SO_ERROR)</td></tr>
 * <tr><td>read; scatter read</td><td>recvfrom; recvmsg (MSG_DONTWAIT)</td></tr>
 * <tr><td>write; gather write</td><td>sendto; sendmsg (MSG_DONTWAIT | MSG_NOSIGNAL: a closed peer gives EPIPE, not SIGPIPE)</td></tr>
 * <tr><td>shutdownInput / shutdownOutput</td><td>shutdown(SHUT_RD / SHUT_WR)</td></tr>
 * <tr><td>options</td><td>setsockopt / getsockopt</td></tr>
 * <tr><td>getLocalAddress</td><td>getsockname, once, cached</td></tr>
 * <tr><td>close</td><td>shutdown(SHUT_RDWR) if an operation or a selector holds the descriptor, then
 *     close once none does</td></tr>
 * </table>
 *
 * <p><b>Blocking mode.</b> The descriptor is O_NONBLOCK underneath in both modes, as the JDK's
 * channel is for virtual threads: an operation in blocking mode makes its call, and when the
 * call would block it waits for the descriptor's readiness through the engine (a FlexSC green
 * thread parks and its carrier runs others; a platform thread waits as the engine's call
 * policy says) and calls again. A blocking write writes every byte, as on a blocking socket.
 *
 * <p><b>Close and interrupt</b> as {@link java.nio.channels.InterruptibleChannel}: a thread
 * blocked in read, write, connect or finishConnect when the channel is closed throws
 * {@link AsynchronousCloseException} (close cancels its readiness wait and shuts the socket
 * down); interrupting it closes the channel and throws
 * {@link java.nio.channels.ClosedByInterruptException}. Non-blocking operations are not
 * interruptible, as in the JDK.
 *
 * <p><b>Not supported:</b> UNIX-domain sockets (the provider leaves those to the JDK), the
 * options {@link SockOpts} lists. Thread-safe: one read and one write may proceed at once, as
 * with the JDK's channel.
 */
public final class FlexscSocketChannel extends SocketChannel implements SelectableFd {
    private static final int ST_UNCONNECTED = 0, ST_CONNECTIONPENDING = 1, ST_CONNECTED = 2, ST_CLOSING = 3, ST_CLOSED = 4;

    private final NetFd net;
    private final int family;
    private final ReentrantLock readLock = new ReentrantLock(), writeLock = new ReentrantLock();
    /** Guards the state and the addresses. */
    private final Object stateLock = new Object();
    private volatile int state;
    private volatile boolean isInputClosed, isOutputClosed;
    /** Guarded by readLock: a read saw ECONNRESET, and every later read throws again, as the JDK. */
    private boolean connectionReset;
    /** Guarded by stateLock; the local address is learnt lazily for an accepted or connected socket. */
    private InetSocketAddress localAddress, remoteAddress;
    private boolean bound;
    /** Guarded by stateLock: the socket was connected at some point (the adaptor reports its peer after close). */
    private boolean connectedOnce;
    /** The java.net.Socket view; guarded by stateLock. */
    private Socket socket;
    /*
     * The four transfer calls, made once per channel rather than as a lambda per operation
     * (each captures the descriptor): the hot paths allocate nothing for them.
     */
    private final RawIo.Call recvfrom, sendto;
    private final RawIo.MsgCall recvmsg, sendmsg;
    /**
     * sendfile(2)'s offset argument, made on the first sendfile: guarded by the write lock, and
     * the call has returned (the kernel is done with it) before the lock is let go. An automatic
     * arena's: it lives as long as the channel.
     */
    private MemorySegment sendfileOffset;
    /** The direct buffers reads and writes used last: guarded by the read and the write lock. */
    private final RawIo.LastBuffer lastRead = new RawIo.LastBuffer(), lastWritten = new RawIo.LastBuffer();

    private FlexscSocketChannel(FlexscSelectorProvider provider, int fd, int family) {
        super(provider);
        NetFd net = new NetFd(provider.syscalls(), fd, provider.counters);
        this.net = net;
        this.recvfrom = (addr, len) -> net.call(SyscallTable.RECVFROM, addr, len, MSG_DONTWAIT, 0, 0);
        this.recvmsg = (msg, iov, count) -> net.call(SyscallTable.RECVMSG, msg, MSG_DONTWAIT, 0, 0, 0);
        this.sendto = (addr, len) -> net.call(SyscallTable.SENDTO, addr, len, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
        this.sendmsg = (msg, iov, count) -> net.call(SyscallTable.SENDMSG, msg, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0, 0);
        this.family = family;
        provider.counters.channels.increment();
    }

    // ---- opening ----

    /** An unconnected socket of the default provider ({@link FlexscSelectorProvider#ofDefault()}): IPv6 dual stack where available, as the JDK. */
    public static FlexscSocketChannel open() throws IOException {
        return open(FlexscSelectorProvider.ofDefault(), Sockaddr.DEFAULT_FAMILY);
    }

    /** An unconnected socket with the calls of {@code engine}. */
    public static FlexscSocketChannel open(FlexscEngine engine) throws IOException {
        return open(engine.syscalls());
    }

    /** An unconnected socket with the calls of {@code syscalls} ({@link FlexscSelectorProvider#of}). */
    public static FlexscSocketChannel open(Syscalls syscalls) throws IOException {
        return open(FlexscSelectorProvider.of(syscalls), Sockaddr.DEFAULT_FAMILY);
    }

    /** An unconnected socket of {@code family} (INET or INET6) with the calls of {@code syscalls}. */
    public static FlexscSocketChannel open(Syscalls syscalls, StandardProtocolFamily family) throws IOException {
        return open(FlexscSelectorProvider.of(syscalls), Sockaddr.family(Objects.requireNonNull(family, "family")));
    }

    /** A socket connected to {@code remote} (in blocking mode), of the default provider. */
    public static FlexscSocketChannel open(SocketAddress remote) throws IOException {
        return connected(FlexscSelectorProvider.ofDefault(), remote);
    }

    /** A socket connected to {@code remote} (in blocking mode), with the calls of {@code syscalls}. */
    public static FlexscSocketChannel open(Syscalls syscalls, SocketAddress remote) throws IOException {
        return connected(FlexscSelectorProvider.of(syscalls), remote);
    }

    private static FlexscSocketChannel connected(FlexscSelectorProvider p, SocketAddress remote) throws IOException {
        InetSocketAddress isa = Sockaddr.check(remote);
        FlexscSocketChannel ch = open(p, isa.getAddress() instanceof java.net.Inet6Address ? AF_INET6 : Sockaddr.DEFAULT_FAMILY);
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

    /** The provider's channel: an unconnected socket of {@code family}. */
    static FlexscSocketChannel open(FlexscSelectorProvider p, int family) throws IOException {
        return new FlexscSocketChannel(p, newSocket(p.syscalls(), family, false), family);
    }

    /**
     * socket(2) for a stream channel or a listener of {@code family}, O_NONBLOCK and
     * close-on-exec: an IPv6 socket is made dual stack (IPV6_V6ONLY=0), as the JDK;
     * {@code reuseAddress} sets SO_REUSEADDR=1, as the JDK does for a listener. The fd is
     * closed again if a setsockopt fails.
     */
    static int newSocket(Syscalls sys, int family, boolean reuseAddress) throws IOException {
        Objects.requireNonNull(sys, "syscalls");
        int fd = sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        try {
            if (family == AF_INET6) sys.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
            if (reuseAddress) sys.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        } catch (IOException e) {
            sys.close(fd);
            throw e;
        }
        return fd;
    }

    /** A socket returned by accept4 on a {@link FlexscServerSocketChannel}: connected, in blocking mode. */
    static FlexscSocketChannel accepted(FlexscSelectorProvider p, int fd, int family, InetSocketAddress local,
                                        InetSocketAddress remote) {
        FlexscSocketChannel ch = new FlexscSocketChannel(p, fd, family);
        ch.bound = true;
        ch.localAddress = local;
        ch.remoteAddress = remote;
        ch.connectedOnce = true;
        ch.state = ST_CONNECTED;
        return ch;
    }

    @Override
    public ChannelFd channelFd() {
        return net.fd;
    }

    NetFd netFd() {
        return net;
    }

    /** The lock every write holds (FlexscFileChannel.transferTo holds it around sendfile). */
    ReentrantLock writeLock() {
        return writeLock;
    }

    boolean isOutputShutdown() {
        return isOutputClosed;
    }

    boolean isInputShutdown() {
        return isInputClosed;
    }

    /** The calls this channel makes. */
    public Syscalls syscalls() {
        return net.sys;
    }

    // ---- state ----

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) throw new ClosedChannelException();
    }

    private void ensureOpenAndConnected() throws ClosedChannelException {
        int s = state;
        if (s < ST_CONNECTED) throw new NotYetConnectedException();
        if (s > ST_CONNECTED) throw new ClosedChannelException();
    }

    @Override
    public boolean isConnected() {
        return state == ST_CONNECTED;
    }

    @Override
    public boolean isConnectionPending() {
        return state == ST_CONNECTIONPENDING;
    }

    /** begin() for a blocking operation (an interrupt then closes the channel), and the open check. */
    private void beginBlocking(boolean blocking) throws ClosedChannelException {
        if (blocking) begin();
        synchronized (stateLock) {
            ensureOpen();
        }
    }

    /** end() for a blocking operation: AsynchronousCloseException or ClosedByInterruptException where due. */
    private void endBlocking(boolean blocking, boolean completed) throws AsynchronousCloseException {
        if (blocking) end(completed);
    }

    /**
     * end() for a write that returned status {@code n}; {@link AsynchronousCloseException}
     * also where the output was shut down under a write that wrote nothing.
     */
    private void endWrite(boolean blocking, long n) throws AsynchronousCloseException {
        endBlocking(blocking, n > 0);
        if (n <= 0 && isOutputClosed) throw new AsynchronousCloseException();
    }

    /**
     * Takes the read lock, then the write lock: no read or write runs while the caller holds
     * both (bind, connect, a change of blocking mode), as in the JDK's channel.
     */
    private void lockBoth() {
        readLock.lock();
        try {
            writeLock.lock();
        } catch (Throwable t) {
            readLock.unlock();
            throw t;
        }
    }

    /** Lets go of what {@link #lockBoth()} took. */
    private void unlockBoth() {
        writeLock.unlock();
        readLock.unlock();
    }

    // ---- binding and connecting ----

    @Override
    public SocketChannel bind(SocketAddress local) throws IOException {
        lockBoth();
        try {
            synchronized (stateLock) {
                ensureOpen();
                if (state == ST_CONNECTIONPENDING) throw new ConnectionPendingException();
                if (bound) throw new AlreadyBoundException();
                net.bind(family, local == null ? Sockaddr.anyLocal(family) : Sockaddr.check(local, family));
                bound = true;
                localAddress = SockOpts.call(net, f -> Sockaddr.localAddress(net.sys, f));
            }
        } finally {
            unlockBoth();
        }
        return this;
    }

    /**
     * connect(2). In blocking mode waits until the connection is made (true); in non-blocking
     * mode returns true if it was made at once, false if it is pending
     * ({@link #finishConnect()}). As the JDK, a failed connect closes the channel.
     *
     * @throws java.net.ConnectException connection refused or timed out
     */
    @Override
    public boolean connect(SocketAddress remote) throws IOException {
        return connect(remote, 0);
    }

    /**
     * The socket adaptor's connect: blocking mode only, waiting at most {@code timeoutMs}
     * (0: without bound); a connect that times out closes the channel.
     *
     * @throws IllegalBlockingModeException in non-blocking mode
     * @throws SocketTimeoutException if the connection was not made in time
     */
    void blockingConnect(SocketAddress remote, int timeoutMs) throws IOException {
        if (!isBlocking()) throw new IllegalBlockingModeException();
        connect(remote, timeoutMs);
    }

    /** connect; in blocking mode waits at most {@code timeoutMs} (0: without bound). */
    private boolean connect(SocketAddress remote, int timeoutMs) throws IOException {
        InetSocketAddress isa = Sockaddr.connectTarget(remote, family);
        return connectLocked(() -> {
            boolean blocking = isBlocking();
            boolean connected = false;
            try {
                beginConnect(blocking, isa);
                long n;
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment sa = Sockaddr.encode(a, family, isa);
                    n = net.call(SyscallTable.CONNECT, sa.address(), sa.byteSize(), 0, 0, 0);
                }
                if (n == 0) {
                    connected = true;
                } else if (isError(n) && errno(n) != Errno.EINPROGRESS && errno(n) != Errno.EINTR) {
                    throw NetErrors.of("connect(" + isa + ")", errno(n));
                } else if (blocking && n != CLOSED) {
                    connected = awaitConnection(timeoutMs);
                }
            } finally {
                endConnect(blocking, connected);
            }
            return connected;
        });
    }

    /** A connect step: runs holding both locks. */
    @FunctionalInterface
    private interface ConnectStep {
        boolean run() throws IOException;
    }

    /**
     * Runs {@code step} holding the read and the write lock, as connect and finishConnect do
     * (no read or write may run while the connection is made); an IOException closes the
     * channel, as the JDK's connect does when it fails.
     */
    private boolean connectLocked(ConnectStep step) throws IOException {
        try {
            lockBoth();
            try {
                return step.run();
            } finally {
                unlockBoth();
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private void beginConnect(boolean blocking, InetSocketAddress isa) throws ClosedChannelException {
        if (blocking) begin();
        synchronized (stateLock) {
            ensureOpen();
            int s = state;
            if (s == ST_CONNECTED) throw new AlreadyConnectedException();
            if (s == ST_CONNECTIONPENDING) throw new ConnectionPendingException();
            state = ST_CONNECTIONPENDING;
            remoteAddress = isa;
        }
    }

    private void endConnect(boolean blocking, boolean completed) throws AsynchronousCloseException {
        endBlocking(blocking, completed);
        if (completed) {
            synchronized (stateLock) {
                if (state == ST_CONNECTIONPENDING) {
                    bound = true;
                    localAddress = null; // learnt on first use (getsockname)
                    connectedOnce = true;
                    state = ST_CONNECTED;
                }
            }
        }
    }

    /**
     * Blocking mode: waits until the pending connection is made, at most {@code timeoutMs}
     * (0: without bound). True if it was made and the channel is still open.
     *
     * @throws SocketTimeoutException if the time ran out first
     * @throws java.net.ConnectException (or another exception of the errno) if it failed
     */
    private boolean awaitConnection(int timeoutMs) throws IOException {
        long deadline = timeoutMs > 0 ? System.nanoTime() + timeoutMs * 1_000_000L : 0;
        boolean polled = false;
        while (!polled && isOpen()) {
            net.await(POLLOUT, waitMillis(timeoutMs, deadline, "Connect timed out"));
            polled = pollConnectNow();
        }
        return polled && isOpen();
    }

    /**
     * True if the pending connection is made: poll(POLLOUT, timeout 0), then SO_ERROR.
     *
     * @throws java.net.ConnectException (or another exception of the errno) if it failed
     */
    private boolean pollConnectNow() throws IOException {
        long ready = net.await(POLLOUT, 0);
        if (ready <= 0) return false;
        int err;
        try {
            err = SockOpts.call(net, f -> net.sys.getsockoptInt(f, SOL_SOCKET, SO_ERROR));
        } catch (ClosedChannelException e) {
            return false;
        }
        if (err != 0) throw NetErrors.of("connect(" + remoteAddress + ")", err);
        return true;
    }

    @Override
    public boolean finishConnect() throws IOException {
        return connectLocked(() -> {
            if (isConnected()) return true;
            boolean blocking = isBlocking();
            boolean connected = false;
            try {
                if (blocking) begin();
                synchronized (stateLock) {
                    ensureOpen();
                    if (state != ST_CONNECTIONPENDING) throw new NoConnectionPendingException();
                }
                connected = pollConnectNow() ? isOpen() : blocking && awaitConnection(0);
            } finally {
                endConnect(blocking, connected);
            }
            return connected;
        });
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return remoteAddress;
        }
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (localAddress == null && (bound || state == ST_CONNECTED)) {
                localAddress = SockOpts.call(net, f -> Sockaddr.localAddress(net.sys, f));
            }
            return localAddress;
        }
    }

    /** Addresses for the socket adaptor: null where unknown or closed. */
    InetSocketAddress localAddressOrNull() {
        try {
            return (InetSocketAddress) getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    InetSocketAddress remoteAddressOrNull() {
        synchronized (stateLock) {
            return connectedOnce ? remoteAddress : null;
        }
    }

    boolean isBound() {
        synchronized (stateLock) {
            return bound;
        }
    }

    // ---- shutdown ----

    /** shutdown(2); ENOTCONN (the peer has gone already) is not an error, as in the JDK. */
    private void shutdown(int how) throws IOException {
        long r = net.call(SyscallTable.SHUTDOWN, how, 0, 0, 0, 0);
        if (r == CLOSED) throw new ClosedChannelException();
        if (isError(r) && errno(r) != Errno.ENOTCONN) throw NetErrors.of("shutdown(fd=" + net.fdVal() + ")", errno(r));
    }

    @Override
    public SocketChannel shutdownInput() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (!isConnected()) throw new NotYetConnectedException();
            if (!isInputClosed) {
                shutdown(SHUT_RD); // a read waiting for data sees the end: the descriptor becomes readable
                isInputClosed = true;
            }
            return this;
        }
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (!isConnected()) throw new NotYetConnectedException();
            if (!isOutputClosed) {
                shutdown(SHUT_WR); // a write waiting for room wakes: the descriptor becomes writable
                isOutputClosed = true;
            }
            return this;
        }
    }

    // ---- reading ----

    /** recvfrom(2) with MSG_DONTWAIT; -1 at end of stream or after {@link #shutdownInput()}. */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst);
        return (int) readLoop(dst, null, 0, 0, false, 0);
    }

    /** recvmsg(2) with MSG_DONTWAIT into the buffers in order. */
    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        return readLoop(null, dsts, offset, length, false, 0);
    }

    /**
     * A read: into {@code dst} (recvfrom), or where {@code dst} is null into the buffers of
     * {@code dsts[offset, offset+length)} in order (recvmsg). One attempt in non-blocking
     * mode; in blocking mode attempts and readiness waits until data comes, the stream ends
     * or the channel closes. {@code adaptor}: the socket adaptor's read, which needs blocking
     * mode and waits at most {@code timeoutMs} (0: without bound). The call and its buffers
     * are arguments, not a lambda, so that a read allocates nothing of its own here.
     *
     * @return the bytes read; -1 at the end of the stream or after {@link #shutdownInput()};
     *         0 if none could be read without waiting (non-blocking) or the channel closed
     * @throws IllegalBlockingModeException an adaptor read in non-blocking mode
     * @throws SocketTimeoutException an adaptor read that got no data in time
     */
    private long readLoop(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length, boolean adaptor, int timeoutMs)
            throws IOException {
        String call = dst != null ? "recvfrom" : "recvmsg";
        readLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            if (adaptor && !blocking) throw new IllegalBlockingModeException();
            long n = 0;
            try {
                beginBlocking(blocking);
                if (connectionReset) throw NetErrors.connectionReset(call + "(fd=" + net.fdVal() + ")");
                if (isInputClosed) return -1;
                ByteBuffer[] bufs = null;
                if (dst != null) {
                    if (dst.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
                    if (!dst.hasRemaining()) return 0;
                } else {
                    bufs = RawIo.withRemaining(dsts, offset, length, true);
                    if (bufs.length == 0) return 0;
                }
                long deadline = timeoutMs > 0 ? System.nanoTime() + timeoutMs * 1_000_000L : 0;
                n = dst != null ? RawIo.read(dst, recvfrom, lastRead) : RawIo.read(bufs, recvmsg);
                while (blocking && (n == UNAVAILABLE || n == INTERRUPTED) && isOpen()) {
                    net.await(POLLIN, waitMillis(timeoutMs, deadline, "Read timed out"));
                    n = dst != null ? RawIo.read(dst, recvfrom, lastRead) : RawIo.read(bufs, recvmsg);
                }
                n = checkRead(n, call);
            } finally {
                endBlocking(blocking, n > 0);
                if (n <= 0 && isInputClosed) return -1;
            }
            return n == EOF ? -1 : Math.max(0, n);
        } finally {
            readLock.unlock();
        }
    }

    /**
     * A readiness wait's timeout in milliseconds until {@code deadline} ({@link System#nanoTime()}),
     * rounded up; -1 (no bound) where {@code timeoutMs} is 0.
     *
     * @throws SocketTimeoutException with {@code message} once the deadline has passed
     */
    private static int waitMillis(int timeoutMs, long deadline, String message) throws SocketTimeoutException {
        if (timeoutMs <= 0) return -1;
        long left = deadline - System.nanoTime();
        if (left <= 0) throw new SocketTimeoutException(message);
        return (int) Math.max(1, (left + 999_999) / 1_000_000);
    }

    /** A read's status: 0 from the kernel is the end of the stream; errors of {@code call} thrown (ECONNRESET sticky). */
    private long checkRead(long n, String call) throws IOException {
        if (n == 0) return EOF;
        if (isError(n)) {
            if (errno(n) == Errno.ECONNRESET) {
                connectionReset = true;
                throw NetErrors.connectionReset(call + "(fd=" + net.fdVal() + ")");
            }
            throw NetErrors.of(call + "(fd=" + net.fdVal() + ")", errno(n));
        }
        return n;
    }

    // ---- writing ----

    /** sendto(2) with MSG_DONTWAIT | MSG_NOSIGNAL; in blocking mode until every byte is written. */
    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src);
        return (int) writeLoop(src, null, 0, 0, null, 0, 0);
    }

    /** sendmsg(2) with MSG_DONTWAIT | MSG_NOSIGNAL; in blocking mode until every byte is written. */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        return writeLoop(null, srcs, offset, length, null, 0, 0);
    }

    /**
     * sendfile(2) of {@code count} bytes of {@code in} from {@code position} into this socket,
     * for {@link FlexscFileChannel#transferTo}: in blocking mode until all are sent (readiness
     * waits when the socket is full), in non-blocking mode what the socket takes now (maybe 0).
     * Returns -1 if the kernel cannot sendfile between these two (nothing was sent).
     */
    long sendfileFrom(ChannelFd in, long position, long count) throws IOException {
        return writeLoop(null, null, 0, 0, Objects.requireNonNull(in), position, count);
    }

    /**
     * A write: of {@code src} (sendto), or where it is null of the buffers of
     * {@code srcs[offset, offset+length)} in order (sendmsg), or where both are null of
     * {@code count} bytes of {@code file} from {@code position} (sendfile). One attempt in
     * non-blocking mode; in blocking mode attempts and readiness waits until nothing remains
     * (a blocking socket's write), the channel closes or the output is shut down. An error
     * after some bytes were written returns their count (the next write reports it), as a
     * blocking send(2) does. The source is arguments, not a lambda, so that a write allocates
     * nothing of its own here.
     *
     * @return the bytes written (0: none could be, non-blocking, or the channel closed);
     *         for sendfile -1 if the kernel cannot sendfile from that file (nothing was sent)
     */
    private long writeLoop(ByteBuffer src, ByteBuffer[] srcs, int offset, int length, ChannelFd file, long position,
                           long count) throws IOException {
        writeLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            long n = 0;
            try {
                beginWrite(blocking);
                ByteBuffer[] bufs = null;
                if (srcs != null) {
                    bufs = RawIo.withRemaining(srcs, offset, length, false);
                    if (bufs.length == 0) return 0;
                }
                if (file != null && !file.acquire()) throw new ClosedChannelException();
                try {
                    n = sendAll(src, bufs, file, position, count, blocking);
                } finally {
                    if (file != null) file.release();
                }
            } finally {
                endWrite(blocking, n);
            }
            return n == SENDFILE_UNSUPPORTED ? n : Math.max(0, n);
        } finally {
            writeLock.unlock();
        }
    }

    /** {@link #sendAll}'s answer where sendfile(2) refused the pair of descriptors at once. */
    private static final long SENDFILE_UNSUPPORTED = -1;

    /** The attempts and readiness waits of {@link #writeLoop}; returns its count or a status &lt;= 0. */
    private long sendAll(ByteBuffer src, ByteBuffer[] bufs, ChannelFd file, long position, long count, boolean blocking)
            throws IOException {
        long total = 0;
        while (true) {
            long n = src != null ? RawIo.write(src, sendto, lastWritten)
                    : bufs != null ? RawIo.write(RawIo.withRemaining(bufs, 0, bufs.length, false), sendmsg)
                    : sendfile(file, position + total, count - total);
            if (n > 0) {
                total += n;
                boolean more = src != null ? src.hasRemaining() : bufs != null ? hasRemaining(bufs) : total < count;
                if (!blocking || !more) return total;
                continue;
            }
            if ((n == UNAVAILABLE || n == INTERRUPTED) && blocking && isOpen() && !isOutputClosed) {
                net.await(POLLOUT, -1);
                continue;
            }
            if (total > 0) return total;
            if (!isError(n)) return n == UNAVAILABLE || n == INTERRUPTED ? 0 : n;
            int err = errno(n);
            if (file != null && (err == Errno.EINVAL || err == Errno.ENOSYS || err == Errno.EOPNOTSUPP)) {
                return SENDFILE_UNSUPPORTED;
            }
            String call = src != null ? "sendto" : bufs != null ? "sendmsg" : "sendfile";
            throw NetErrors.of(call + "(fd=" + net.fdVal() + ")", err);
        }
    }

    /**
     * One sendfile(2) of {@code count} bytes of {@code file} from {@code position}: its first
     * argument is this socket (the channel's descriptor), its second the file. The offset
     * goes through {@link #sendfileOffset}, which only the write holding the write lock uses.
     */
    private long sendfile(ChannelFd file, long position, long count) throws IOException {
        MemorySegment off = sendfileOffset;
        if (off == null) sendfileOffset = off = Arena.ofAuto().allocate(8, 8);
        off.set(ValueLayout.JAVA_LONG, 0, position);
        return net.call(SyscallTable.SENDFILE, file.fd(), off.address(), count, 0, 0);
    }

    private static boolean hasRemaining(ByteBuffer[] bufs) {
        for (ByteBuffer b : bufs) if (b.hasRemaining()) return true;
        return false;
    }

    private void beginWrite(boolean blocking) throws ClosedChannelException {
        if (blocking) begin();
        synchronized (stateLock) {
            ensureOpen();
            if (isOutputClosed) throw new ClosedChannelException();
        }
    }

    // ---- the socket adaptor's blocking operations ----

    /**
     * A read for the socket adaptor's input stream: blocking mode only, waiting at most
     * {@code timeoutMs} (0: without bound) for data.
     *
     * @throws IllegalBlockingModeException in non-blocking mode
     * @throws SocketTimeoutException if no data came in time
     */
    int blockingRead(byte[] b, int off, int len, int timeoutMs) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return 0;
        return (int) readLoop(ByteBuffer.wrap(b, off, len), null, 0, 0, true, timeoutMs);
    }

    /** A write for the socket adaptor's output stream: blocking mode only, every byte. */
    void blockingWriteFully(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (!isBlocking()) throw new IllegalBlockingModeException();
        ByteBuffer bb = ByteBuffer.wrap(b, off, len);
        while (bb.hasRemaining()) {
            if (!isBlocking()) throw new IllegalBlockingModeException();
            write(bb);
        }
    }

    /**
     * An estimate of the bytes readable without blocking, for the adaptor's
     * {@code available()}: a peek of up to 8 KiB with MSG_DONTWAIT (FIONREAD's ioctl is not a
     * FlexSC call).
     */
    int available() throws IOException {
        readLock.lock();
        try {
            ensureOpenAndConnected();
            if (isInputClosed) return 0;
            ByteBuffer probe = ByteBuffer.allocateDirect(8 << 10);
            long n = RawIo.read(probe, (addr, l) -> net.call(SyscallTable.RECVFROM, addr, l, MSG_DONTWAIT | MSG_PEEK, 0, 0));
            if (n == CLOSED) throw new ClosedChannelException();
            return n > 0 ? (int) n : 0;
        } finally {
            readLock.unlock();
        }
    }

    // ---- options, adaptor ----

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        SockOpts.checkSet(SockOpts.STREAM, name, value);
        synchronized (stateLock) {
            ensureOpen();
            SockOpts.set(net, family, name, value);
            return this;
        }
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        SockOpts.checkGet(SockOpts.STREAM, name);
        synchronized (stateLock) {
            ensureOpen();
            return SockOpts.get(net, family, name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return SockOpts.STREAM;
    }

    /** A {@link Socket} view of this channel, as the JDK's adaptor (its streams need blocking mode). */
    @Override
    public Socket socket() {
        synchronized (stateLock) {
            if (socket == null) socket = SocketAdaptor.of(this);
            return socket;
        }
    }

    // ---- selection ----

    @Override
    public int translateInterestOps(int ops) {
        int ev = 0;
        if ((ops & SelectionKey.OP_READ) != 0) ev |= POLLIN;
        if ((ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) ev |= POLLOUT;
        return ev;
    }

    @Override
    public int translateReadyOps(int revents, int interestOps) {
        int ops = 0;
        if ((revents & POLLIN) != 0 && (interestOps & SelectionKey.OP_READ) != 0 && isConnected()) ops |= SelectionKey.OP_READ;
        if ((revents & POLLOUT) != 0 && (interestOps & SelectionKey.OP_CONNECT) != 0 && isConnectionPending()) {
            ops |= SelectionKey.OP_CONNECT;
        }
        if ((revents & POLLOUT) != 0 && (interestOps & SelectionKey.OP_WRITE) != 0 && isConnected()) ops |= SelectionKey.OP_WRITE;
        return ops;
    }

    // ---- close ----

    /**
     * Marks the channel closed, cancels its readiness waits and shuts the socket down if an
     * operation or a selector holds the descriptor (which wakes a call blocked in the
     * kernel); the descriptor is closed when the last of them lets go.
     */
    @Override
    protected void implCloseSelectableChannel() throws IOException {
        synchronized (stateLock) {
            state = ST_CLOSING;
        }
        try {
            net.close(true);
        } finally {
            synchronized (stateLock) {
                state = ST_CLOSED;
            }
        }
    }

    /** The descriptor is O_NONBLOCK in both modes; the locks make the change wait for operations in flight, as the JDK. */
    @Override
    protected void implConfigureBlocking(boolean block) throws IOException {
        lockBoth();
        try {
            synchronized (stateLock) {
                ensureOpen();
            }
        } finally {
            unlockBoth();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSuperclass().getName()).append('[');
        if (!isOpen()) {
            sb.append("closed");
        } else {
            synchronized (stateLock) {
                switch (state) {
                    case ST_UNCONNECTED -> sb.append("unconnected");
                    case ST_CONNECTIONPENDING -> sb.append("connection-pending");
                    case ST_CONNECTED -> {
                        sb.append("connected");
                        if (isInputClosed) sb.append(" ishut");
                        if (isOutputClosed) sb.append(" oshut");
                    }
                    default -> sb.append("closing");
                }
                if (localAddress != null) sb.append(" local=").append(localAddress);
                if (remoteAddress != null) sb.append(" remote=").append(remoteAddress);
            }
        }
        return sb.append(" fd=").append(net.fdVal()).append(']').toString();
    }
}
