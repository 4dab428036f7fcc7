package dev.flexsc.bench.http;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Jetty 12.1, unmodified, serving the static files: a server nobody here wrote. Its
 * {@link QueuedThreadPool} is given {@code executor} as its virtual-threads executor, so
 * Jetty runs every blocking handler on a virtual thread of that executor (stock or
 * FlexscExecutors); its acceptor and selector threads are Jetty's own platform threads.
 * The handler is a plain {@link Handler} that reads the whole file with {@link FileApi} and
 * writes it ({@link Mode#HANDLER}), or Jetty's own {@link ResourceHandler}
 * ({@link Mode#RESOURCE_HANDLER}, which reads through Jetty's resource layer; file mapping off).
 */
public final class JettyServer implements HttpBench.Server {
    /** Which handler serves the files. */
    public enum Mode { HANDLER, RESOURCE_HANDLER }

    private final Server server;
    private final ServerConnector connector;
    private final ExecutorService executor;
    private final AtomicLong requests = new AtomicLong();

    /**
     * Binds 127.0.0.1 on an ephemeral port and starts; the server owns {@code executor} and
     * closes it. {@code files} is how {@link Mode#HANDLER} reads (unused by the resource handler).
     */
    public JettyServer(ExecutorService executor, Mode mode, FileApi files, Path root) throws IOException {
        this.executor = executor;
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("jetty");
        threads.setVirtualThreadsExecutor(executor);
        this.server = new Server(threads);
        this.connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setAcceptQueueSize(4096);
        server.addConnector(connector);
        Path dir = root.toAbsolutePath();
        Handler counted = mode == Mode.HANDLER ? new FileHandler(dir, files) : resourceHandler(dir);
        server.setHandler(new Handler.Wrapper(counted) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                requests.incrementAndGet();
                return super.handle(request, response, callback);
            }
        });
        try {
            server.start();
        } catch (Exception e) {
            throw new IOException("Jetty did not start: " + e, e);
        }
    }

    private static ResourceHandler resourceHandler(Path dir) {
        ResourceHandler h = new ResourceHandler();
        h.setBaseResource(ResourceFactory.root().newResource(dir));
        h.setDirAllowed(false);
        h.setUseFileMapping(false);
        h.setEtags(false);
        return h;
    }

    /** Reads the requested file whole and writes it; 404 for a missing file or a path out of the root. */
    private static final class FileHandler extends Handler.Abstract {
        private final Path root;
        private final FileApi files;

        FileHandler(Path root, FileApi files) {
            super(InvocationType.BLOCKING); // it reads a file: Jetty runs it on a virtual thread
            this.root = root;
            this.files = files;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            byte[] body = files.serve(root, Request.getPathInContext(request));
            if (body == null) {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return true;
            }
            response.setStatus(HttpStatus.OK_200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
        }
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public long requests() {
        return requests.get();
    }

    /**
     * Stops Jetty (open connections are closed), then the handlers' executor, waiting up to
     * 10 s for its threads.
     *
     * @throws IOException if Jetty failed to stop or a handler did not end within that bound
     */
    @Override
    public void close() throws IOException {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IOException("Jetty did not stop: " + e, e);
        } finally {
            HandlerThreads.stop(executor, "Jetty");
        }
    }
}
