package dev.flexsc;

import java.io.IOException;

/**
 * A system call returned an error. The message names the call, its main
 * arguments, the errno symbol and its meaning, e.g.
 * {@code write(fd=7): EBADF, bad file descriptor}.
 */
public class ErrnoException extends IOException {
    private final int errno;
    private final String call;

    public ErrnoException(String call, int errno) {
        super(call + ": " + Errno.symbol(errno) + ", " + Errno.meaning(errno));
        this.errno = errno;
        this.call = call;
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }

    /** The call as described in the message, e.g. {@code write(fd=7)}. */
    public String call() {
        return call;
    }
}
