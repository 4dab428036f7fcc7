package dev.flexsc.io;

import dev.flexsc.io.IoTestSupport.On;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random operation sequences against the JDK's FileChannel and FlexscFileChannel, each on
 * its own copy of the same file: every result, buffer state, exception class and the final
 * file contents must agree. The seed is printed; rerun one with -Dflexsc.test.seed=N.
 */
class FileChannelDifferentialTest extends IoRuntimeTest {

    private static final StandardOpenOption[] OPTIONS = {StandardOpenOption.READ, StandardOpenOption.WRITE,
            StandardOpenOption.APPEND, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.CREATE,
            StandardOpenOption.CREATE_NEW, StandardOpenOption.DSYNC, StandardOpenOption.SPARSE};

    /** One side of the comparison: the channel under test and its helpers. */
    private record Side(FileChannel ch, Path file, FileChannel sink, Path sinkFile, FileChannel source) {}

    @FunctionalInterface
    private interface Op {
        String apply(Side s) throws Exception;
    }

    @ParameterizedTest
    @EnumSource(On.class)
    @Timeout(120)
    void randomSequencesAgreeWithTheJdk(On on) throws Exception {
        long base = Long.getLong("flexsc.test.seed", System.nanoTime());
        System.out.println("FileChannelDifferentialTest(" + on + ") seed=" + base);
        int sequences = 40, steps = 80;
        int[] opened = {0};
        on.run(rt, () -> {
            for (int i = 0; i < sequences; i++) {
                long seed = base + i;
                try {
                    if (sequence(seed, steps, "s" + i)) opened[0]++;
                } catch (AssertionError e) {
                    throw new AssertionError("seed " + seed + " (base " + base + ", sequence " + i + "): " + e.getMessage(), e);
                }
            }
            return null;
        });
        // The option mix must leave most sequences with an open channel, or little was compared.
        assertTrue(opened[0] >= sequences / 3, "only " + opened[0] + " of " + sequences + " sequences opened a channel");
    }

    /** Runs one sequence; returns whether the channels opened. */
    private boolean sequence(long seed, int steps, String name) throws Exception {
        Random r = new Random(seed);
        Path fj = dir.resolve(name + "-jdk"), ff = dir.resolve(name + "-flexsc");
        byte[] initial = bytes(r, r.nextInt(3) == 0 ? 0 : r.nextInt(20_000));
        if (r.nextInt(5) != 0) {
            Files.write(fj, initial);
            Files.write(ff, initial);
        }
        Set<OpenOption> opts = new HashSet<>();
        for (StandardOpenOption o : OPTIONS) if (r.nextInt(3) == 0) opts.add(o);
        if (r.nextBoolean()) opts.add(StandardOpenOption.WRITE);

        FileChannel jdk = null, mine = null;
        Throwable ej = null, em = null;
        try {
            jdk = FileChannel.open(fj, opts);
        } catch (Exception e) {
            ej = e;
        }
        try {
            mine = FlexscFileChannel.open(sys, ff, opts);
        } catch (Exception e) {
            em = e;
        }
        assertTrue(IoTestSupport.sameKind(ej, em), "open " + opts + ": jdk " + ej + " vs flexsc " + em);
        if (jdk == null) {
            assertNull(mine);
            return false;
        }
        byte[] src = bytes(r, 50_000);
        Files.write(dir.resolve(name + "-src-jdk"), src);
        Files.write(dir.resolve(name + "-src-flexsc"), src);
        Path sj = dir.resolve(name + "-sink-jdk"), sf = dir.resolve(name + "-sink-flexsc");
        try (FileChannel sinkJ = FileChannel.open(sj, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileChannel sinkF = FlexscFileChannel.open(sys, sf, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileChannel srcJ = FileChannel.open(dir.resolve(name + "-src-jdk"));
             FileChannel srcF = FlexscFileChannel.open(sys, dir.resolve(name + "-src-flexsc"))) {
            Side a = new Side(jdk, fj, sinkJ, sj, srcJ), b = new Side(mine, ff, sinkF, sf, srcF);
            List<String> log = new ArrayList<>();
            for (int k = 0; k < steps; k++) {
                long opSeed = r.nextLong();
                String desc = describe(new Random(opSeed));
                log.add(desc);
                String ra = outcome(op(new Random(opSeed)), a), rb = outcome(op(new Random(opSeed)), b);
                if (!agree(ra, rb)) {
                    fail("step " + k + " " + desc + " with " + opts + ":\n  jdk:    " + ra + "\n  flexsc: " + rb
                            + "\n  steps: " + log);
                }
            }
            jdk.close();
            mine.close();
            assertArrayEquals(read(fj), read(ff), "file contents differ after " + log);
            assertArrayEquals(Files.readAllBytes(sj), Files.readAllBytes(sf), "transferTo targets differ");
        } finally {
            jdk.close();
            mine.close();
        }
        return true;
    }

    private static byte[] read(Path p) throws Exception {
        return Files.exists(p) ? Files.readAllBytes(p) : new byte[0]; // DELETE_ON_CLOSE is not among OPTIONS
    }

    private static boolean agree(String a, String b) {
        if (a.equals(b)) return true;
        if (a.startsWith("!") && b.startsWith("!")) {
            try {
                Class<?> ca = Class.forName(a.substring(1).split(" ", 2)[0]);
                Class<?> cb = Class.forName(b.substring(1).split(" ", 2)[0]);
                return ca == cb || (ca.isAssignableFrom(cb) && (ca == java.io.IOException.class
                        || ca == java.nio.file.FileSystemException.class));
            } catch (ClassNotFoundException e) {
                return false;
            }
        }
        return false;
    }

    private static String outcome(Op op, Side s) {
        try {
            return op.apply(s);
        } catch (Exception | Error e) {
            if (e instanceof AssertionError) throw (AssertionError) e;
            return "!" + e.getClass().getName() + " " + e.getMessage();
        }
    }

    private static String describe(Random r) {
        return NAMES[r.nextInt(NAMES.length)];
    }

    private static final String[] NAMES = {"read", "pread", "write", "pwrite", "readv", "writev", "position",
            "setPosition", "size", "truncate", "force", "transferTo", "transferToStream", "transferFrom", "map",
            "tryLock", "readOnlyBuffer", "close"};

    /** The operation named by describe(r), with the rest of its parameters drawn from r. */
    private static Op op(Random r) {
        String name = describe(r);
        int size = r.nextInt(6) == 0 ? 0 : r.nextInt(9000);
        boolean direct = r.nextBoolean();
        long pos = r.nextInt(12) == 0 ? -1 - r.nextInt(3) : r.nextInt(25_000);
        byte[] data = bytes(r, size);
        long seed = r.nextLong();
        return switch (name) {
            case "read" -> s -> { ByteBuffer b = buf(size, direct, new Random(seed)); return s.ch.read(b) + show(b); };
            case "pread" -> s -> { ByteBuffer b = buf(size, direct, new Random(seed)); return s.ch.read(b, pos) + show(b); };
            case "write" -> s -> { ByteBuffer b = src(data, direct); return s.ch.write(b) + show(b); };
            case "pwrite" -> s -> { ByteBuffer b = src(data, direct); return s.ch.write(b, pos) + show(b); };
            case "readv" -> s -> {
                ByteBuffer[] bs = bufs(new Random(seed), false);
                return s.ch.read(bs, 0, bs.length) + show(bs);
            };
            case "writev" -> s -> {
                ByteBuffer[] bs = bufs(new Random(seed), true);
                return s.ch.write(bs, 0, bs.length) + show(bs);
            };
            case "position" -> s -> "" + s.ch.position();
            case "setPosition" -> s -> s.ch.position(pos) == s.ch ? "this " + s.ch.position() : "other";
            case "size" -> s -> "" + s.ch.size();
            case "truncate" -> s -> s.ch.truncate(pos) == s.ch ? "this " + s.ch.position() + " " + s.ch.size() : "other";
            case "force" -> s -> { s.ch.force(direct); return "ok"; };
            case "transferTo" -> s -> s.ch.transferTo(pos, size * 3L, s.sink) + " sink=" + s.sink.position();
            case "transferToStream" -> s -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long n = s.ch.transferTo(pos, size, Channels.newChannel(out));
                return n + " " + Arrays.hashCode(out.toByteArray());
            };
            case "transferFrom" -> s -> s.ch.transferFrom(s.source, pos, size * 2L) + " src=" + s.source.position();
            case "map" -> s -> {
                long len = Math.min(s.ch.size(), size);
                MappedByteBuffer m = s.ch.map(FileChannel.MapMode.READ_ONLY, 0, len);
                return m.capacity() + show(m);
            };
            case "tryLock" -> s -> {
                FileLock l = s.ch.tryLock(Math.max(0, pos), size, direct);
                if (l == null) return "null";
                String d = l.position() + "/" + l.size() + "/" + l.isShared() + "/" + l.isValid() + "/" + (l.channel() == s.ch);
                l.release();
                return d + "/" + l.isValid();
            };
            case "readOnlyBuffer" -> s -> s.ch.read(ByteBuffer.allocate(10).asReadOnlyBuffer()) + "";
            case "close" -> s -> {
                if (seed % 4 != 0) return "skipped";
                s.ch.close();
                return "closed " + s.ch.isOpen();
            };
            default -> throw new AssertionError(name);
        };
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static ByteBuffer buf(int size, boolean direct, Random r) {
        int cap = size + r.nextInt(16);
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(cap) : ByteBuffer.allocate(cap);
        b.position(cap - size); // a non-zero position checks that the data lands there
        return b;
    }

    private static ByteBuffer src(byte[] data, boolean direct) {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(data.length + 3) : ByteBuffer.allocate(data.length + 3);
        b.position(3);
        b.put(data);
        b.position(3);
        return b;
    }

    private static ByteBuffer[] bufs(Random r, boolean fill) {
        ByteBuffer[] bs = new ByteBuffer[r.nextInt(5)];
        for (int i = 0; i < bs.length; i++) {
            int n = r.nextInt(4) == 0 ? 0 : r.nextInt(5000);
            bs[i] = r.nextBoolean() ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
            if (fill) {
                byte[] d = bytes(r, n);
                bs[i].put(d).flip();
            }
        }
        return bs;
    }

    /** Position, limit and a hash of the whole buffer, so where bytes landed is compared too. */
    private static String show(ByteBuffer b) {
        byte[] all = new byte[b.capacity()];
        b.duplicate().clear().get(all);
        return " [" + b.position() + "/" + b.limit() + " " + Arrays.hashCode(all) + "]";
    }

    private static String show(ByteBuffer[] bs) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuffer b : bs) sb.append(show(b));
        return sb.toString();
    }
}
