package dev.flexsc;

/**
 * Linux errno values (x86-64 and every Linux architecture with the generic table):
 * symbol and meaning, for error messages.
 */
public final class Errno {
    private Errno() {}

    private static final String[][] TABLE = new String[134][];

    private static void e(int n, String sym, String msg) {
        TABLE[n] = new String[] {sym, msg};
    }

    static {
        e(1, "EPERM", "operation not permitted");
        e(2, "ENOENT", "no such file or directory");
        e(3, "ESRCH", "no such process");
        e(4, "EINTR", "interrupted system call");
        e(5, "EIO", "input/output error");
        e(6, "ENXIO", "no such device or address");
        e(7, "E2BIG", "argument list too long");
        e(8, "ENOEXEC", "exec format error");
        e(9, "EBADF", "bad file descriptor");
        e(10, "ECHILD", "no child processes");
        e(11, "EAGAIN", "resource temporarily unavailable");
        e(12, "ENOMEM", "cannot allocate memory");
        e(13, "EACCES", "permission denied");
        e(14, "EFAULT", "bad address");
        e(15, "ENOTBLK", "block device required");
        e(16, "EBUSY", "device or resource busy");
        e(17, "EEXIST", "file exists");
        e(18, "EXDEV", "invalid cross-device link");
        e(19, "ENODEV", "no such device");
        e(20, "ENOTDIR", "not a directory");
        e(21, "EISDIR", "is a directory");
        e(22, "EINVAL", "invalid argument");
        e(23, "ENFILE", "too many open files in system");
        e(24, "EMFILE", "too many open files");
        e(25, "ENOTTY", "inappropriate ioctl for device");
        e(26, "ETXTBSY", "text file busy");
        e(27, "EFBIG", "file too large");
        e(28, "ENOSPC", "no space left on device");
        e(29, "ESPIPE", "illegal seek");
        e(30, "EROFS", "read-only file system");
        e(31, "EMLINK", "too many links");
        e(32, "EPIPE", "broken pipe");
        e(33, "EDOM", "numerical argument out of domain");
        e(34, "ERANGE", "numerical result out of range");
        e(35, "EDEADLK", "resource deadlock avoided");
        e(36, "ENAMETOOLONG", "file name too long");
        e(37, "ENOLCK", "no locks available");
        e(38, "ENOSYS", "function not implemented");
        e(39, "ENOTEMPTY", "directory not empty");
        e(40, "ELOOP", "too many levels of symbolic links");
        e(61, "ENODATA", "no data available");
        e(62, "ETIME", "timer expired");
        e(75, "EOVERFLOW", "value too large for defined data type");
        e(84, "EILSEQ", "invalid or incomplete multibyte or wide character");
        e(88, "ENOTSOCK", "socket operation on non-socket");
        e(89, "EDESTADDRREQ", "destination address required");
        e(90, "EMSGSIZE", "message too long");
        e(91, "EPROTOTYPE", "protocol wrong type for socket");
        e(92, "ENOPROTOOPT", "protocol not available");
        e(93, "EPROTONOSUPPORT", "protocol not supported");
        e(94, "ESOCKTNOSUPPORT", "socket type not supported");
        e(95, "EOPNOTSUPP", "operation not supported");
        e(96, "EPFNOSUPPORT", "protocol family not supported");
        e(97, "EAFNOSUPPORT", "address family not supported by protocol");
        e(98, "EADDRINUSE", "address already in use");
        e(99, "EADDRNOTAVAIL", "cannot assign requested address");
        e(100, "ENETDOWN", "network is down");
        e(101, "ENETUNREACH", "network is unreachable");
        e(102, "ENETRESET", "network dropped connection on reset");
        e(103, "ECONNABORTED", "software caused connection abort");
        e(104, "ECONNRESET", "connection reset by peer");
        e(105, "ENOBUFS", "no buffer space available");
        e(106, "EISCONN", "transport endpoint is already connected");
        e(107, "ENOTCONN", "transport endpoint is not connected");
        e(108, "ESHUTDOWN", "cannot send after transport endpoint shutdown");
        e(110, "ETIMEDOUT", "connection timed out");
        e(111, "ECONNREFUSED", "connection refused");
        e(112, "EHOSTDOWN", "host is down");
        e(113, "EHOSTUNREACH", "no route to host");
        e(114, "EALREADY", "operation already in progress");
        e(115, "EINPROGRESS", "operation now in progress");
        e(122, "EDQUOT", "disk quota exceeded");
        e(125, "ECANCELED", "operation canceled");
    }

    public static final int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11,
            ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENOTDIR = 20,
            EISDIR = 21, EINVAL = 22, ESPIPE = 29, EPIPE = 32, ENOSYS = 38, ENOTEMPTY = 39,
            ENOTSOCK = 88, EOPNOTSUPP = 95, ECONNREFUSED = 111, ECANCELED = 125;

    /** The symbol, e.g. {@code "EBADF"}, or {@code "errno N"} for an unknown value. */
    public static String symbol(int errno) {
        return errno > 0 && errno < TABLE.length && TABLE[errno] != null ? TABLE[errno][0] : "errno " + errno;
    }

    /** The meaning, e.g. {@code "bad file descriptor"}. */
    public static String meaning(int errno) {
        return errno > 0 && errno < TABLE.length && TABLE[errno] != null ? TABLE[errno][1] : "unknown error";
    }
}
