package dev.flexsc.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The JDK {@code FileChannel} that a {@link FlexscFileChannel}'s locks and mappings go
 * through: opened on {@code /proc/self/fd/N}, N being the FlexSC channel's descriptor (so the
 * same inode, even after a rename or an unlink such as DELETE_ON_CLOSE, with the channel's
 * access modes), on first use, and closed with the FlexSC channel.
 *
 * <p>Thread-safe.
 */
final class ProcFdChannel {
    private final ChannelFd fd;
    private final Set<StandardOpenOption> modes = EnumSet.noneOf(StandardOpenOption.class);
    /** Guards {@link #jdk}. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Null until first needed. */
    private FileChannel jdk;

    ProcFdChannel(ChannelFd fd, boolean readable, boolean writable) {
        this.fd = fd;
        if (readable) modes.add(StandardOpenOption.READ);
        if (writable) modes.add(StandardOpenOption.WRITE);
    }

    /**
     * The JDK channel, opened now if it was not yet.
     *
     * @throws java.nio.channels.ClosedChannelException if the descriptor is closed
     */
    FileChannel get() throws IOException {
        lock.lock();
        try {
            // The open holds a reference on the descriptor, under the lock: see close().
            if (jdk == null) jdk = fd.call(f -> PlatformFiles.openFileChannel("/proc/self/fd/" + f, modes));
            return jdk;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the JDK channel, if one was opened, releasing its locks. Called after the
     * descriptor was marked closed: {@link #get()} opens only holding a reference on it, under
     * the lock, so no channel is opened after this, and one being opened is seen here.
     */
    void close() throws IOException {
        FileChannel c;
        lock.lock();
        try {
            c = jdk;
        } finally {
            lock.unlock();
        }
        if (c != null) c.close();
    }

    /** A lock of the JDK channel presented as a lock of {@code channel}. */
    static FileLock lockOf(FileChannel channel, FileLock jdkLock) {
        return new DelegatedLock(channel, jdkLock);
    }

    private static final class DelegatedLock extends FileLock {
        private final FileLock jdk;

        DelegatedLock(FileChannel channel, FileLock jdk) {
            super(channel, jdk.position(), jdk.size(), jdk.isShared());
            this.jdk = jdk;
        }

        @Override
        public boolean isValid() {
            return jdk.isValid();
        }

        @Override
        public void release() throws IOException {
            jdk.release();
        }
    }
}
