package dev.flexsc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The fields of {@code struct stat} (x86-64 layout), as fstat(2) and fstatat(2) return them. */
public record Stat(long dev, long ino, long nlink, int mode, int uid, int gid, long rdev, long size,
                   long blksize, long blocks, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec,
                   long ctimeSec, long ctimeNsec) {
    /** sizeof(struct stat) on x86-64. */
    public static final int SIZE = 144;

    /** Reads a native {@code struct stat}. */
    public static Stat from(MemorySegment s) {
        return new Stat(s.get(ValueLayout.JAVA_LONG, 0), s.get(ValueLayout.JAVA_LONG, 8),
                s.get(ValueLayout.JAVA_LONG, 16), s.get(ValueLayout.JAVA_INT, 24), s.get(ValueLayout.JAVA_INT, 28),
                s.get(ValueLayout.JAVA_INT, 32), s.get(ValueLayout.JAVA_LONG, 40), s.get(ValueLayout.JAVA_LONG, 48),
                s.get(ValueLayout.JAVA_LONG, 56), s.get(ValueLayout.JAVA_LONG, 64), s.get(ValueLayout.JAVA_LONG, 72),
                s.get(ValueLayout.JAVA_LONG, 80), s.get(ValueLayout.JAVA_LONG, 88), s.get(ValueLayout.JAVA_LONG, 96),
                s.get(ValueLayout.JAVA_LONG, 104), s.get(ValueLayout.JAVA_LONG, 112));
    }

    /** True for a regular file (S_IFREG). */
    public boolean isRegularFile() {
        return (mode & 0170000) == 0100000;
    }

    /** What this file's kind says for the call policy's reads and writes ({@link FdKind#of}). */
    public FdKind fdKind() {
        return FdKind.of(mode, rdev);
    }

    /** The major number of device number {@code rdev} (the kernel's new_encode_dev layout, as glibc's major() reads it). */
    public static long major(long rdev) {
        return ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
    }

    /** The minor number of device number {@code rdev} (as glibc's minor() reads it). */
    public static long minor(long rdev) {
        return (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
    }

    /** True for a directory (S_IFDIR). */
    public boolean isDirectory() {
        return (mode & 0170000) == 0040000;
    }
}
