package dev.flexsc;

/**
 * What the caller knows about the file a descriptor names, for the {@link CallPolicy#ADAPTIVE}
 * decision on its reads and writes ({@link Syscalls#withFdKind}). A read or write of a
 * descriptor of unknown kind may wait for it to become ready (an empty pipe, a full socket
 * buffer), so ADAPTIVE first tries it in a form that never waits ({@code RWF_NOWAIT}) and
 * posts it only if it would wait; that try costs more than the plain call on the same file
 * (docs/io.md, "Call policies", point 6). A caller that owns the descriptor and knows its
 * kind says so, and the engine skips the try.
 *
 * <p>The kind is the caller's promise for the duration of each call: the descriptor must stay
 * open and name a file of that kind until the call returns (a channel that owns its
 * descriptor keeps it so). A wrong promise costs no memory safety and no wrong result, but a
 * plain read or write of a pipe or socket on a green thread may then block its carrier.
 */
public enum FdKind {
    /** Not known: ADAPTIVE tries a read or write without waiting first (the default). */
    UNKNOWN,
    /**
     * A regular file, a block device, or a memory device ({@code /dev/null}, {@code /dev/zero},
     * {@code /dev/full}, {@code /dev/random}, {@code /dev/urandom}): a read or write never
     * waits for the file to become ready; it may wait for a disk. ADAPTIVE treats its read,
     * write, readv and writev as it treats {@code pread64} and {@code pwrite64}: made directly
     * with the plain call, or posted where a post is a hand-off to another core and the carrier
     * says posting pays.
     */
    ALWAYS_READY;

    /**
     * The kind of a file from its {@code st_mode} and {@code st_rdev} (as {@link Stat} holds
     * them): {@link #ALWAYS_READY} for a regular file, a block device and the memory devices
     * (character major 1, minors 3, 5, 7, 8, 9), else {@link #UNKNOWN}.
     */
    public static FdKind of(int mode, long rdev) {
        int type = mode & S_IFMT;
        if (type == S_IFREG || type == S_IFBLK) return ALWAYS_READY;
        if (type != S_IFCHR) return UNKNOWN;
        long major = Stat.major(rdev), minor = Stat.minor(rdev);
        boolean memory = major == MEM_MAJOR
                && (minor == NULL_MINOR || minor == ZERO_MINOR || minor == FULL_MINOR || minor == RANDOM_MINOR
                    || minor == URANDOM_MINOR);
        return memory ? ALWAYS_READY : UNKNOWN;
    }

    private static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFBLK = 0060000, S_IFCHR = 0020000;
    /** drivers/char/mem.c: the memory devices, whose read and write never wait. */
    private static final int MEM_MAJOR = 1, NULL_MINOR = 3, ZERO_MINOR = 5, FULL_MINOR = 7, RANDOM_MINOR = 8,
            URANDOM_MINOR = 9;
}
