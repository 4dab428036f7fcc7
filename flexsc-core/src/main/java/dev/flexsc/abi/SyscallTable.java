package dev.flexsc.abi;

import dev.flexsc.RefusedCallException;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The allow-list: the one Java table of system calls that may run exception-less,
 * identical to {@code flexsc_calls.h} (checked by a test against the compiled
 * library). x86-64 numbers.
 *
 * <p>Only calls that behave the same from any thread of the process belong here.
 * Everything else is refused before submission, and refused again by the engines.
 *
 * <p>Also the one Java home of every other system call number the code uses: the calls
 * FlexSC makes only directly (its control plane: mmap, fcntl, io_uring_setup...) and the
 * refused calls it names in messages. They are not on the allow-list ({@link #lookup}
 * returns null for them). {@code LinuxConstantsConformanceTest} checks every number against
 * {@code <sys/syscall.h>}.
 */
public final class SyscallTable {
    private SyscallTable() {}

    /** Flag: the call may block without bound (pipes, sockets, FIFOs). */
    public static final int MAY_BLOCK = 1;
    /**
     * Flag: the call returns without waiting for anything (no I/O, no other task), so posting
     * it can only cost more than making it: the default call policy always makes it directly
     * (getrandom only without {@link #GRND_RANDOM}, see {@link Call#neverBlocks(long)}).
     */
    public static final int NEVER_BLOCKS = 2;
    /** getrandom's flag for the blocking pool: such a call may wait (the {@link #NEVER_BLOCKS} exception). */
    public static final int GRND_RANDOM = 2;

    /**
     * One allow-listed call.
     *
     * @param flags  {@link #MAY_BLOCK}, {@link #NEVER_BLOCKS}; shared with {@code flexsc_calls.h}
     * @param fdArgs bit {@code i} set: argument {@code i} is a file descriptor (Java only: what
     *               an engine checks against the descriptors it owns, see
     *               {@link dev.flexsc.spi.OwnedFds})
     */
    public record Call(int nr, String name, int flags, int fdArgs) {
        /** A call with no descriptor argument. */
        public Call(int nr, String name, int flags) {
            this(nr, name, flags, 0);
        }

        public boolean mayBlock() {
            return (flags & MAY_BLOCK) != 0;
        }

        /**
         * True if this call, with {@code a2} its third argument, returns without waiting for
         * anything ({@link #NEVER_BLOCKS}; getrandom only without {@link #GRND_RANDOM}).
         */
        public boolean neverBlocks(long a2) {
            return (flags & NEVER_BLOCKS) != 0 && (nr != GETRANDOM || (a2 & GRND_RANDOM) == 0);
        }

        /** True if argument {@code i} (0..5) is a file descriptor. */
        public boolean isFdArg(int i) {
            return (fdArgs & (1 << i)) != 0;
        }
    }

    /** fdArgs: the first argument is a descriptor; the first and second; the first and third. */
    private static final int FD0 = 1, FD01 = 3, FD02 = 5;

    public static final int READ = 0, WRITE = 1, CLOSE = 3, FSTAT = 5, LSEEK = 8, PREAD64 = 17,
            PWRITE64 = 18, READV = 19, WRITEV = 20, MADVISE = 28, GETPID = 39, SENDFILE = 40,
            SOCKET = 41, CONNECT = 42, SENDTO = 44, RECVFROM = 45, SENDMSG = 46, RECVMSG = 47,
            SHUTDOWN = 48, BIND = 49, LISTEN = 50, SETSOCKOPT = 54, GETSOCKOPT = 55, UNAME = 63,
            FSYNC = 74, FDATASYNC = 75, FTRUNCATE = 77, GETUID = 102, GETGID = 104, GETPPID = 110,
            GETDENTS64 = 217, FADVISE64 = 221, OPENAT = 257, MKDIRAT = 258, NEWFSTATAT = 262,
            UNLINKAT = 263, SPLICE = 275, FALLOCATE = 285, ACCEPT4 = 288, RENAMEAT2 = 316,
            GETRANDOM = 318, STATX = 332;

    // Not allow-listed: made only directly, or refused (named in the refusal's message).
    public static final int MMAP = 9, MUNMAP = 11, RT_SIGACTION = 13, RT_SIGPROCMASK = 14, RT_SIGRETURN = 15,
            MINCORE = 27, GETSOCKNAME = 51, SOCKETPAIR = 53, CLONE = 56, FORK = 57, VFORK = 58, EXECVE = 59,
            EXIT = 60, KILL = 62, FCNTL = 72, PRCTL = 157, ARCH_PRCTL = 158, GETTID = 186, TKILL = 200,
            FUTEX = 202, SET_TID_ADDRESS = 218, EXIT_GROUP = 231, TGKILL = 234, PIPE2 = 293,
            EVENTFD2 = 290, IO_URING_SETUP = 425, IO_URING_ENTER = 426, IO_URING_REGISTER = 427, CLONE3 = 435;

    /**
     * The most bytes read(2), write(2) and the socket calls move in one call (MAX_RW_COUNT in
     * include/linux/fs.h: INT_MAX rounded down to a page): a longer request moves this many.
     */
    public static final long MAX_RW_COUNT = 0x7ffff000L;

    /** Highest allow-listed number + 1 (FLEXSC_NR_LIMIT). */
    public static final int NR_LIMIT = 333;

    private static final Call[] BY_NR = new Call[NR_LIMIT];
    private static final Map<Integer, Call> ALL = new LinkedHashMap<>();

    private static void c(int nr, String name, int flags) {
        c(nr, name, flags, 0);
    }

    private static void c(int nr, String name, int flags, int fdArgs) {
        Call call = new Call(nr, name, flags, fdArgs);
        BY_NR[nr] = call;
        ALL.put(nr, call);
    }

    static {
        c(READ, "read", MAY_BLOCK, FD0);
        c(WRITE, "write", MAY_BLOCK, FD0);
        c(CLOSE, "close", 0, FD0);
        c(FSTAT, "fstat", NEVER_BLOCKS, FD0);
        c(LSEEK, "lseek", NEVER_BLOCKS, FD0);
        c(PREAD64, "pread64", 0, FD0);
        c(PWRITE64, "pwrite64", 0, FD0);
        c(READV, "readv", MAY_BLOCK, FD0);
        c(WRITEV, "writev", MAY_BLOCK, FD0);
        c(MADVISE, "madvise", 0);
        c(GETPID, "getpid", NEVER_BLOCKS);
        c(SENDFILE, "sendfile", MAY_BLOCK, FD01);
        c(SOCKET, "socket", NEVER_BLOCKS);
        c(CONNECT, "connect", MAY_BLOCK, FD0);
        c(SENDTO, "sendto", MAY_BLOCK, FD0);
        c(RECVFROM, "recvfrom", MAY_BLOCK, FD0);
        c(SENDMSG, "sendmsg", MAY_BLOCK, FD0);
        c(RECVMSG, "recvmsg", MAY_BLOCK, FD0);
        c(SHUTDOWN, "shutdown", NEVER_BLOCKS, FD0);
        c(BIND, "bind", NEVER_BLOCKS, FD0);
        c(LISTEN, "listen", NEVER_BLOCKS, FD0);
        c(SETSOCKOPT, "setsockopt", NEVER_BLOCKS, FD0);
        c(GETSOCKOPT, "getsockopt", NEVER_BLOCKS, FD0);
        c(UNAME, "uname", NEVER_BLOCKS);
        c(FSYNC, "fsync", 0, FD0);
        c(FDATASYNC, "fdatasync", 0, FD0);
        c(FTRUNCATE, "ftruncate", 0, FD0);
        c(GETUID, "getuid", NEVER_BLOCKS);
        c(GETGID, "getgid", NEVER_BLOCKS);
        c(GETPPID, "getppid", NEVER_BLOCKS);
        c(GETDENTS64, "getdents64", 0, FD0);
        c(FADVISE64, "fadvise64", 0, FD0);
        c(OPENAT, "openat", MAY_BLOCK, FD0);
        c(MKDIRAT, "mkdirat", 0, FD0);
        c(NEWFSTATAT, "newfstatat", 0, FD0);
        c(UNLINKAT, "unlinkat", 0, FD0);
        c(SPLICE, "splice", MAY_BLOCK, FD02);
        c(FALLOCATE, "fallocate", 0, FD0);
        c(ACCEPT4, "accept4", MAY_BLOCK, FD0);
        c(RENAMEAT2, "renameat2", 0, FD02);
        c(GETRANDOM, "getrandom", NEVER_BLOCKS);
        c(STATX, "statx", 0, FD0);
    }

    /** Well-known refused calls, for messages that say why. */
    private static final Map<Integer, String> REFUSED_NAMES = Map.ofEntries(
            Map.entry(MMAP, "mmap"), Map.entry(MUNMAP, "munmap"), Map.entry(RT_SIGACTION, "rt_sigaction"),
            Map.entry(RT_SIGPROCMASK, "rt_sigprocmask"), Map.entry(RT_SIGRETURN, "rt_sigreturn"),
            Map.entry(CLONE, "clone"), Map.entry(FORK, "fork"), Map.entry(VFORK, "vfork"),
            Map.entry(EXECVE, "execve"), Map.entry(EXIT, "exit"), Map.entry(KILL, "kill"),
            Map.entry(PRCTL, "prctl"), Map.entry(ARCH_PRCTL, "arch_prctl"), Map.entry(GETTID, "gettid"),
            Map.entry(TKILL, "tkill"), Map.entry(FUTEX, "futex"), Map.entry(SET_TID_ADDRESS, "set_tid_address"),
            Map.entry(EXIT_GROUP, "exit_group"), Map.entry(TGKILL, "tgkill"), Map.entry(CLONE3, "clone3"));

    /** The allow-listed call with this number, or null. */
    public static Call lookup(int nr) {
        return nr >= 0 && nr < NR_LIMIT ? BY_NR[nr] : null;
    }

    /** True if {@code nr} may run exception-less. */
    public static boolean isAllowed(int nr) {
        return nr >= 0 && nr < NR_LIMIT && BY_NR[nr] != null;
    }

    /** Every allow-listed call, in table order. */
    public static Map<Integer, Call> all() {
        return Collections.unmodifiableMap(ALL);
    }

    /** The name of any call number we know, allowed or refused, for messages. */
    public static String name(int nr) {
        Call c = lookup(nr);
        if (c != null) return c.name();
        return REFUSED_NAMES.getOrDefault(nr, "syscall " + nr);
    }

    /**
     * Returns the call for {@code nr}, or throws {@link RefusedCallException} saying why
     * it cannot run exception-less.
     */
    public static Call require(int nr) {
        Call c = lookup(nr);
        if (c != null) return c;
        String name = REFUSED_NAMES.get(nr);
        if (name != null) {
            throw new RefusedCallException(nr, name + " (" + nr + ") is refused by FlexSC: it is tied to the calling"
                    + " thread or to the life of the process, so it must not run on a syscall thread; call it directly");
        }
        throw new RefusedCallException(nr, "syscall " + nr + " is not on FlexSC's allow-list"
                + " (file and socket I/O, getpid, getppid, getuid, getgid, uname, getrandom, madvise, fadvise64)");
    }
}
