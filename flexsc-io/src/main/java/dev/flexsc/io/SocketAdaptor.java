package dev.flexsc.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Set;

/**
 * The {@link Socket} view of a {@link FlexscSocketChannel}, as the JDK's socket adaptor: every
 * method works through the channel (its streams need blocking mode), the channel's exceptions
 * become the {@code java.net} ones a {@code Socket} throws ("Socket is closed", "Socket is not
 * connected"), {@link #setSoTimeout} bounds the input stream's reads and {@link #connect(SocketAddress, int)}.
 * Not supported: urgent data, SO_OOBINLINE.
 */
final class SocketAdaptor extends Socket {
    private final FlexscSocketChannel sc;
    private volatile int timeout;

    private SocketAdaptor(FlexscSocketChannel sc) throws SocketException {
        super(NoSocketImpl.create());
        this.sc = sc;
    }

    static Socket of(FlexscSocketChannel sc) {
        try {
            return new SocketAdaptor(sc);
        } catch (SocketException e) {
            throw new InternalError("java.net.Socket refused a SocketImpl", e);
        }
    }

    /** A channel exception as a Socket's, the way the JDK's adaptors translate them. */
    static SocketException translate(Exception e) throws IOException {
        String msg;
        if (e instanceof ClosedChannelException) {
            msg = "Socket is closed";
        } else if (e instanceof NotYetConnectedException) {
            msg = "Socket is not connected";
        } else if (e instanceof AlreadyBoundException) {
            msg = "Already bound";
        } else if (e instanceof NotYetBoundException) {
            msg = "Socket is not bound yet";
        } else if (e instanceof AlreadyConnectedException) {
            msg = "Already connected";
        } else if (e instanceof ConnectionPendingException) {
            msg = "Connection pending";
        } else if (e instanceof UnsupportedAddressTypeException) {
            msg = "Unsupported address type";
        } else if (e instanceof UnresolvedAddressException) {
            UnknownHostException u = new UnknownHostException();
            u.initCause(e);
            throw u;
        } else if (e instanceof SocketException se) {
            return se;
        } else if (e instanceof IOException io) {
            throw io;
        } else if (e instanceof RuntimeException re) {
            throw re;
        } else {
            throw new InternalError(e);
        }
        SocketException se = new SocketException(msg);
        se.initCause(e);
        return se;
    }

    @Override
    public SocketChannel getChannel() {
        return sc;
    }

    @Override
    public void connect(SocketAddress remote) throws IOException {
        connect(remote, 0);
    }

    @Override
    public void connect(SocketAddress remote, int timeout) throws IOException {
        if (remote == null) throw new IllegalArgumentException("connect: The address can't be null");
        if (timeout < 0) throw new IllegalArgumentException("connect: timeout can't be negative");
        try {
            sc.blockingConnect(remote, timeout);
        } catch (Exception e) {
            throw translate(e);
        }
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        try {
            sc.bind(local);
        } catch (Exception e) {
            throw translate(e);
        }
    }

    @Override
    public InetAddress getInetAddress() {
        InetSocketAddress r = sc.remoteAddressOrNull();
        return r == null ? null : r.getAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        InetSocketAddress l = sc.isOpen() ? sc.localAddressOrNull() : null;
        return l != null ? l.getAddress() : new InetSocketAddress(0).getAddress();
    }

    @Override
    public int getPort() {
        InetSocketAddress r = sc.remoteAddressOrNull();
        return r == null ? 0 : r.getPort();
    }

    @Override
    public int getLocalPort() {
        InetSocketAddress l = sc.localAddressOrNull();
        return l == null ? -1 : l.getPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return sc.remoteAddressOrNull();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return sc.localAddressOrNull();
    }

    @Override
    public InputStream getInputStream() throws IOException {
        if (isClosed()) throw new SocketException("Socket is closed");
        if (!isConnected()) throw new SocketException("Socket is not connected");
        if (isInputShutdown()) throw new SocketException("Socket input is shutdown");
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] a = new byte[1];
                int n = read(a, 0, 1);
                return n > 0 ? a[0] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return sc.blockingRead(b, off, len, timeout);
            }

            @Override
            public int available() throws IOException {
                return sc.available();
            }

            @Override
            public void close() throws IOException {
                sc.close();
            }
        };
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        if (isClosed()) throw new SocketException("Socket is closed");
        if (!isConnected()) throw new SocketException("Socket is not connected");
        if (isOutputShutdown()) throw new SocketException("Socket output is shutdown");
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                sc.blockingWriteFully(b, off, len);
            }

            @Override
            public void close() throws IOException {
                sc.close();
            }
        };
    }

    private void setBooleanOption(SocketOption<Boolean> name, boolean value) throws SocketException {
        try {
            sc.setOption(name, value);
        } catch (IOException e) {
            throw translateQuietly(e);
        }
    }

    private void setIntOption(SocketOption<Integer> name, int value) throws SocketException {
        try {
            sc.setOption(name, value);
        } catch (IOException e) {
            throw translateQuietly(e);
        }
    }

    private <T> T option(SocketOption<T> name) throws SocketException {
        try {
            return sc.getOption(name);
        } catch (IOException e) {
            throw translateQuietly(e);
        }
    }

    /** translate() for methods that throw only SocketException. */
    private static SocketException translateQuietly(IOException e) {
        try {
            return translate(e);
        } catch (IOException other) {
            SocketException se = new SocketException(other.getMessage());
            se.initCause(other);
            return se;
        }
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        setBooleanOption(StandardSocketOptions.TCP_NODELAY, on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return option(StandardSocketOptions.TCP_NODELAY);
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        if (!on) {
            linger = -1;
        } else if (linger < 0) {
            throw new IllegalArgumentException("Invalid value for SO_LINGER");
        }
        setIntOption(StandardSocketOptions.SO_LINGER, linger);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return option(StandardSocketOptions.SO_LINGER);
    }

    @Override
    public void sendUrgentData(int data) throws IOException {
        throw new SocketException("Urgent data not supported");
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        if (on) throw new SocketException("SO_OOBINLINE is not supported by FlexSC socket channels");
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        if (isClosed()) throw new SocketException("Socket is closed");
        return false;
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (isClosed()) throw new SocketException("Socket is closed");
        if (timeout < 0) throw new IllegalArgumentException("timeout can't be negative");
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() throws SocketException {
        if (isClosed()) throw new SocketException("Socket is closed");
        return timeout;
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        if (size <= 0) throw new IllegalArgumentException("Invalid send size");
        setIntOption(StandardSocketOptions.SO_SNDBUF, size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return option(StandardSocketOptions.SO_SNDBUF);
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) throw new IllegalArgumentException("Invalid receive size");
        setIntOption(StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return option(StandardSocketOptions.SO_RCVBUF);
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        setBooleanOption(StandardSocketOptions.SO_KEEPALIVE, on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return option(StandardSocketOptions.SO_KEEPALIVE);
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        if (tc < 0 || tc > 255) throw new IllegalArgumentException("tc is not in range 0 -- 255");
        setIntOption(StandardSocketOptions.IP_TOS, tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return option(StandardSocketOptions.IP_TOS);
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        setBooleanOption(StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return option(StandardSocketOptions.SO_REUSEADDR);
    }

    @Override
    public void close() throws IOException {
        sc.close();
    }

    @Override
    public void shutdownInput() throws IOException {
        try {
            sc.shutdownInput();
        } catch (Exception e) {
            throw translate(e);
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        try {
            sc.shutdownOutput();
        } catch (Exception e) {
            throw translate(e);
        }
    }

    @Override
    public boolean isConnected() {
        return sc.remoteAddressOrNull() != null;
    }

    @Override
    public boolean isBound() {
        return sc.isBound();
    }

    @Override
    public boolean isClosed() {
        return !sc.isOpen();
    }

    @Override
    public boolean isInputShutdown() {
        return sc.isInputShutdown();
    }

    @Override
    public boolean isOutputShutdown() {
        return sc.isOutputShutdown();
    }

    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        // as the JDK's adaptor: no effect
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        sc.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return sc.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return sc.supportedOptions();
    }

    @Override
    public String toString() {
        InetSocketAddress r = sc.remoteAddressOrNull();
        if (r != null) {
            return "Socket[addr=" + r.getAddress() + ",port=" + r.getPort() + ",localport=" + getLocalPort() + "]";
        }
        return "Socket[unconnected]";
    }
}
