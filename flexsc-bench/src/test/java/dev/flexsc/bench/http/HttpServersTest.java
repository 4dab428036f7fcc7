package dev.flexsc.bench.http;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/** Each server serves every file byte-exact over keep-alive, answers 404, and honours Connection: close. */
class HttpServersTest {
    @TempDir
    Path dir;

    /** Reads one response: returns the body, or null for a 404. */
    private static byte[] get(InputStream in, OutputStream out, String path, boolean close) throws IOException {
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
        return h.startsWith("HTTP/1.1 200") ? body : h.startsWith("HTTP/1.1 404") ? null : fail(h);
    }

    private void exercise(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            for (int round = 0; round < 3; round++) {
                for (String name : StaticFiles.NAMES) {
                    assertArrayEquals(Files.readAllBytes(dir.resolve(name)), get(in, out, "/" + name, false), name);
                }
            }
            assertNull(get(in, out, "/missing.bin", false));
            assertNull(get(in, out, "/../etc/passwd", false));
            assertArrayEquals(Files.readAllBytes(dir.resolve("1k.bin")), get(in, out, "/1k.bin", true));
            assertEquals(-1, in.read(), "the server did not close after Connection: close");
        }
    }

    @Test
    @Timeout(60)
    void directCallsOnAFixedPool() throws IOException {
        StaticFiles.create(dir);
        try (ExecutorService pool = Executors.newFixedThreadPool(8);
             SyscallHttpServer server = new SyscallHttpServer(DirectSyscalls.syscalls(), pool, dir)) {
            exercise(server.port());
            assertEquals(15, server.requests()); // 3 rounds x 4 files, two 404s, one Connection: close
        }
    }

    @Test
    @Timeout(60)
    void flexscCalls() throws IOException {
        StaticFiles.create(dir);
        try (FlexscEngine e = SyscallThreadsEngine.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
             ExecutorService pool = Executors.newFixedThreadPool(8)) {
            Syscalls sys = e.syscalls();
            try (SyscallHttpServer server = new SyscallHttpServer(sys, pool, dir)) {
                exercise(server.port());
                assertEquals(15, server.requests()); // 3 rounds x 4 files, two 404s, one Connection: close
            }
            assertTrue(e.stats().executed() > 50, "the calls did not go through the engine: " + e.stats());
        }
    }

    @Test
    @Timeout(60)
    void jdkIoOnStockVirtualThreads() throws IOException {
        StaticFiles.create(dir);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
             JdkHttpServer server = new JdkHttpServer(pool, dir)) {
            exercise(server.port());
            assertEquals(15, server.requests()); // 3 rounds x 4 files, two 404s, one Connection: close
        }
    }
}
