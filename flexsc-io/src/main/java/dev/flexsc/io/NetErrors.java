package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;

/**
 * The exceptions the socket and pipe channels throw for a failed call, as the JDK's channels
 * throw them: {@code java.net} exceptions where the JDK throws one (a refused connect, a reset
 * connection, a bind to an address in use), otherwise an {@link ErrnoException} (an
 * IOException naming the call and the errno, where the JDK throws a plain IOException). The
 * cause of a translated exception is the ErrnoException.
 */
final class NetErrors {
    private NetErrors() {}

    /**
     * Loads this class. {@link NetFd}, which every socket and pipe channel has, calls it as it
     * loads: a class read from a class directory needs a descriptor to load, and a call that
     * failed with EMFILE leaves none to load its error path with.
     */
    static void load() {
        // nothing more: calling it loads and initialises the class
    }

    /** The exception of {@code call} on a socket, which failed with {@code errno}. */
    static IOException of(String call, int errno) {
        return translate(new ErrnoException(call, errno));
    }

    /** {@code e} as the JDK's socket channels report its errno. */
    static IOException translate(IOException e) {
        if (!(e instanceof ErrnoException ee)) return e;
        IOException x = switch (ee.errno()) {
            case Errno.ECONNREFUSED -> new ConnectException("Connection refused");
            case Errno.ETIMEDOUT -> new ConnectException("Connection timed out");
            case Errno.ENETUNREACH, Errno.EHOSTUNREACH -> new NoRouteToHostException(ee.getMessage());
            default -> null;
        };
        if (x == null) return e;
        x.initCause(e);
        return x;
    }

    /** A receive that failed with ECONNRESET: the JDK's {@code SocketException("Connection reset")}. */
    static SocketException connectionReset(String call) {
        SocketException x = new SocketException("Connection reset");
        x.initCause(new ErrnoException(call, Errno.ECONNRESET));
        return x;
    }

    /** bind(2)'s errors: BindException for an address in use, not available or not permitted, as the JDK. */
    static IOException bind(int errno, InetSocketAddress isa) {
        ErrnoException e = new ErrnoException("bind(" + isa + ")", errno);
        if (errno == Errno.EADDRINUSE || errno == Errno.EACCES || errno == Errno.EADDRNOTAVAIL) {
            BindException b = new BindException(e.getMessage());
            b.initCause(e);
            return b;
        }
        return translate(e);
    }
}
