package dev.flexsc.spi;

/**
 * Ordinary system calls on the calling thread, for the {@linkplain dev.flexsc.CallPolicy call
 * policies}: what an engine runs instead of posting. Supplied by an engine module that can
 * make native calls (flexsc-native's {@code DirectSyscalls}); flexsc-core cannot.
 */
public interface DirectPath extends SyscallInvoker {
    /**
     * {@code read(fd, buf, len)} ({@code write == false}) or {@code write(fd, buf, len)} that
     * never waits: {@code preadv2}/{@code pwritev2} at the file position with
     * {@code RWF_NOWAIT}. Returns the raw result: {@code -EAGAIN} where the call would have
     * to wait, {@code -EOPNOTSUPP} where the file does not support it; a write may take
     * only part of the buffer. A read of a regular file or block device that
     * {@code RWF_NOWAIT} stopped at a page not in the cache is finished with a plain read
     * (which waits only for the disk), as read(2) returns the whole range.
     */
    long readWriteNowait(boolean write, long fd, long buf, long len);

    /**
     * The kind of the file {@code fd} names now, asked of the kernel (fstat(2), one system
     * call): {@link dev.flexsc.FdKind#of}, or {@link dev.flexsc.FdKind#UNKNOWN} if fstat fails.
     * Right only until the descriptor is closed: callers ask it for the call they are making.
     */
    dev.flexsc.FdKind fdKind(long fd);
}
