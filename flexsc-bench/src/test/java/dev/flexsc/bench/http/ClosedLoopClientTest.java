package dev.flexsc.bench.http;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ClosedLoopClient} against a small local server whose answers each test picks: byte
 * counts on both sides, every kind of bad response an error and never a sample, a silent
 * server ending as timeouts rather than a hang, and the closed loop's consistency
 * (requests x mean latency <= connections x run time), which wrk's figures break.
 */
class ClosedLoopClientTest {
    /** A keep-alive server on platform threads: answers request i (from 0, over all connections) with {@code answer(i)}, or nothing for null. */
    static final class TestServer implements AutoCloseable {
        final ServerSocket listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        final AtomicLong requests = new AtomicLong(), requestBytes = new AtomicLong(), badRequests = new AtomicLong();
        final List<Socket> sockets = new CopyOnWriteArrayList<>();

        TestServer(LongFunction<byte[]> answer) throws IOException {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        Socket s = listener.accept();
                        sockets.add(s);
                        Thread.ofPlatform().daemon().start(() -> serve(s, answer));
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
        }

        private void serve(Socket s, LongFunction<byte[]> answer) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                StringBuilder head = new StringBuilder();
                for (int c; (c = in.read()) >= 0; ) {
                    requestBytes.incrementAndGet();
                    head.append((char) c);
                    if (!head.toString().endsWith("\r\n\r\n")) continue;
                    if (!head.toString().startsWith("GET /f HTTP/1.1\r\nHost: ")) badRequests.incrementAndGet();
                    head.setLength(0);
                    byte[] a = answer.apply(requests.getAndIncrement());
                    if (a == null) continue; // silent: the client's timeout must end it
                    out.write(a);
                    out.flush();
                }
            } catch (IOException gone) {
                // the client closed the connection
            }
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : sockets) s.close();
        }
    }

    static byte[] response(String status, String headers, int bodyBytes) {
        byte[] head = ("HTTP/1.1 " + status + "\r\n" + headers + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] r = new byte[head.length + bodyBytes];
        System.arraycopy(head, 0, r, 0, head.length);
        return r;
    }

    static byte[] ok(int bodyBytes) {
        return response("200 OK", "Content-Length: " + bodyBytes + "\r\n", bodyBytes);
    }

    private TestServer server;

    @AfterEach
    void stop() throws IOException {
        if (server != null) server.close();
    }

    private ClosedLoopClient.Result run(LongFunction<byte[]> answer, int connections, double seconds, long expect)
            throws Exception {
        server = new TestServer(answer);
        return ClosedLoopClient.run(new ClosedLoopClient.Config(server.address(), "/f", connections, Duration.ZERO,
                Duration.ofMillis((long) (seconds * 1000)), Duration.ofSeconds(5), expect));
    }

    @Test
    @Timeout(60)
    void everyRecordedRequestIsAGoodResponseAndTheLoopIsConsistent() throws Exception {
        ClosedLoopClient.Result r = run(i -> ok(16384), 3, 0.5, 16384);
        assertEquals(0, r.errors(), r.firstError());
        assertTrue(r.requests() > 0, r.toString());
        assertEquals(r.requests(), r.latencyNanos().getTotalCount());
        assertTrue(r.consistent(), () -> ClosedLoopClient.describe("the test server", r));
        assertTrue(r.latencySumNanos() > 0 && r.elapsedNanos() > 0 && r.requestsPerSec() > 0);
        assertTrue(r.percentileMs(50) > 0 && r.percentileMs(99) >= r.percentileMs(50), r.toString());
        assertTrue(r.cpuBusy().length >= Runtime.getRuntime().availableProcessors(), r.toString());
        for (double b : r.cpuBusy()) assertTrue(Double.isNaN(b) || (b >= 0 && b <= 1), java.util.Arrays.toString(r.cpuBusy()));
        // Without a warm-up every request is in the window, and the client sends none after
        // it: the server answered exactly the requests recorded.
        long served = server.requests.get();
        assertEquals(r.requests(), served, r.toString());
        assertEquals(0, server.badRequests.get());
        String request = "GET /f HTTP/1.1\r\nHost: " + server.address().getHostString() + ":" + server.address().getPort() + "\r\n\r\n";
        assertEquals(served * request.length(), server.requestBytes.get(), "the client sent other bytes than its requests");
    }

    @Test
    @Timeout(60)
    void aBadStatusIsAnErrorNotASample() throws Exception {
        ClosedLoopClient.Result r = run(i -> response("500 Internal Server Error", "Content-Length: 5\r\n", 5), 1, 0.3, -1);
        assertEquals(0, r.requests());
        assertTrue(r.errors() > 0);
        assertEquals("status 500", r.firstError());
        assertTrue(Double.isNaN(r.percentileMs(99)));
    }

    @Test
    @Timeout(60)
    void aBodyOfTheWrongLengthIsAnError() throws Exception {
        ClosedLoopClient.Result r = run(i -> i % 2 == 0 ? ok(100) : ok(99), 1, 0.3, 100);
        assertTrue(r.errors() > 0 && r.requests() > 0, r.toString());
        assertEquals("a body of 99 bytes, expected 100", r.firstError());
        assertTrue(Math.abs(r.errors() - r.requests()) <= 1, "every other response is short: " + r);
    }

    @Test
    @Timeout(60)
    void aResponseThatClosesOrOverrunsIsAnErrorAndTheClientReconnects() throws Exception {
        // Every third response says Connection: close; every fifth carries 3 bytes past its body.
        ClosedLoopClient.Result r = run(i -> i % 3 == 1 ? response("200 OK", "Content-Length: 10\r\nConnection: close\r\n", 10)
                : i % 5 == 2 ? java.util.Arrays.copyOf(ok(10), ok(10).length + 3) : ok(10), 2, 0.5, 10);
        assertTrue(r.requests() > 0 && r.errors() > 0, r.toString());
        assertTrue(server.sockets.size() > 2, "the client did not reconnect: " + server.sockets.size() + " connections");
    }

    @Test
    @Timeout(60)
    void aSilentServerEndsInTimeoutsNotAHang() throws Exception {
        server = new TestServer(i -> i < 4 ? ok(10) : null);
        ClosedLoopClient.Result r = ClosedLoopClient.run(new ClosedLoopClient.Config(server.address(), "/f", 2,
                Duration.ZERO, Duration.ofSeconds(1), Duration.ofMillis(200), 10));
        assertTrue(r.requests() <= 4, r.toString());
        assertEquals(2, r.errors(), r.toString());
        assertTrue(r.firstError().startsWith("no response within 200 ms"), r.firstError());
    }

    @Test
    void noServerIsAnIOExceptionNamingIt() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        ClosedLoopClient.Config c = new ClosedLoopClient.Config(nobody, "/f", 1, Duration.ZERO, Duration.ofMillis(100),
                Duration.ofSeconds(1), -1);
        IOException e = assertThrows(IOException.class, () -> ClosedLoopClient.run(c));
        assertTrue(e.getMessage().startsWith("connect to " + nobody), e.getMessage());
    }

    @Test
    void theConsistencyCheckFailsWhenTheLatenciesAddUpToMoreThanTheRun() {
        Histogram h = new Histogram(ClosedLoopClient.HIGHEST_NANOS, 3);
        h.recordValue(1_000_000);
        // one connection, 2 requests of 1 ms in a 1.5 ms run: impossible for a closed loop
        assertFalse(new ClosedLoopClient.Result(1, 2, 0, null, 1_500_000, 2_000_000, h, 0, new double[0], false).consistent());
        assertTrue(new ClosedLoopClient.Result(2, 2, 0, null, 1_500_000, 2_000_000, h, 0, new double[0], false).consistent());
        assertTrue(new ClosedLoopClient.Result(1, 2, 0, null, 2_000_000, 2_000_000, h, 0, new double[0], false).consistent());
    }

    @Test
    void wrksCorrectionTurnsOneStallIntoATail() {
        // One connection: 990 requests of 50 us and one of 20 ms, back to back.
        Histogram h = new Histogram(ClosedLoopClient.HIGHEST_NANOS, 3);
        h.recordValueWithCount(50_000, 990);
        h.recordValue(20_000_000);
        long sum = 990 * 50_000L + 20_000_000L;
        ClosedLoopClient.Result r = new ClosedLoopClient.Result(1, 991, 0, null, sum, sum, h, 0, new double[0], false);
        assertTrue(r.consistent());
        assertEquals(0.05, r.percentileMs(99), 0.001, "the recorded p99 is the common case");
        Histogram w = r.asWrkReports();
        // the mean interval is about 70 us: the stall gets about 280 synthetic samples spread down to it
        assertTrue(w.getTotalCount() - h.getTotalCount() > 250, "synthetic: " + (w.getTotalCount() - h.getTotalCount()));
        assertTrue(w.getValueAtPercentile(99) > 15_000_000, "p99 as wrk prints it: " + w.getValueAtPercentile(99));
        assertTrue(w.getMean() * w.getTotalCount() > 10 * sum, "as wrk prints them, the latencies add up to 10 runs");
    }

    @Test
    @Timeout(60)
    void pacedLatencyCountsFromTheScheduledSendSoAStallIsChargedForWhatItHeldBack() throws Exception {
        // 200 requests/s on one connection, 5 ms apart; request 20 takes the server 200 ms.
        server = new TestServer(i -> {
            if (i == 20) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return ok(10);
        });
        ClosedLoopClient.Result r = ClosedLoopClient.run(new ClosedLoopClient.Config(server.address(), "/f", 1,
                Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(5), 10, 200));
        assertEquals(0, r.errors(), r.firstError());
        assertTrue(r.paced() && r.consistent());
        // a schedule of 200 sends in the 1 s window, never more (a closed loop makes thousands)
        assertTrue(r.requests() > 0 && r.requests() <= 200, r.toString());
        // The sends scheduled k x 5 ms into the stall wait for its end: >= 200 - 5k ms each, so the
        // stalled request and k = 1..22 all take 90 ms or more however late the client ran.
        long held = r.latencyNanos().getCountBetweenValues(90_000_000, ClosedLoopClient.HIGHEST_NANOS);
        assertTrue(held >= 20, held + " requests at >= 90 ms: " + ClosedLoopClient.describe("the test server", r));
    }

    @Test
    void badArgumentsAreRefusedWithTheReason() {
        assertThrows(IllegalArgumentException.class, () -> ClosedLoopClient.parse(new String[] {"--connections", "0", "http://h:1/"}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClosedLoopClient.parse(new String[] {"http://h/x"}));
        assertTrue(e.getMessage().contains("http://HOST:PORT/PATH"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClosedLoopClient.parse(new String[] {"--bogus", "http://h:1/"}));
        ClosedLoopClient.Config c = ClosedLoopClient.parse(new String[] {"--connections", "7", "--seconds", "2",
                "--warmup", "0", "--expect-bytes", "16384", "http://127.0.0.1:8080/16k.bin"});
        assertEquals(7, c.connections());
        assertEquals("/16k.bin", c.path());
        assertEquals(8080, c.server().getPort());
        assertEquals(Duration.ofSeconds(2), c.duration());
        assertEquals(Duration.ZERO, c.warmup());
        assertEquals(16384, c.expectedBodyBytes());
        assertEquals(0, c.periodNanos(), "a closed loop by default");
        ClosedLoopClient.Config paced = ClosedLoopClient.parse(new String[] {"--connections", "4", "--rate", "1000", "http://h:1/"});
        assertEquals(4_000_000, paced.periodNanos(), "4 connections at 1000/s: each sends every 4 ms");
        assertThrows(IllegalArgumentException.class, () -> ClosedLoopClient.parse(new String[] {"--rate", "-1", "http://h:1/"}));
    }
}
