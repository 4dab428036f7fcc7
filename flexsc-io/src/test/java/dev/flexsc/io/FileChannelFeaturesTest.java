package dev.flexsc.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;

/** The parts the differential test does not reach: delete-on-close, locks across channels, mapping, big buffers. */
class FileChannelFeaturesTest extends IoRuntimeTest {

    @Test
    @Timeout(30)
    void deleteOnCloseUnlinksAndTheChannelStillWorks() throws Exception {
        Path f = dir.resolve("tmp");
        try (FlexscFileChannel ch = FlexscFileChannel.open(sys, f, CREATE_NEW, WRITE, READ, DELETE_ON_CLOSE)) {
            assertFalse(Files.exists(f), "unlinked at open, as the JDK on Unix");
            ch.write(ByteBuffer.wrap("still here".getBytes()));
            ByteBuffer b = ByteBuffer.allocate(10);
            assertEquals(10, ch.read(b, 0));
            assertEquals("still here", new String(b.array()));
            // map and lock reopen /proc/self/fd/N, which works for an unlinked file too.
            assertEquals('s', ch.map(FileChannel.MapMode.READ_ONLY, 0, 10).get(0));
            try (FileLock l = ch.lock()) {
                assertTrue(l.isValid());
            }
        }
    }

    /**
     * A channel whose engine closed first still closes its descriptor (directly: a closed
     * engine refuses every call, and the descriptor is the channel's): none is left open on
     * the file once the channel is closed.
     */
    @Test
    @Timeout(60)
    void closeAfterTheEngineClosedStillReleasesTheDescriptor() throws Exception {
        Path f = Files.write(dir.resolve("outlives-engine"), new byte[] {1});
        String target = f.toRealPath().toString();
        dev.flexsc.FlexscEngine engine = dev.flexsc.nativeimpl.TestSupport.openEngine(dev.flexsc.nativeimpl.TestSupport.config());
        FlexscFileChannel ch = FlexscFileChannel.open(engine, f, READ);
        assertEquals(1, fdsOn(target), "the channel's descriptor");
        engine.close();
        assertThrows(dev.flexsc.EngineClosedException.class, () -> ch.read(ByteBuffer.allocate(1)));
        ch.close();
        assertFalse(ch.isOpen());
        assertEquals(0, fdsOn(target), "the descriptor must be closed, not leaked with the engine");
    }

    /** Descriptors of this process open on {@code target} now. */
    private static long fdsOn(String target) throws java.io.IOException {
        long n = 0;
        try (var fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals(target)) n++;
                } catch (java.io.IOException closedMeanwhile) {
                    // another thread's descriptor, closed between the listing and the read
                }
            }
        }
        return n;
    }

    @Test
    @Timeout(30)
    void openErrorsAreTheJdksPathExceptions() throws Exception {
        Path missing = dir.resolve("no/such/file");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FlexscFileChannel.open(sys, missing));
        assertEquals(missing.toString(), e.getFile());
        assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
        assertInstanceOf(dev.flexsc.ErrnoException.class, e.getCause());
        Path f = Files.createFile(dir.resolve("exists"));
        assertThrows(FileAlreadyExistsException.class, () -> FlexscFileChannel.open(sys, f, CREATE_NEW, WRITE));
        assertThrows(IllegalArgumentException.class, () -> FlexscFileChannel.open(sys, f, READ, APPEND));
        assertThrows(IllegalArgumentException.class, () -> FlexscFileChannel.open(sys, f, APPEND, TRUNCATE_EXISTING));
        assertThrows(UnsupportedOperationException.class, () -> FlexscFileChannel.open(sys, f,
                java.util.Set.of(WRITE), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.util.Set.of()), new java.nio.file.attribute.FileAttribute<String>() {
                    public String name() { return "acl:acl"; }
                    public String value() { return ""; }
                }));
        Path link = Files.createSymbolicLink(dir.resolve("link"), f);
        assertThrows(java.nio.file.FileSystemException.class,
                () -> FlexscFileChannel.open(sys, link, READ, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    @Timeout(30)
    void locksConflictWithTheJdksChannelsAndAreReleasedOnClose() throws Exception {
        Path f = Files.write(dir.resolve("locked"), new byte[100]);
        FlexscFileChannel ch = FlexscFileChannel.open(sys, f, READ, WRITE);
        FileLock l = ch.lock(0, 50, false);
        assertSame(ch, l.channel());
        try (FileChannel jdk = FileChannel.open(f, READ, WRITE)) {
            // Same JVM: the JDK's lock table sees our lock through the delegate.
            assertThrows(OverlappingFileLockException.class, () -> jdk.tryLock(10, 10, false));
            assertNotNull(jdk.tryLock(60, 10, false), "a lock beyond ours");
        }
        ch.close();
        assertFalse(l.isValid(), "closing the channel releases its locks");
        try (FileChannel jdk = FileChannel.open(f, READ, WRITE); FileLock again = jdk.tryLock(0, 50, false)) {
            assertNotNull(again);
        }
    }

    @Test
    @Timeout(30)
    void aMappingSeesWritesMadeThroughFlexsc() throws Exception {
        Path f = Files.write(dir.resolve("mapped"), new byte[8192]);
        try (FlexscFileChannel ch = FlexscFileChannel.open(sys, f, READ, WRITE)) {
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, 0, 8192);
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 4096);
            assertEquals(2, m.get(4097));
            m.put(0, (byte) 9);
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, 0);
            assertEquals(9, b.get(0));
            // A mapped buffer is direct: FlexSC reads into it in place.
            assertEquals(3, ch.read(m.slice(100, 3), 4096));
            assertEquals(3, m.get(102));
        }
    }

    @Test
    @Timeout(60)
    void buffersLargerThanThePoolAndMoreThanIovMax() throws Exception {
        Path f = dir.resolve("big");
        byte[] data = new byte[3 << 20];
        new Random(5).nextBytes(data);
        try (FlexscFileChannel ch = FlexscFileChannel.open(sys, f, CREATE, READ, WRITE)) {
            assertEquals(data.length, ch.write(ByteBuffer.wrap(data))); // one 3 MiB heap write: its own arena
            ByteBuffer back = ByteBuffer.allocate(data.length);
            assertEquals(data.length, ch.read(back, 0));
            assertArrayEquals(data, back.array());
            // 1500 small buffers: as the JDK, one call takes the first IOV_MAX (1024) of them.
            ByteBuffer[] many = new ByteBuffer[1500];
            for (int i = 0; i < many.length; i++) many[i] = ByteBuffer.wrap(new byte[] {(byte) i});
            ch.position(0);
            assertEquals(1024, ch.write(many));
            assertEquals(0, many[1024].position());
            ByteBuffer check = ByteBuffer.allocate(1024);
            ch.read(check, 0);
            for (int i = 0; i < 1024; i++) assertEquals((byte) i, check.get(i));
            try (FileChannel jdk = FileChannel.open(f, WRITE)) {
                for (ByteBuffer b : many) b.rewind();
                assertEquals(1024, jdk.write(many), "the JDK agrees on IOV_MAX");
            }
        }
        assertTrue(Arrays.equals(Arrays.copyOfRange(data, 1024, 2048), Arrays.copyOfRange(Files.readAllBytes(f), 1024, 2048)));
    }

    @Test
    @Timeout(30)
    void transferToAnAppendTargetFallsBackFromSendfile() throws Exception {
        Path src = Files.write(dir.resolve("src"), "0123456789".getBytes());
        Path dst = Files.write(dir.resolve("dst"), "ab".getBytes());
        try (FlexscFileChannel in = FlexscFileChannel.open(sys, src);
             FlexscFileChannel out = FlexscFileChannel.open(sys, dst, StandardOpenOption.APPEND)) {
            assertEquals(7, in.transferTo(3, 100, out));
        }
        assertEquals("ab3456789", Files.readString(dst));
    }
}
