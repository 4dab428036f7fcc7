package dev.flexsc.bench.http;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Servers nobody here wrote, unmodified, on FlexscExecutors and on stock virtual threads
 * (the same tests, so a difference shows): the JDK's HttpServer and Jetty 12.1, each
 * handler reading with Files or FlexscFiles, as the HTTP study runs them. The JDK
 * HttpClient is the client. Every response is checked byte for byte; keep-alive, a file of
 * several MiB, hundreds of connections at once, clients that go away mid-response, and a
 * server stopped with connections open (no hang, no file descriptor or thread left behind).
 */
class RealServersTest {
    /** A file of several MiB: many socket writes per response, and a response a client can abandon halfway. */
    static final String BIG = "big.bin";
    static final int BIG_SIZE = 6 << 20;
    /** Connections open at once in the concurrency test (the study's 1000 would take most of the time budget here). */
    static final int CONNECTIONS = 300;

    @TempDir
    static Path dir;

    @BeforeAll
    static void files() throws IOException {
        StaticFiles.create(dir);
        byte[] big = new byte[BIG_SIZE];
        new Random(15).nextBytes(big);
        Files.write(dir.resolve(BIG), big);
    }

    /** The servers under test, as HttpServers specs: each server on stock virtual threads and on FlexscExecutors. */
    static Stream<String> servers() {
        List<String> specs = new ArrayList<>();
        for (String server : List.of("jdkhttp", "jetty")) {
            specs.add(server + ":STOCK_VT:FILES");
            specs.add(server + ":FLEXSC:FILES");
            specs.add(server + ":FLEXSC:FLEXSC_FILES");
        }
        return specs.stream();
    }

    /** A raw client connection whose reads fail after 30 s: a server that stops answering fails the test, never hangs it. */
    private static Socket connect(int port) throws IOException {
        Socket so = new Socket(InetAddress.getLoopbackAddress(), port);
        so.setSoTimeout(30_000);
        return so;
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    private static URI uri(HttpBench.Server s, String name) throws IOException {
        return URI.create("http://127.0.0.1:" + s.port() + "/" + name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    @Timeout(60)
    void servesEveryFileByteForByteWithKeepAlive(String spec) throws Exception {
        try (HttpBench.Server s = HttpServers.start(spec, dir, 64); HttpClient client = client()) {
            // keep-alive on one raw connection: 3 rounds of every file, 404s, Connection: close
            HttpTestClient.exercise(dir, s.port());
            for (String name : List.of(StaticFiles.NAMES.get(0), StaticFiles.NAMES.get(1), StaticFiles.NAMES.get(2),
                    StaticFiles.NAMES.get(3), BIG)) {
                HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(uri(s, name)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, r.statusCode(), name);
                assertArrayEquals(Files.readAllBytes(dir.resolve(name)), r.body(), name);
            }
            assertEquals(404, client.send(HttpRequest.newBuilder(uri(s, "missing.bin")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    @Timeout(90)
    void servesHundredsOfConnectionsAtOnce(String spec) throws Exception {
        byte[] expected = Files.readAllBytes(dir.resolve("16k.bin"));
        try (HttpBench.Server s = HttpServers.start(spec, dir, CONNECTIONS)) {
            // Raw sockets make the concurrency certain: every connection is open, and every
            // request sent, before the first response is read.
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTIONS; i++) sockets.add(connect(s.port()));
                byte[] get = "GET /16k.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
                for (Socket so : sockets) so.getOutputStream().write(get);
                for (Socket so : sockets) {
                    so.setSoTimeout(30_000);
                    assertArrayEquals(expected, HttpTestClient.get(so.getInputStream(), OutputStream.nullOutputStream(),
                            "/16k.bin", false));
                }
            } finally {
                for (Socket so : sockets) so.close();
            }
            // And the JDK HttpClient with as many requests in flight.
            try (HttpClient client = client()) {
                List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    all.add(client.sendAsync(HttpRequest.newBuilder(uri(s, "16k.bin")).build(),
                            HttpResponse.BodyHandlers.ofByteArray()));
                }
                for (CompletableFuture<HttpResponse<byte[]>> f : all) {
                    HttpResponse<byte[]> r = f.join();
                    assertEquals(200, r.statusCode());
                    assertArrayEquals(expected, r.body());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    @Timeout(60)
    void survivesClientsThatLeaveMidResponse(String spec) throws Exception {
        byte[] small = Files.readAllBytes(dir.resolve("1k.bin"));
        try (HttpBench.Server s = HttpServers.start(spec, dir, 64); HttpClient client = client()) {
            for (int i = 0; i < 10; i++) {
                // The HttpClient reads 64 KiB of the big file and closes the body: it drops the connection.
                HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri(s, BIG)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertEquals(200, r.statusCode());
                try (InputStream in = r.body()) {
                    assertEquals(64 << 10, in.readNBytes(64 << 10).length);
                }
                // A raw client resets the connection (SO_LINGER 0) after the first bytes.
                try (Socket so = connect(s.port())) {
                    so.getOutputStream().write(("GET /" + BIG + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    assertTrue(so.getInputStream().read() >= 0);
                    so.setSoLinger(true, 0);
                }
            }
            // The server goes on serving.
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(small, client.send(HttpRequest.newBuilder(uri(s, "1k.bin")).build(),
                        HttpResponse.BodyHandlers.ofByteArray()).body());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    @Timeout(90)
    void stopsWithConnectionsOpenAndLeavesNothingBehind(String spec) throws Exception {
        // The same scenario twice, measured the second time: classes, the JDK's pollers (started
        // when a virtual thread first blocks on a socket), FlexSC's default scheduler and engine
        // and the jars' descriptors are opened once per JVM and kept; only a repeat can leak.
        stopWithConnectionsOpen(spec);
        Resources before = Resources.now();
        long stopped = stopWithConnectionsOpen(spec);
        assertTrue(stopped < 10_000_000_000L, "the server took " + stopped / 1_000_000 + " ms to stop");
        Resources after = Resources.settle(before);
        // A ring the engine keeps idle in its pool (a platform thread's, when the providers are
        // on) is accounted by the engine, not leaked: the second run can borrow one more at
        // once than the first did. Any other new descriptor, or a ring the engine does not
        // count, is a leak.
        int unaccounted = after.fds() - before.fds() - Math.max(0, after.engineRings() - before.engineRings());
        assertTrue(unaccounted <= 0, () -> "file descriptors left open: " + before.fds() + " before, "
                + after.fds() + " after, engine rings " + before.engineRings() + " before, " + after.engineRings()
                + " after; new: " + after.newFds(before));
        assertTrue(after.fdTargets().stream().filter(t -> !t.contains("io_uring")).count()
                        <= before.fdTargets().stream().filter(t -> !t.contains("io_uring")).count(),
                () -> "file descriptors left open (other than rings): new: " + after.newFds(before));
        Set<String> left = new HashSet<>(after.threads());
        left.removeAll(before.threads());
        assertTrue(left.isEmpty(), "threads left running: " + left);
    }

    /**
     * Starts the server, leaves 40 idle keep-alive connections and 4 responses of the big file
     * in flight to clients that do not read, stops it (its close throws if a handler does not
     * end) and closes the clients; returns how long the stop took, in nanoseconds.
     */
    private static long stopWithConnectionsOpen(String spec) throws Exception {
        List<Socket> open = new ArrayList<>();
        HttpBench.Server s = HttpServers.start(spec, dir, 64);
        try {
            byte[] small = Files.readAllBytes(dir.resolve("1k.bin"));
            for (int i = 0; i < 40; i++) {
                Socket so = connect(s.port());
                open.add(so);
                assertArrayEquals(small, HttpTestClient.get(so.getInputStream(), so.getOutputStream(), "/1k.bin", false));
            }
            for (int i = 0; i < 4; i++) {
                Socket so = connect(s.port());
                open.add(so);
                so.getOutputStream().write(("GET /" + BIG + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                assertTrue(so.getInputStream().read() >= 0, "the big response did not start");
            }
        } finally {
            long t0 = System.nanoTime();
            try {
                s.close();
            } finally {
                for (Socket so : open) so.close();
            }
            return System.nanoTime() - t0;
        }
    }

    /**
     * File descriptors and platform threads of this JVM. The JDK's own shared pools are left
     * out of the thread set: the common ForkJoinPool and the virtual-thread scheduler's
     * carriers start and retire on their own timers (up to a minute), whoever used them.
     */
    record Resources(int fds, List<String> fdTargets, Set<String> threads, int engineRings) {
        static Resources now() throws IOException {
            List<String> targets = new ArrayList<>();
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                for (Path fd : (Iterable<Path>) fds::iterator) {
                    try {
                        targets.add(Files.readSymbolicLink(fd).toString());
                    } catch (IOException gone) {
                        // the directory stream's own descriptor, closed by now
                    }
                }
            }
            Set<String> threads = new HashSet<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.isAlive() && !t.getName().startsWith("ForkJoinPool")) threads.add(t.getName() + "#" + t.threadId());
            }
            return new Resources(targets.size(), targets, threads, openEngineRings());
        }

        /** The default engine's io_uring rings open now (its carriers' and its pool's, lent or idle); 0 without one. */
        static int openEngineRings() {
            dev.flexsc.FlexscEngine d = dev.flexsc.Flexsc.defaultEngineIfOpen();
            if (d != null && d.unwrap(dev.flexsc.nativeimpl.uring.UringEngine.class) instanceof dev.flexsc.nativeimpl.uring.UringEngine u) {
                dev.flexsc.nativeimpl.uring.UringStats s = u.uringStats();
                return s.carrierRings() + s.platformRings();
            }
            return 0;
        }

        /** The descriptors open now that were not in {@code before} (by what they point to). */
        List<String> newFds(Resources before) {
            List<String> n = new ArrayList<>(fdTargets);
            for (String t : before.fdTargets()) n.remove(t);
            return n;
        }

        /** Waits up to 10 s for descriptors and threads to come back to {@code before} (closes and exits are asynchronous). */
        static Resources settle(Resources before) throws Exception {
            long deadline = System.nanoTime() + 10_000_000_000L;
            Resources r;
            while (true) {
                r = now();
                boolean fdsBack = r.fds() - before.fds() <= Math.max(0, r.engineRings() - before.engineRings());
                boolean threadsBack = before.threads().containsAll(r.threads());
                if ((fdsBack && threadsBack) || System.nanoTime() > deadline) return r;
                Thread.sleep(50);
            }
        }
    }
}
