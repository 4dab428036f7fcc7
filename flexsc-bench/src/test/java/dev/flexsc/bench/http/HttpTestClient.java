package dev.flexsc.bench.http;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A minimal HTTP/1.1 client for the server tests: one request, one response, on a kept-alive connection. */
public final class HttpTestClient {
    private HttpTestClient() {}

    /**
     * Sends {@code GET path} (with {@code Connection: close} if asked) and reads the response:
     * the body of a 200, or null for a 404 or a 400 (Jetty refuses a path out of the root as
     * a bad request, where the servers written here answer 404).
     *
     * @throws IOException if the connection closed in the head, or for any other status
     */
    public static byte[] get(InputStream in, OutputStream out, String path, boolean close) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
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
        if (h.startsWith("HTTP/1.1 404") || h.startsWith("HTTP/1.1 400")) return null;
        throw new IOException("unexpected response: " + h);
    }

    /**
     * First a connection asking for a path out of the root with {@code Connection: close},
     * which must not be served (Jetty answers 400, the servers written here 404) and must be
     * closed. Then one connection: every file of {@link StaticFiles} under {@code dir} three
     * times over keep-alive, byte-exact; a 404 for a missing file; and a request with
     * {@code Connection: close}, after which the server must close. 15 requests; a server
     * counts each before it closes the connection, so its count is complete on return.
     */
    public static void exercise(Path dir, int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000); // a server that stops answering fails the test, never hangs it
            assertNull(get(s.getInputStream(), s.getOutputStream(), "/../etc/passwd", true));
            assertEquals(-1, s.getInputStream().read(), "the server did not close after Connection: close");
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000); // a server that stops answering fails the test, never hangs it
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            for (int round = 0; round < 3; round++) {
                for (String name : StaticFiles.NAMES) {
                    assertArrayEquals(Files.readAllBytes(dir.resolve(name)), get(in, out, "/" + name, false), name);
                }
            }
            assertNull(get(in, out, "/missing.bin", false));
            assertArrayEquals(Files.readAllBytes(dir.resolve("1k.bin")), get(in, out, "/1k.bin", true));
            assertEquals(-1, in.read(), "the server did not close after Connection: close");
        }
    }
}
