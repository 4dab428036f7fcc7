package dev.flexsc;

/**
 * Linux errno values (x86-64 and every Linux architecture with the generic table): the one
 * Java home of their numbers, with each symbol and meaning for error messages. A raw kernel
 * result {@code r < 0} is {@code -errno}: compare it as {@code r == -Errno.EAGAIN}.
 * {@code LinuxConstantsConformanceTest} checks every value against the C library's
 * {@code <errno.h>}.
 */
public final class Errno {
    private Errno() {}

    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** No such process. */
    public static final int ESRCH = 3;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Input/output error. */
    public static final int EIO = 5;
    /** No such device or address. */
    public static final int ENXIO = 6;
    /** Argument list too long. */
    public static final int E2BIG = 7;
    /** Exec format error. */
    public static final int ENOEXEC = 8;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** No child processes. */
    public static final int ECHILD = 10;
    /** Resource temporarily unavailable. */
    public static final int EAGAIN = 11;
    /** Cannot allocate memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** Block device required. */
    public static final int ENOTBLK = 15;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** Invalid cross-device link. */
    public static final int EXDEV = 18;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Not a directory. */
    public static final int ENOTDIR = 20;
    /** Is a directory. */
    public static final int EISDIR = 21;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Too many open files in system. */
    public static final int ENFILE = 23;
    /** Too many open files. */
    public static final int EMFILE = 24;
    /** Inappropriate ioctl for device. */
    public static final int ENOTTY = 25;
    /** Text file busy. */
    public static final int ETXTBSY = 26;
    /** File too large. */
    public static final int EFBIG = 27;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Illegal seek. */
    public static final int ESPIPE = 29;
    /** Read-only file system. */
    public static final int EROFS = 30;
    /** Too many links. */
    public static final int EMLINK = 31;
    /** Broken pipe. */
    public static final int EPIPE = 32;
    /** Numerical argument out of domain. */
    public static final int EDOM = 33;
    /** Numerical result out of range. */
    public static final int ERANGE = 34;
    /** Resource deadlock avoided. */
    public static final int EDEADLK = 35;
    /** File name too long. */
    public static final int ENAMETOOLONG = 36;
    /** No locks available. */
    public static final int ENOLCK = 37;
    /** Function not implemented. */
    public static final int ENOSYS = 38;
    /** Directory not empty. */
    public static final int ENOTEMPTY = 39;
    /** Too many levels of symbolic links. */
    public static final int ELOOP = 40;
    /** No data available. */
    public static final int ENODATA = 61;
    /** Timer expired. */
    public static final int ETIME = 62;
    /** Protocol error. */
    public static final int EPROTO = 71;
    /** Value too large for defined data type. */
    public static final int EOVERFLOW = 75;
    /** Invalid or incomplete multibyte or wide character. */
    public static final int EILSEQ = 84;
    /** Socket operation on non-socket. */
    public static final int ENOTSOCK = 88;
    /** Destination address required. */
    public static final int EDESTADDRREQ = 89;
    /** Message too long. */
    public static final int EMSGSIZE = 90;
    /** Protocol wrong type for socket. */
    public static final int EPROTOTYPE = 91;
    /** Protocol not available. */
    public static final int ENOPROTOOPT = 92;
    /** Protocol not supported. */
    public static final int EPROTONOSUPPORT = 93;
    /** Socket type not supported. */
    public static final int ESOCKTNOSUPPORT = 94;
    /** Operation not supported. */
    public static final int EOPNOTSUPP = 95;
    /** Protocol family not supported. */
    public static final int EPFNOSUPPORT = 96;
    /** Address family not supported by protocol. */
    public static final int EAFNOSUPPORT = 97;
    /** Address already in use. */
    public static final int EADDRINUSE = 98;
    /** Cannot assign requested address. */
    public static final int EADDRNOTAVAIL = 99;
    /** Network is down. */
    public static final int ENETDOWN = 100;
    /** Network is unreachable. */
    public static final int ENETUNREACH = 101;
    /** Network dropped connection on reset. */
    public static final int ENETRESET = 102;
    /** Software caused connection abort. */
    public static final int ECONNABORTED = 103;
    /** Connection reset by peer. */
    public static final int ECONNRESET = 104;
    /** No buffer space available. */
    public static final int ENOBUFS = 105;
    /** Transport endpoint is already connected. */
    public static final int EISCONN = 106;
    /** Transport endpoint is not connected. */
    public static final int ENOTCONN = 107;
    /** Cannot send after transport endpoint shutdown. */
    public static final int ESHUTDOWN = 108;
    /** Connection timed out. */
    public static final int ETIMEDOUT = 110;
    /** Connection refused. */
    public static final int ECONNREFUSED = 111;
    /** Host is down. */
    public static final int EHOSTDOWN = 112;
    /** No route to host. */
    public static final int EHOSTUNREACH = 113;
    /** Operation already in progress. */
    public static final int EALREADY = 114;
    /** Operation now in progress. */
    public static final int EINPROGRESS = 115;
    /** Disk quota exceeded. */
    public static final int EDQUOT = 122;
    /** Operation canceled. */
    public static final int ECANCELED = 125;

    /** Highest value in the table + 1. */
    private static final String[][] TABLE = new String[126][];

    private static void e(int n, String sym, String msg) {
        TABLE[n] = new String[] {sym, msg};
    }

    static {
        e(EPERM, "EPERM", "operation not permitted");
        e(ENOENT, "ENOENT", "no such file or directory");
        e(ESRCH, "ESRCH", "no such process");
        e(EINTR, "EINTR", "interrupted system call");
        e(EIO, "EIO", "input/output error");
        e(ENXIO, "ENXIO", "no such device or address");
        e(E2BIG, "E2BIG", "argument list too long");
        e(ENOEXEC, "ENOEXEC", "exec format error");
        e(EBADF, "EBADF", "bad file descriptor");
        e(ECHILD, "ECHILD", "no child processes");
        e(EAGAIN, "EAGAIN", "resource temporarily unavailable");
        e(ENOMEM, "ENOMEM", "cannot allocate memory");
        e(EACCES, "EACCES", "permission denied");
        e(EFAULT, "EFAULT", "bad address");
        e(ENOTBLK, "ENOTBLK", "block device required");
        e(EBUSY, "EBUSY", "device or resource busy");
        e(EEXIST, "EEXIST", "file exists");
        e(EXDEV, "EXDEV", "invalid cross-device link");
        e(ENODEV, "ENODEV", "no such device");
        e(ENOTDIR, "ENOTDIR", "not a directory");
        e(EISDIR, "EISDIR", "is a directory");
        e(EINVAL, "EINVAL", "invalid argument");
        e(ENFILE, "ENFILE", "too many open files in system");
        e(EMFILE, "EMFILE", "too many open files");
        e(ENOTTY, "ENOTTY", "inappropriate ioctl for device");
        e(ETXTBSY, "ETXTBSY", "text file busy");
        e(EFBIG, "EFBIG", "file too large");
        e(ENOSPC, "ENOSPC", "no space left on device");
        e(ESPIPE, "ESPIPE", "illegal seek");
        e(EROFS, "EROFS", "read-only file system");
        e(EMLINK, "EMLINK", "too many links");
        e(EPIPE, "EPIPE", "broken pipe");
        e(EDOM, "EDOM", "numerical argument out of domain");
        e(ERANGE, "ERANGE", "numerical result out of range");
        e(EDEADLK, "EDEADLK", "resource deadlock avoided");
        e(ENAMETOOLONG, "ENAMETOOLONG", "file name too long");
        e(ENOLCK, "ENOLCK", "no locks available");
        e(ENOSYS, "ENOSYS", "function not implemented");
        e(ENOTEMPTY, "ENOTEMPTY", "directory not empty");
        e(ELOOP, "ELOOP", "too many levels of symbolic links");
        e(ENODATA, "ENODATA", "no data available");
        e(ETIME, "ETIME", "timer expired");
        e(EPROTO, "EPROTO", "protocol error");
        e(EOVERFLOW, "EOVERFLOW", "value too large for defined data type");
        e(EILSEQ, "EILSEQ", "invalid or incomplete multibyte or wide character");
        e(ENOTSOCK, "ENOTSOCK", "socket operation on non-socket");
        e(EDESTADDRREQ, "EDESTADDRREQ", "destination address required");
        e(EMSGSIZE, "EMSGSIZE", "message too long");
        e(EPROTOTYPE, "EPROTOTYPE", "protocol wrong type for socket");
        e(ENOPROTOOPT, "ENOPROTOOPT", "protocol not available");
        e(EPROTONOSUPPORT, "EPROTONOSUPPORT", "protocol not supported");
        e(ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", "socket type not supported");
        e(EOPNOTSUPP, "EOPNOTSUPP", "operation not supported");
        e(EPFNOSUPPORT, "EPFNOSUPPORT", "protocol family not supported");
        e(EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported by protocol");
        e(EADDRINUSE, "EADDRINUSE", "address already in use");
        e(EADDRNOTAVAIL, "EADDRNOTAVAIL", "cannot assign requested address");
        e(ENETDOWN, "ENETDOWN", "network is down");
        e(ENETUNREACH, "ENETUNREACH", "network is unreachable");
        e(ENETRESET, "ENETRESET", "network dropped connection on reset");
        e(ECONNABORTED, "ECONNABORTED", "software caused connection abort");
        e(ECONNRESET, "ECONNRESET", "connection reset by peer");
        e(ENOBUFS, "ENOBUFS", "no buffer space available");
        e(EISCONN, "EISCONN", "transport endpoint is already connected");
        e(ENOTCONN, "ENOTCONN", "transport endpoint is not connected");
        e(ESHUTDOWN, "ESHUTDOWN", "cannot send after transport endpoint shutdown");
        e(ETIMEDOUT, "ETIMEDOUT", "connection timed out");
        e(ECONNREFUSED, "ECONNREFUSED", "connection refused");
        e(EHOSTDOWN, "EHOSTDOWN", "host is down");
        e(EHOSTUNREACH, "EHOSTUNREACH", "no route to host");
        e(EALREADY, "EALREADY", "operation already in progress");
        e(EINPROGRESS, "EINPROGRESS", "operation now in progress");
        e(EDQUOT, "EDQUOT", "disk quota exceeded");
        e(ECANCELED, "ECANCELED", "operation canceled");
    }

    /** The symbol, e.g. {@code "EBADF"}, or {@code "errno N"} for an unknown value. */
    public static String symbol(int errno) {
        return errno > 0 && errno < TABLE.length && TABLE[errno] != null ? TABLE[errno][0] : "errno " + errno;
    }

    /** The meaning, e.g. {@code "bad file descriptor"}. */
    public static String meaning(int errno) {
        return errno > 0 && errno < TABLE.length && TABLE[errno] != null ? TABLE[errno][1] : "unknown error";
    }
}
