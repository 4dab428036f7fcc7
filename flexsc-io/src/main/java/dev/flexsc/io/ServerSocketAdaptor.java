package dev.flexsc.io;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Set;

/**
 * The {@link ServerSocket} view of a {@link FlexscServerSocketChannel}, as the JDK's adaptor:
 * {@link #bind(SocketAddress, int)} (how the JDK's HttpServer binds), {@link #accept()} in
 * blocking mode bounded by {@link #setSoTimeout}, the options through the channel, the
 * channel's exceptions as a ServerSocket's.
 */
final class ServerSocketAdaptor extends ServerSocket {
    private final FlexscServerSocketChannel ssc;
    private volatile int timeout;

    private ServerSocketAdaptor(FlexscServerSocketChannel ssc) throws IOException {
        super(NoSocketImpl.create());
        this.ssc = ssc;
    }

    static ServerSocket of(FlexscServerSocketChannel ssc) {
        try {
            return new ServerSocketAdaptor(ssc);
        } catch (IOException e) {
            throw new InternalError("java.net.ServerSocket refused a SocketImpl", e);
        }
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        bind(local, 50);
    }

    @Override
    public void bind(SocketAddress local, int backlog) throws IOException {
        if (local == null) local = new InetSocketAddress(0);
        try {
            ssc.bind(local, backlog);
        } catch (Exception e) {
            throw SocketAdaptor.translate(e);
        }
    }

    @Override
    public InetAddress getInetAddress() {
        InetSocketAddress l = ssc.localAddressOrNull();
        return l == null ? null : l.getAddress();
    }

    @Override
    public int getLocalPort() {
        InetSocketAddress l = ssc.localAddressOrNull();
        return l == null ? -1 : l.getPort();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return ssc.localAddressOrNull();
    }

    @Override
    public Socket accept() throws IOException {
        try {
            return ssc.blockingAccept(timeout).socket();
        } catch (Exception e) {
            throw SocketAdaptor.translate(e);
        }
    }

    @Override
    public void close() throws IOException {
        ssc.close();
    }

    @Override
    public ServerSocketChannel getChannel() {
        return ssc;
    }

    @Override
    public boolean isBound() {
        return ssc.isBound();
    }

    @Override
    public boolean isClosed() {
        return !ssc.isOpen();
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (!ssc.isOpen()) throw new SocketException("Socket is closed");
        if (timeout < 0) throw new IllegalArgumentException("timeout < 0");
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() throws IOException {
        if (!ssc.isOpen()) throw new SocketException("Socket is closed");
        return timeout;
    }

    private <T> void set(SocketOption<T> name, T value) throws SocketException {
        try {
            ssc.setOption(name, value);
        } catch (IOException e) {
            throw quiet(e);
        }
    }

    private <T> T get(SocketOption<T> name) throws SocketException {
        try {
            return ssc.getOption(name);
        } catch (IOException e) {
            throw quiet(e);
        }
    }

    private static SocketException quiet(IOException e) {
        try {
            return SocketAdaptor.translate(e);
        } catch (IOException other) {
            SocketException se = new SocketException(other.getMessage());
            se.initCause(other);
            return se;
        }
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        set(StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return get(StandardSocketOptions.SO_REUSEADDR);
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) throw new IllegalArgumentException("size cannot be 0 or negative");
        set(StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return get(StandardSocketOptions.SO_RCVBUF);
    }

    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        // as the JDK's adaptor: no effect
    }

    @Override
    public <T> ServerSocket setOption(SocketOption<T> name, T value) throws IOException {
        ssc.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return ssc.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return ssc.supportedOptions();
    }

    @Override
    public String toString() {
        InetSocketAddress l = ssc.localAddressOrNull();
        if (l == null) return "ServerSocket[unbound]";
        return "ServerSocket[addr=" + l.getAddress() + ",localport=" + l.getPort() + "]";
    }
}
