package dev.flexsc.io;

import dev.flexsc.Flexsc;
import dev.flexsc.io.IoTestSupport.On;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random sequences of FlexscFiles calls against the same java.nio.file.Files calls, each in
 * its own directory with the same few file names: results, exception classes and the
 * directories' contents must agree after every step. Seeded and printed
 * ({@code -Dflexsc.test.seed=N}). FlexscFiles uses the default engine here (Flexsc.syscalls()).
 */
class FilesDifferentialTest extends IoRuntimeTest {

    /** The two implementations behind one interface. */
    private interface Api {
        byte[] readAllBytes(Path p) throws Exception;
        String readString(Path p) throws Exception;
        Path write(Path p, byte[] b, OpenOption... o) throws Exception;
        Path writeString(Path p, CharSequence s, OpenOption... o) throws Exception;
        Path writeLines(Path p, List<String> lines, OpenOption... o) throws Exception;
        InputStream in(Path p, OpenOption... o) throws Exception;
        OutputStream out(Path p, OpenOption... o) throws Exception;
        Path copy(Path a, Path b, CopyOption... o) throws Exception;
        long copyIn(InputStream in, Path b, CopyOption... o) throws Exception;
        long copyOut(Path a, OutputStream out) throws Exception;
    }

    private static final Api JDK = new Api() {
        public byte[] readAllBytes(Path p) throws Exception { return Files.readAllBytes(p); }
        public String readString(Path p) throws Exception { return Files.readString(p); }
        public Path write(Path p, byte[] b, OpenOption... o) throws Exception { return Files.write(p, b, o); }
        public Path writeString(Path p, CharSequence s, OpenOption... o) throws Exception { return Files.writeString(p, s, o); }
        public Path writeLines(Path p, List<String> l, OpenOption... o) throws Exception { return Files.write(p, l, o); }
        public InputStream in(Path p, OpenOption... o) throws Exception { return Files.newInputStream(p, o); }
        public OutputStream out(Path p, OpenOption... o) throws Exception { return Files.newOutputStream(p, o); }
        public Path copy(Path a, Path b, CopyOption... o) throws Exception { return Files.copy(a, b, o); }
        public long copyIn(InputStream in, Path b, CopyOption... o) throws Exception { return Files.copy(in, b, o); }
        public long copyOut(Path a, OutputStream out) throws Exception { return Files.copy(a, out); }
    };

    private static final Api FLEXSC = new Api() {
        public byte[] readAllBytes(Path p) throws Exception { return FlexscFiles.readAllBytes(p); }
        public String readString(Path p) throws Exception { return FlexscFiles.readString(p); }
        public Path write(Path p, byte[] b, OpenOption... o) throws Exception { return FlexscFiles.write(p, b, o); }
        public Path writeString(Path p, CharSequence s, OpenOption... o) throws Exception { return FlexscFiles.writeString(p, s, o); }
        public Path writeLines(Path p, List<String> l, OpenOption... o) throws Exception { return FlexscFiles.write(p, l, o); }
        public InputStream in(Path p, OpenOption... o) throws Exception { return FlexscFiles.newInputStream(p, o); }
        public OutputStream out(Path p, OpenOption... o) throws Exception { return FlexscFiles.newOutputStream(p, o); }
        public Path copy(Path a, Path b, CopyOption... o) throws Exception { return FlexscFiles.copy(a, b, o); }
        public long copyIn(InputStream in, Path b, CopyOption... o) throws Exception { return FlexscFiles.copy(in, b, o); }
        public long copyOut(Path a, OutputStream out) throws Exception { return FlexscFiles.copy(a, out); }
    };

    private static final String[] NAMES = {"a", "b", "c", "d"};
    private static final StandardOpenOption[] OPEN = {StandardOpenOption.CREATE, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.APPEND, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE,
            StandardOpenOption.READ, StandardOpenOption.SYNC};

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(120)
    void randomSequencesAgreeWithFiles(On on) throws Exception {
        long base = Long.getLong("flexsc.test.seed", System.nanoTime());
        System.out.println("FilesDifferentialTest(" + on + ") seed=" + base);
        Path dj = Files.createDirectory(dir.resolve("jdk")), df = Files.createDirectory(dir.resolve("flexsc"));
        on.run(rt, () -> {
            Random r = new Random(base);
            List<String> log = new ArrayList<>();
            for (int k = 0; k < 300; k++) {
                long s = r.nextLong();
                String a = outcome(JDK, dj, new Random(s), log), b = outcome(FLEXSC, df, new Random(s), null);
                if (!agree(a, b)) fail("seed " + base + " step " + k + " " + log.getLast() + ":\n  jdk:    " + a
                        + "\n  flexsc: " + b + "\n  steps: " + log);
                assertEquals(listing(dj), listing(df), "seed " + base + " step " + k + " " + log.getLast());
            }
            return null;
        });
    }

    private static String outcome(Api api, Path d, Random r, List<String> log) {
        Path p = d.resolve(NAMES[r.nextInt(NAMES.length)]), q = d.resolve(NAMES[r.nextInt(NAMES.length)]);
        int op = r.nextInt(11);
        OpenOption[] opts = new OpenOption[r.nextInt(3)];
        for (int i = 0; i < opts.length; i++) opts[i] = OPEN[r.nextInt(OPEN.length)];
        byte[] data = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(300_000)];
        r.nextBytes(data);
        if (r.nextBoolean()) data = ("text " + r.nextInt() + "\n").repeat(r.nextInt(50)).getBytes(StandardCharsets.UTF_8);
        CopyOption[] copts = r.nextBoolean() ? new CopyOption[] {StandardCopyOption.REPLACE_EXISTING} : new CopyOption[0];
        if (log != null) log.add(op + " " + p.getFileName() + " " + q.getFileName() + " " + Arrays.toString(opts)
                + " " + data.length + " " + Arrays.toString(copts));
        try {
            return switch (op) {
                case 0 -> "" + Arrays.hashCode(api.readAllBytes(p));
                case 1 -> "" + api.readString(p).hashCode();
                case 2 -> api.write(p, data, opts).getFileName().toString();
                case 3 -> api.writeString(p, new String(data, StandardCharsets.ISO_8859_1), opts).getFileName().toString();
                case 4 -> api.writeLines(p, List.of("x", "yy", "\u00e9\u20ac"), opts).getFileName().toString();
                case 5 -> {
                    try (InputStream in = api.in(p, opts)) {
                        long skipped = in.skip(r.nextInt(1000));
                        byte[] first = in.readNBytes(r.nextInt(5000));
                        yield skipped + " " + Arrays.hashCode(first) + " " + in.available() + " " + Arrays.hashCode(in.readAllBytes());
                    }
                }
                case 6 -> {
                    try (OutputStream out = api.out(p, opts)) {
                        out.write(data, 0, data.length / 2);
                        out.write(7);
                        out.write(data, data.length / 2, data.length - data.length / 2);
                    }
                    yield "ok";
                }
                case 7 -> api.copy(p, q, copts).getFileName().toString();
                case 8 -> "" + api.copyIn(new ByteArrayInputStream(data), q, copts);
                case 9 -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    yield api.copyOut(p, out) + " " + Arrays.hashCode(out.toByteArray());
                }
                case 10 -> { // a lone surrogate: writeString must refuse it (and leave the file alone)
                    yield api.writeString(p, "bad \ud800 text").getFileName().toString();
                }
                default -> throw new AssertionError(op);
            };
        } catch (Exception e) {
            return "!" + e.getClass().getName();
        }
    }

    private static boolean agree(String a, String b) {
        if (a.equals(b)) return true;
        if (!a.startsWith("!") || !b.startsWith("!")) return false;
        try {
            Class<?> ca = Class.forName(a.substring(1)), cb = Class.forName(b.substring(1));
            return ca.isAssignableFrom(cb) && (ca == java.io.IOException.class || ca == java.nio.file.FileSystemException.class);
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static TreeMap<String, Integer> listing(Path d) throws Exception {
        TreeMap<String, Integer> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(d)) {
            for (Path p : s.toList()) m.put(p.getFileName().toString(), Arrays.hashCode(Files.readAllBytes(p)));
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(60)
    void streamsAreNotClosedByAnInterruptAsTheJdksAreNot(On on) throws Exception {
        Path f = Files.write(dir.resolve("s-" + on), "hello stream".getBytes(StandardCharsets.US_ASCII));
        String[] got = on.run(rt, () -> {
            String[] r = new String[2];
            Api[] apis = {JDK, FLEXSC};
            for (int i = 0; i < 2; i++) {
                try (InputStream in = apis[i].in(f)) {
                    byte[] first = in.readNBytes(6);
                    Thread.currentThread().interrupt();
                    byte[] rest = in.readAllBytes(); // an interruptible channel would be closed here
                    r[i] = new String(first) + new String(rest) + " interrupted=" + Thread.interrupted();
                }
            }
            return r;
        });
        assertEquals("hello stream interrupted=true", got[0]);
        assertEquals(got[0], got[1]);
    }

    @Test
    @Timeout(60)
    void invalidUtf8IsRefusedByBoth() throws Exception {
        Path f = dir.resolve("bad");
        Files.write(f, new byte[] {'o', 'k', (byte) 0xC3});
        Exception jdk = assertThrows(Exception.class, () -> Files.readString(f));
        Exception mine = assertThrows(Exception.class, () -> FlexscFiles.readString(f));
        assertEquals(jdk.getClass(), mine.getClass());
        assertNotNull(Flexsc.syscalls());
    }
}
