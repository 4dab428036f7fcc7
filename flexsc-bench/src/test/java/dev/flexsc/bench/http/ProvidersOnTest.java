package dev.flexsc.bench.http;

import dev.flexsc.io.FlexscProviders;
import dev.flexsc.io.FlexscSelectorProvider;
import dev.flexsc.io.fs.FlexscFileSystemProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The providers-on test run (flexsc-bench's pom, execution {@code providers-on}): a test JVM
 * started with {@link FlexscProviders#JVM_FLAGS}, in which {@link RealServersTest} runs the
 * JDK HttpServer, Jetty and the JDK HttpClient, unmodified, over FlexSC's channels, selectors
 * and files. This class checks that the run is what it claims: the flags are the JVM's, both
 * providers are the JVM's, and a served request shows in their counts and in the MXBean.
 * The default test run leaves it out (its JVM has no provider flags).
 */
class ProvidersOnTest {
    @TempDir
    static Path dir;

    @Test
    void theJvmStartedWithTheProvidersFlags() {
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (String flag : FlexscProviders.JVM_FLAGS) {
            if (flag.startsWith("-D") || flag.startsWith("--add-exports")) assertTrue(args.contains(flag), flag + " not in " + args);
        }
        assertInstanceOf(FlexscSelectorProvider.class, SelectorProvider.provider());
        assertInstanceOf(FlexscFileSystemProvider.class, FileSystems.getDefault().provider());
        assertTrue(FlexscProviders.selectorProviderActive() && FlexscProviders.fileSystemProviderActive());
    }

    @Test
    @Timeout(60)
    void socketWaitsOfTheJdksVirtualThreadsLeaveTheCarriersToOthers() throws Exception {
        // More virtual threads of the JDK's scheduler blocked reading FlexSC pipes than it has
        // carriers: each waits in the engine, which holds its carrier; the scheduler must get
        // a spare one for each, or the last thread below never runs.
        int blocked = 2 * Runtime.getRuntime().availableProcessors() + 2;
        List<Pipe> pipes = new java.util.ArrayList<>();
        List<Thread> readers = new java.util.ArrayList<>();
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(blocked);
        try {
            for (int i = 0; i < blocked; i++) {
                Pipe p = Pipe.open();
                assertTrue(p.source().getClass().getName().startsWith("dev.flexsc.io."), p.source().getClass().getName());
                pipes.add(p);
                readers.add(Thread.ofVirtual().start(() -> {
                    reading.countDown();
                    try {
                        p.source().read(ByteBuffer.allocate(1));
                    } catch (java.io.IOException closed) {
                        // the finally below closes the pipes
                    }
                }));
            }
            assertTrue(reading.await(20, TimeUnit.SECONDS), "the readers did not all start");
            Thread.sleep(200); // they are in their reads
            Thread other = Thread.ofVirtual().start(() -> { });
            assertTrue(other.join(java.time.Duration.ofSeconds(20)),
                    blocked + " virtual threads waiting for FlexSC pipes held every carrier");
        } finally {
            for (Pipe p : pipes) p.sink().write(ByteBuffer.allocate(1));
            for (Thread t : readers) assertTrue(t.join(java.time.Duration.ofSeconds(20)), "a reader did not end");
            for (Pipe p : pipes) {
                p.sink().close();
                p.source().close();
            }
        }
    }

    @Test
    @Timeout(60)
    void aServedRequestShowsInTheCountsAndTheMXBean() throws Exception {
        StaticFiles.create(dir);
        try (SocketChannel ch = SocketChannel.open()) {
            assertTrue(ch.getClass().getName().startsWith("dev.flexsc.io."), ch.getClass().getName());
        }
        FlexscProviders.Status before = FlexscProviders.status();
        for (String spec : List.of("jdkhttp:FLEXSC:FILES", "jetty:FLEXSC:FILES")) {
            try (HttpBench.Server s = HttpServers.start(spec, dir, 16);
                 HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port()
                        + "/16k.bin")).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, r.statusCode(), spec);
                assertArrayEquals(Files.readAllBytes(dir.resolve("16k.bin")), r.body(), spec);
            }
        }
        FlexscProviders.Status after = FlexscProviders.status();
        assertTrue(after.selectorProviderActive() && after.fileSystemProviderActive(), after.toString());
        // each server: a listener, the client's and the accepted connection, a selector or more
        assertTrue(after.socketChannels() >= before.socketChannels() + 6, before + " -> " + after);
        assertTrue(after.selectors() > before.selectors(), before + " -> " + after);
        assertTrue(after.socketCalls() > before.socketCalls(), before + " -> " + after);
        // each handler opened the file through the provider; the test's readAllBytes too
        assertTrue(after.fileChannels() >= before.fileChannels() + 3, before + " -> " + after);
        assertTrue(after.fileCalls() > before.fileCalls(), before + " -> " + after);

        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = ObjectName.getInstance(FlexscProviders.OBJECT_NAME);
        assertEquals(Boolean.TRUE, mbs.getAttribute(name, "SelectorProviderActive"));
        assertEquals(Boolean.TRUE, mbs.getAttribute(name, "FileSystemProviderActive"));
        assertTrue((Long) mbs.getAttribute(name, "SocketCalls") >= after.socketCalls());
        assertTrue((Long) mbs.getAttribute(name, "FileCalls") >= after.fileCalls());
    }
}
