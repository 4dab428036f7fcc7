package dev.flexsc;

/**
 * The {@code dirfd} and {@code flags} of the {@code *at} calls ({@link Syscalls#openat},
 * {@link Syscalls#fstatat}, {@link Syscalls#statx}, {@link Syscalls#unlinkat},
 * {@link Syscalls#mkdirat}, {@link Syscalls#renameat2}; {@code <fcntl.h>}, x86-64 values).
 * {@code LinuxConstantsConformanceTest} checks every value against the C library's headers.
 */
public final class AtFlags {
    private AtFlags() {}

    /** The {@code dirfd} meaning "relative to the current directory". */
    public static final int AT_FDCWD = -100;
    /** fstatat, statx: do not follow a symbolic link in the last component. */
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    /** unlinkat: remove a directory (as rmdir) instead of a file. */
    public static final int AT_REMOVEDIR = 0x200;
    /** Follow a symbolic link in the last component (linkat). */
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    /** fstatat, statx: do not trigger an automount of the last component. */
    public static final int AT_NO_AUTOMOUNT = 0x800;
    /** fstatat, statx: an empty path means {@code dirfd} itself. */
    public static final int AT_EMPTY_PATH = 0x1000;
    /** statx: synchronise the attributes with the server (network file systems). */
    public static final int AT_STATX_FORCE_SYNC = 0x2000;
    /** statx: do not synchronise; cached attributes will do. */
    public static final int AT_STATX_DONT_SYNC = 0x4000;
}
