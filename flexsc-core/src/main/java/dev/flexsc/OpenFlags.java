package dev.flexsc;

/**
 * The {@code flags} of {@link Syscalls#openat} (openat(2), {@code <fcntl.h>}, x86-64 values;
 * every Linux architecture with the generic table shares them). Combine them with {@code |}:
 *
 * <pre>{@code
 * import static dev.flexsc.OpenFlags.*;
 * int fd = sys.openat(AtFlags.AT_FDCWD, "/tmp/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
 * }</pre>
 *
 * {@code LinuxConstantsConformanceTest} checks every value against the C library's headers.
 */
public final class OpenFlags {
    private OpenFlags() {}

    /** Open for reading only (an access mode: exactly one of the three). */
    public static final int O_RDONLY = 0;
    /** Open for writing only. */
    public static final int O_WRONLY = 1;
    /** Open for reading and writing. */
    public static final int O_RDWR = 2;
    /** The bits of the access mode. */
    public static final int O_ACCMODE = 3;
    /** Create the file if it does not exist (the {@code mode} argument applies then). */
    public static final int O_CREAT = 0100;
    /** With {@link #O_CREAT}: fail with EEXIST if the file exists. */
    public static final int O_EXCL = 0200;
    /** A terminal opened does not become the controlling terminal. */
    public static final int O_NOCTTY = 0400;
    /** Truncate a regular file opened for writing to length 0. */
    public static final int O_TRUNC = 01000;
    /** Every write appends at the end of the file. */
    public static final int O_APPEND = 02000;
    /** Calls that would wait fail with EAGAIN instead (pipes, sockets, FIFOs; not regular files). */
    public static final int O_NONBLOCK = 04000;
    /** Writes return once the data (not all metadata) is on stable storage. */
    public static final int O_DSYNC = 010000;
    /** I/O bypasses the page cache (alignment rules apply). */
    public static final int O_DIRECT = 040000;
    /** Fail with ENOTDIR unless the path is a directory. */
    public static final int O_DIRECTORY = 0200000;
    /** Fail with ELOOP if the last path component is a symbolic link. */
    public static final int O_NOFOLLOW = 0400000;
    /** Reads do not update the access time. */
    public static final int O_NOATIME = 01000000;
    /** The descriptor is closed on execve (recommended for every descriptor). */
    public static final int O_CLOEXEC = 02000000;
    /** Writes return once data and metadata are on stable storage. */
    public static final int O_SYNC = 04010000;
    /** A descriptor for the path only (no I/O). */
    public static final int O_PATH = 010000000;
    /** An unnamed temporary file in the directory given as the path. */
    public static final int O_TMPFILE = 020200000;
}
