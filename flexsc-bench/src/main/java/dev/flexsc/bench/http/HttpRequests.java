package dev.flexsc.bench.http;

import java.nio.charset.StandardCharsets;

/** Minimal HTTP/1.1 request parsing shared by the servers: GET only, keep-alive by default. */
final class HttpRequests {
    private HttpRequests() {}

    /** Index just past the blank line ending the head in buf[0, len), or -1. */
    static int headEnd(byte[] buf, int len) {
        for (int i = 3; i < len; i++) {
            if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') return i + 1;
        }
        return -1;
    }

    /** The request target of "GET /x HTTP/1.1", or null if the line is not a GET. */
    static String target(byte[] buf, int headEnd) {
        String head = new String(buf, 0, headEnd, StandardCharsets.ISO_8859_1);
        int sp1 = head.indexOf(' '), sp2 = head.indexOf(' ', sp1 + 1);
        if (sp1 < 0 || sp2 < 0 || !head.startsWith("GET ")) return null;
        return head.substring(sp1 + 1, sp2);
    }

    /** True unless the request asks to close the connection. */
    static boolean keepAlive(byte[] buf, int headEnd) {
        String head = new String(buf, 0, headEnd, StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
        return !head.contains("\r\nconnection: close");
    }

    /** A safe file name from the target (no directories), or null. */
    static String fileName(String target) {
        if (target == null || !target.startsWith("/")) return null;
        String name = target.substring(1);
        return name.isEmpty() || name.contains("/") || name.contains("..") ? null : name;
    }

    static byte[] okHead(long length, boolean keepAlive) {
        return ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + length
                + (keepAlive ? "" : "\r\nConnection: close") + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    static final byte[] NOT_FOUND = ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
}
