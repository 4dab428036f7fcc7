package dev.flexsc.bench.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The same static-file handler with the JDK's own I/O (blocking channels; FileChannel.transferTo
 * uses sendfile), one task per connection: run on stock virtual threads it is what a user of
 * plain Loom would write.
 */
public final class JdkHttpServer implements HttpBench.Server {
    private final ServerSocketChannel server;
    private final ExecutorService pool;
    private final Path root;
    private final Thread acceptor;
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean closed;

    public JdkHttpServer(ExecutorService pool, Path root) throws IOException {
        this.pool = pool;
        this.root = root.toAbsolutePath();
        this.server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        this.acceptor = Thread.ofPlatform().name("jdk-http-accept").start(this::acceptLoop);
    }

    @Override
    public int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    @Override
    public long requests() {
        return requests.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel ch = server.accept();
                pool.execute(() -> serve(ch));
            } catch (IOException | RuntimeException e) {
                if (closed) return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (!closed) {
                int end = HttpRequests.headEnd(in.array(), in.position());
                if (end < 0) {
                    if (!in.hasRemaining() || ch.read(in) <= 0) return;
                    continue;
                }
                boolean keep = HttpRequests.keepAlive(in.array(), end);
                respond(ch, HttpRequests.fileName(HttpRequests.target(in.array(), end)), keep);
                requests.incrementAndGet();
                in.flip().position(end);
                in.compact();
                if (!keep) return;
            }
        } catch (IOException e) {
            // peer went away
        }
    }

    private void respond(SocketChannel ch, String name, boolean keep) throws IOException {
        FileChannel f;
        try {
            if (name == null) throw new NoSuchFileException("/");
            f = FileChannel.open(root.resolve(name), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            writeAll(ch, ByteBuffer.wrap(HttpRequests.NOT_FOUND));
            return;
        }
        try (f) {
            long size = f.size();
            writeAll(ch, ByteBuffer.wrap(HttpRequests.okHead(size, keep)));
            long off = 0;
            while (off < size) off += f.transferTo(off, size - off, ch);
        }
    }

    private static void writeAll(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
