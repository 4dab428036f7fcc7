package dev.flexsc.bench.http;

import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** {@link ResponseReader}'s framing, fed through a channel that returns at most a few bytes per read. */
class ResponseReaderTest {
    /** Returns {@code bytes} in reads of at most {@code chunk}, then end of stream. */
    static ReadableByteChannel channel(byte[] bytes, int chunk) {
        return new ReadableByteChannel() {
            int at;

            @Override
            public int read(ByteBuffer dst) {
                if (at == bytes.length) return -1;
                int n = Math.min(Math.min(chunk, dst.remaining()), bytes.length - at);
                dst.put(bytes, at, n);
                at += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
    }

    static byte[] bytes(String head, int body) {
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        return java.util.Arrays.copyOf(h, h.length + body);
    }

    @Test
    void readsTheStatusAndExactlyTheBodyAcrossSmallReads() throws IOException {
        for (int chunk : new int[] {1, 3, 7, 100_000}) {
            byte[] one = bytes("HTTP/1.1 200 OK\r\ncontent-length: 70000\r\nContent-Type: x\r\n\r\n", 70_000);
            byte[] two = java.util.Arrays.copyOf(one, one.length * 2);
            System.arraycopy(one, 0, two, one.length, one.length);
            ResponseReader r = new ResponseReader();
            ReadableByteChannel ch = channel(two, chunk);
            // two responses back to back: the reader's reads stop at the first one's end
            assertEquals(200, r.read(ch), "chunk " + chunk);
            assertEquals(70_000, r.bodyBytes());
            assertTrue(r.keepAlive());
            assertEquals(200, r.read(ch), "chunk " + chunk);
            assertThrows(EOFException.class, () -> r.read(ch));
        }
    }

    @Test
    void bytesPastTheBodyAreAnError() {
        ResponseReader r = new ResponseReader();
        byte[] b = bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nab!", 0);
        IOException e = assertThrows(ResponseReader.BadResponseException.class, () -> r.read(channel(b, 1000)));
        assertTrue(e.getMessage().startsWith("1 bytes past the 2-byte body of a status 404 response"), e.getMessage());
    }

    @Test
    void malformedResponsesAreErrorsThatSayWhy() {
        String[][] cases = {
                {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.1 status line: 'HTTP/1.0 200 OK'"},
                {"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.1 status line"},
                {"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", "status 200 without a Content-Length"},
                {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "a Transfer-Encoding"},
                {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", "two Content-Length headers"},
                {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", "a bad Content-Length: '12a'"},
        };
        for (String[] c : cases) {
            IOException e = assertThrows(ResponseReader.BadResponseException.class,
                    () -> new ResponseReader().read(channel(c[0].getBytes(StandardCharsets.ISO_8859_1), 5)), c[0]);
            assertTrue(e.getMessage().startsWith(c[1]), e.getMessage());
        }
    }

    @Test
    void anEndInTheHeadOrBodyIsAnEofThatSaysWhere() {
        IOException head = assertThrows(EOFException.class,
                () -> new ResponseReader().read(channel("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.ISO_8859_1), 4)));
        assertEquals("the server closed the connection in the response head, after 17 bytes", head.getMessage());
        IOException body = assertThrows(EOFException.class,
                () -> new ResponseReader().read(channel(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 4), 4)));
        assertEquals("the server closed the connection with 6 of 10 body bytes to come", body.getMessage());
        IOException none = assertThrows(EOFException.class, () -> new ResponseReader().read(channel(new byte[0], 4)));
        assertEquals("the server closed the connection before the response", none.getMessage());
    }

    @Test
    void connectionCloseIsReported() throws IOException {
        ResponseReader r = new ResponseReader();
        assertEquals(503, r.read(channel(bytes("HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", 0), 9)));
        assertFalse(r.keepAlive());
        assertEquals(200, r.read(channel(bytes("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 0), 9)));
        assertTrue(r.keepAlive());
    }

    @Test
    void aHeadLongerThanTheBufferIsAnError() {
        byte[] b = bytes("HTTP/1.1 200 OK\r\nX: " + "y".repeat(ResponseReader.BUFFER_BYTES) + "\r\n\r\n", 0);
        assertThrows(ResponseReader.BadResponseException.class, () -> new ResponseReader().read(channel(b, 1 << 20)));
    }
}
