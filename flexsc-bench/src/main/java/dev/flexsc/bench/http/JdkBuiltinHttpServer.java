package dev.flexsc.bench.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The JDK's own {@code com.sun.net.httpserver.HttpServer}, unmodified, serving the static
 * files: a server nobody here wrote. Its handlers run on the given executor (stock virtual
 * threads or FlexscExecutors) and read each file whole with {@link FileApi}; its sockets,
 * its selector thread and its dispatcher are the JDK's. Run it with
 * {@code -Dsun.net.httpserver.nodelay=true}, as the HTTP study does, or every response
 * waits for Nagle's algorithm.
 */
public final class JdkBuiltinHttpServer implements HttpBench.Server {
    private final HttpServer server;
    private final ExecutorService executor;
    private final Path root;
    private final FileApi files;
    private final AtomicLong requests = new AtomicLong();

    /** Binds 127.0.0.1 on an ephemeral port and starts; the server owns {@code executor} and closes it. */
    public JdkBuiltinHttpServer(ExecutorService executor, FileApi files, Path root) throws IOException {
        this.executor = executor;
        this.files = files;
        this.root = root.toAbsolutePath();
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = files.serve(root, ex.getRequestURI().getRawPath());
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
            requests.incrementAndGet();
        }
    }

    @Override
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public long requests() {
        return requests.get();
    }

    /**
     * Stops at once (open connections are closed, exchanges in progress end with an
     * IOException in their handler), then interrupts the handlers still running and waits
     * up to 10 s for them.
     *
     * @throws IOException if a handler did not end within that bound
     */
    @Override
    public void close() throws IOException {
        server.stop(0);
        HandlerThreads.stop(executor, "JDK HttpServer");
    }
}
