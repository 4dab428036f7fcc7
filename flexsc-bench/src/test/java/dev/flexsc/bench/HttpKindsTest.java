package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.bench.http.HttpBench;
import dev.flexsc.bench.http.StaticFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every server the HTTP benchmark measures (the report's and {@code --study http}'s) serves
 * the files byte-exact over keep-alive from several connections at once and answers 404, so
 * a throughput figure is never that of a server that answers wrongly.
 */
class HttpKindsTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void everyServerOfTheBenchmarkServesTheFiles() throws Exception {
        StaticFiles.create(dir);
        List<HttpBench.Kind> kinds = new ArrayList<>(HttpServers.kinds());
        // --study http's: each engine here under each policy (the report's kinds cover some).
        List<Engine> engines = new ArrayList<>();
        for (var a : dev.flexsc.Flexsc.probe()) {
            if (a.available()) engines.add(a.engine());
            else System.out.println("SKIP " + a.engine() + ": " + a.reason());
        }
        kinds.addAll(HttpServers.studyKinds(engines, List.of(dev.flexsc.CallPolicy.ADAPTIVE)).subList(2, 2 + engines.size()));
        List<String> labels = new ArrayList<>();
        for (HttpBench.Kind k : kinds) {
            try (HttpBench.Server s = k.factory().start(dir, 8)) {
                List<Thread> clients = new ArrayList<>();
                List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
                for (int c = 0; c < 4; c++) {
                    clients.add(Thread.ofPlatform().start(() -> {
                        try {
                            exercise(s.port());
                        } catch (Throwable x) {
                            errors.add(x);
                        }
                    }));
                }
                for (Thread t : clients) t.join();
                if (!errors.isEmpty()) fail(k.label() + ": " + errors.get(0), errors.get(0));
            }
            labels.add(k.label());
        }
        System.out.println("served correctly: " + labels);
        assertTrue(labels.stream().anyMatch(l -> l.contains("AUTO")), "the defaults (AUTO, ADAPTIVE) are measured");
    }

    private void exercise(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            for (int round = 0; round < 3; round++) {
                for (String name : StaticFiles.NAMES) {
                    assertArrayEquals(Files.readAllBytes(dir.resolve(name)), get(in, out, "/" + name), name);
                }
                assertNull(get(in, out, "/missing.bin"));
            }
        }
    }

    /** One keep-alive request: the body, or null for a 404. */
    private static byte[] get(InputStream in, OutputStream out, String path) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new IOException("connection closed in the head: " + head);
            head.append((char) c);
        }
        String h = head.toString();
        int i = h.toLowerCase().indexOf("content-length: ");
        int len = Integer.parseInt(h.substring(i + 16, h.indexOf('\r', i)).trim());
        byte[] body = new byte[len];
        new DataInputStream(in).readFully(body);
        if (h.startsWith("HTTP/1.1 200")) return body;
        if (h.startsWith("HTTP/1.1 404")) return null;
        throw new IOException("unexpected response: " + h);
    }
}
