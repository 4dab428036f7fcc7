package dev.flexsc.bench.http;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads one HTTP/1.1 response off a kept-alive connection for {@link ClosedLoopClient}: the
 * status line, the head up to its blank line, then exactly {@code Content-Length} body bytes,
 * never a byte more (the client sends its next request only after this one's response, so a
 * byte past the body is a server error, not the next response). Allocates nothing on the path
 * of a good response: a load generator that makes garbage measures its own collector's pauses.
 * One reader per connection, used by one thread.
 */
final class ResponseReader {
    /** The largest head accepted, and the read size for bodies. */
    static final int BUFFER_BYTES = 64 << 10;

    /** A response this client cannot take as a measurement: malformed, unsupported, or too long. */
    static final class BadResponseException extends IOException {
        BadResponseException(String message) {
            super(message);
        }
    }

    private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES);
    private long bodyBytes;
    private boolean keepAlive;

    /**
     * Reads one whole response from {@code ch} (blocking) and returns its status code.
     *
     * @throws EOFException if the server closed the connection before the response ended
     * @throws BadResponseException if it is not HTTP/1.1, has no Content-Length, uses a
     *         transfer coding, or more bytes than its body arrived
     */
    int read(ReadableByteChannel ch) throws IOException {
        buf.clear();
        int headEnd = -1, scanned = 0;
        while (headEnd < 0) {
            if (!buf.hasRemaining()) throw new BadResponseException("a response head longer than " + BUFFER_BYTES + " bytes");
            if (ch.read(buf) < 0) {
                throw new EOFException("the server closed the connection " + (buf.position() == 0 ? "before the response"
                        : "in the response head, after " + buf.position() + " bytes"));
            }
            headEnd = headEnd(buf, Math.max(0, scanned - 3), buf.position());
            scanned = buf.position();
        }
        int status = status(buf);
        long length = -1;
        keepAlive = true;
        for (int line = lineEnd(buf, 0, headEnd) + 2; line < headEnd - 2; line = lineEnd(buf, line, headEnd) + 2) {
            if (startsWithIgnoreCase(buf, line, "content-length:")) {
                if (length >= 0) throw new BadResponseException("two Content-Length headers");
                length = number(buf, line + "content-length:".length(), lineEnd(buf, line, headEnd));
            } else if (startsWithIgnoreCase(buf, line, "transfer-encoding:")) {
                throw new BadResponseException("a Transfer-Encoding (chunked?) response: only Content-Length bodies are measured");
            } else if (startsWithIgnoreCase(buf, line, "connection:")) {
                keepAlive = !containsIgnoreCase(buf, line, lineEnd(buf, line, headEnd), "close");
            }
        }
        if (length < 0) throw new BadResponseException("status " + status + " without a Content-Length");
        long remaining = length - (scanned - headEnd);
        if (remaining < 0) {
            throw new BadResponseException(-remaining + " bytes past the " + length + "-byte body of a status " + status
                    + " response (the client had sent one request)");
        }
        while (remaining > 0) {
            buf.clear().limit((int) Math.min(BUFFER_BYTES, remaining)); // never read into the next response
            int n = ch.read(buf);
            if (n < 0) throw new EOFException("the server closed the connection with " + remaining + " of "
                    + length + " body bytes to come");
            remaining -= n;
        }
        bodyBytes = length;
        return status;
    }

    /** The last response's body length. */
    long bodyBytes() {
        return bodyBytes;
    }

    /** False if the last response said {@code Connection: close}. */
    boolean keepAlive() {
        return keepAlive;
    }

    /** Index just past the first CRLF CRLF in b[from, to), or -1. */
    static int headEnd(ByteBuffer b, int from, int to) {
        for (int i = from + 3; i < to; i++) {
            if (b.get(i) == '\n' && b.get(i - 1) == '\r' && b.get(i - 2) == '\n' && b.get(i - 3) == '\r') return i + 1;
        }
        return -1;
    }

    /** Index of the CR of the line starting at {@code from}; the head ends in CRLF CRLF, so there is one before {@code to}. */
    private static int lineEnd(ByteBuffer b, int from, int to) {
        int i = from;
        while (i < to - 1 && !(b.get(i) == '\r' && b.get(i + 1) == '\n')) i++;
        return i;
    }

    /** The code of an "HTTP/1.1 NNN ..." status line. */
    private static int status(ByteBuffer b) throws BadResponseException {
        String prefix = "HTTP/1.1 ";
        boolean ok = b.position() > 12 && startsWithIgnoreCase(b, 0, prefix) && (b.get(12) == ' ' || b.get(12) == '\r');
        int code = 0;
        for (int i = 9; ok && i < 12; i++) {
            byte d = b.get(i);
            ok = d >= '0' && d <= '9';
            code = code * 10 + d - '0';
        }
        if (!ok) throw new BadResponseException("not an HTTP/1.1 status line: '" + ascii(b, 0, lineEnd(b, 0, b.position())) + "'");
        return code;
    }

    /** The decimal number after optional spaces in b[from, to). */
    private static long number(ByteBuffer b, int from, int to) throws BadResponseException {
        int i = from;
        while (i < to && (b.get(i) == ' ' || b.get(i) == '\t')) i++;
        long v = 0;
        int digits = 0;
        for (; i < to && b.get(i) >= '0' && b.get(i) <= '9' && digits < 18; i++, digits++) v = v * 10 + b.get(i) - '0';
        while (i < to && (b.get(i) == ' ' || b.get(i) == '\t')) i++;
        if (digits == 0 || i != to) throw new BadResponseException("a bad Content-Length: '" + ascii(b, from, to).trim() + "'");
        return v;
    }

    private static boolean startsWithIgnoreCase(ByteBuffer b, int at, String s) {
        if (at + s.length() > b.position()) return false;
        for (int i = 0; i < s.length(); i++) {
            if (Character.toLowerCase((char) b.get(at + i)) != s.charAt(i) && b.get(at + i) != s.charAt(i)) return false;
        }
        return true;
    }

    private static boolean containsIgnoreCase(ByteBuffer b, int from, int to, String s) {
        for (int i = from; i + s.length() <= to; i++) {
            if (startsWithIgnoreCase(b, i, s)) return true;
        }
        return false;
    }

    /** b[from, to) as text, for error messages only. */
    private static String ascii(ByteBuffer b, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to && i < from + 80; i++) {
            char c = (char) (b.get(i) & 0xff);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}
