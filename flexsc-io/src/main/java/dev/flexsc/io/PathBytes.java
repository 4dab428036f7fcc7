package dev.flexsc.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The bytes the JDK's own file-system calls pass to the kernel for a {@link Path} of the
 * default file system: what FlexSC's path-based calls pass too, so that they act on the file
 * {@link java.nio.file.Files} acts on.
 *
 * <p>The JDK keeps a path as bytes (a file name as the kernel listed it, or a String encoded
 * with the JVM's file-name charset, {@code sun.jnu.encoding}); {@code toString()} decodes
 * them and replaces what that charset cannot decode. Encoding {@code toString()} again
 * therefore names another file for a name that is not valid in that charset: any non-ASCII
 * name under {@code LANG=C}, a name that is not UTF-8 under a UTF-8 locale. The one public
 * view of the exact bytes is the path's URI: {@link Path#toUri()} percent-encodes every byte
 * that is not a URI character, from the bytes themselves.
 *
 * <p>ASCII fast path: when {@code toString()} is all ASCII and the file-name charset decodes
 * each byte below 0x80 to that character and every other byte to a non-ASCII character
 * (UTF-8, US-ASCII, the ISO-8859 family: checked once at start-up), the bytes are those
 * characters. Otherwise the URI is used: it is built from the absolute path, and the JDK
 * stats the file to add a {@code /} to a directory's URI (one system call on the calling
 * thread); a relative path keeps its relative bytes (the default directory's prefix, taken
 * the same way once, is removed). As the JDK, an empty path is {@code "."}.
 */
final class PathBytes {
    private PathBytes() {}

    /** Whether an all-ASCII toString() is exactly the path's bytes in this JVM (see the class comment). */
    private static final boolean ASCII_EXACT = asciiExact(System.getProperty("sun.jnu.encoding", "UTF-8"));

    /** The default directory's bytes, ending with '/': the prefix toUri() gives a relative path. */
    private static volatile byte[] defaultDirectory;

    /** The bytes the JDK passes to the kernel for {@code p}, a path of the default file system. */
    static byte[] of(Path p) {
        String s = p.toString();
        if (s.isEmpty()) return new byte[] {'.'};
        if (ASCII_EXACT && isAscii(s)) return s.getBytes(StandardCharsets.ISO_8859_1);
        byte[] abs = fromUri(p);
        if (p.isAbsolute()) return abs;
        byte[] dir = defaultDirectory();
        if (!startsWith(abs, dir)) return abs; // cannot happen: toUri() resolves against it
        return java.util.Arrays.copyOfRange(abs, dir.length, abs.length);
    }

    /** The absolute path's bytes, from its URI (without the '/' toUri adds to a directory). */
    private static byte[] fromUri(Path p) {
        byte[] b = decode(p.toUri().getRawPath());
        if (b.length > 1 && b[b.length - 1] == '/') {
            return java.util.Arrays.copyOf(b, b.length - 1); // a Path's bytes end with '/' only for the root
        }
        return b;
    }

    private static byte[] defaultDirectory() {
        byte[] d = defaultDirectory;
        if (d == null) {
            d = decode(Path.of("").toUri().getRawPath()); // a directory: ends with '/'
            if (d.length == 0 || d[d.length - 1] != '/') {
                d = java.util.Arrays.copyOf(d, d.length + 1);
                d[d.length - 1] = '/';
            }
            defaultDirectory = d; // benign race: every thread computes the same bytes
        }
        return d;
    }

    /** Percent-decoding of a raw URI path: {@code %XX} is byte XX, every other character is ASCII. */
    private static byte[] decode(String raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
        for (int i = 0, n = raw.length(); i < n; i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < n) {
                out.write(Integer.parseInt(raw, i + 1, i + 3, 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }

    private static boolean isAscii(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            if (s.charAt(i) >= 0x80) return false;
        }
        return true;
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        if (a.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) {
            if (a[i] != prefix[i]) return false;
        }
        return true;
    }

    /**
     * True if {@code charset} maps bytes below 0x80 to themselves and every other byte to a
     * non-ASCII character: then an all-ASCII decoded name came from exactly those bytes.
     */
    static boolean asciiExact(String charset) {
        Charset cs;
        try {
            cs = Charset.forName(charset);
        } catch (RuntimeException unknown) {
            return false;
        }
        if (cs.equals(StandardCharsets.UTF_8)) return true; // any byte >= 0x80 is part of a non-ASCII char or replaced
        CharsetDecoder d = cs.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        if (d.maxCharsPerByte() != 1 || cs.newEncoder().maxBytesPerChar() != 1) return false; // multi-byte or stateful
        for (int b = 0; b < 256; b++) {
            CharBuffer c;
            try {
                c = d.reset().decode(ByteBuffer.wrap(new byte[] {(byte) b}));
            } catch (java.nio.charset.CharacterCodingException e) {
                return false;
            }
            if (c.length() != 1) return false;
            char ch = c.get(0);
            if (b < 0x80 ? ch != b : ch < 0x80) return false;
        }
        return true;
    }
}
