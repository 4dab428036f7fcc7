package dev.flexsc.io;

import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import static dev.flexsc.PollFlags.POLLIN;
import static dev.flexsc.PollFlags.POLLOUT;
import static dev.flexsc.io.NetFd.*;

/**
 * A {@link Pipe} over pipe2(2) whose two ends are FlexSC channels, in blocking and
 * non-blocking mode, selectable by a FlexSC selector: what {@code Pipe.open()} returns when
 * {@link FlexscSelectorProvider} is the JVM's provider. Reads are read(2) (readv(2) for
 * several buffers), writes write(2) (writev(2)); both descriptors are O_NONBLOCK and an end
 * in blocking mode waits for readiness through the engine, as the socket channels do.
 *
 * <p>Close: a pipe has no shutdown(2), so closing an end wakes a thread blocked in it by
 * cancelling its readiness wait, which every engine does for a posted wait. A wait the call
 * policy made directly on a platform thread ({@code DIRECT}) is not cancellable and ends when
 * the pipe becomes ready. Closing the sink makes the source read the end of the stream once
 * the sink's descriptor is closed (after its last operation and selector registration).
 */
final class FlexscPipe extends Pipe {
    private final Source source;
    private final Sink sink;

    private FlexscPipe(Source source, Sink sink) {
        this.source = source;
        this.sink = sink;
    }

    static FlexscPipe open(FlexscSelectorProvider p) throws IOException {
        int[] fds = p.syscalls().pipe2(dev.flexsc.OpenFlags.O_NONBLOCK | dev.flexsc.OpenFlags.O_CLOEXEC);
        return new FlexscPipe(new Source(p, fds[0]), new Sink(p, fds[1]));
    }

    @Override
    public SourceChannel source() {
        return source;
    }

    @Override
    public SinkChannel sink() {
        return sink;
    }

    /** One transfer attempt: a count, or a status of {@link NetFd}. */
    @FunctionalInterface
    private interface Attempt {
        long run() throws IOException;
    }

    /** A pipe end as the selector sees it: the descriptor and readiness of its {@link End}. */
    private interface EndFd extends SelectableFd {
        End end();

        @Override
        default ChannelFd channelFd() {
            return end().net.fd;
        }

        @Override
        default int translateInterestOps(int ops) {
            return end().interestEvents(ops);
        }

        @Override
        default int translateReadyOps(int revents, int interestOps) {
            return end().readyOps(revents, interestOps);
        }
    }

    /**
     * What the two ends share, whose JDK superclasses differ ({@link SourceChannel},
     * {@link SinkChannel}): the descriptor, the lock that serializes transfers, and the one
     * readiness event and selection operation of the end's direction.
     */
    private static final class End {
        final NetFd net;
        /** Held by a transfer; configureBlocking takes it to wait for one in flight, as the JDK does. */
        final ReentrantLock lock = new ReentrantLock();
        private final int event;
        private final int op;
        private final String name;

        End(FlexscSelectorProvider p, int fd, int event, int op, String name) {
            this.net = new NetFd(p.syscalls(), fd, p.counters);
            this.event = event;
            this.op = op;
            this.name = name;
            p.counters.channels.increment();
        }

        int interestEvents(int ops) {
            return (ops & op) != 0 ? event : 0;
        }

        int readyOps(int revents, int interestOps) {
            return (revents & event) != 0 && (interestOps & op) != 0 ? op : 0;
        }

        void awaitTransferInFlight() {
            lock.lock();
            lock.unlock();
        }

        String describe(boolean open) {
            return "FlexscPipe." + name + "[fd=" + net.fdVal() + (open ? "" : ", closed") + "]";
        }
    }

    /** The read end. */
    static final class Source extends SourceChannel implements EndFd {
        private final End end;
        private final NetFd net;

        Source(FlexscSelectorProvider p, int fd) {
            super(p);
            this.end = new End(p, fd, POLLIN, SelectionKey.OP_READ, "Source");
            this.net = end.net;
        }

        @Override
        public End end() {
            return end;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            Objects.requireNonNull(dst);
            if (dst.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
            return (int) run(() -> !dst.hasRemaining() ? 0 : RawIo.read(dst,
                    (addr, len) -> net.call(SyscallTable.READ, addr, len, 0, 0, 0)), dst.hasRemaining(), "read");
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            ByteBuffer[] bufs = RawIo.withRemaining(dsts, offset, length, true);
            return run(() -> bufs.length == 0 ? 0 : RawIo.read(bufs,
                    (msg, iov, count) -> net.call(SyscallTable.READV, iov, count, 0, 0, 0)), bufs.length > 0, "readv");
        }

        @Override
        public long read(ByteBuffer[] dsts) throws IOException {
            return read(dsts, 0, dsts.length);
        }

        private long run(Attempt a, boolean wantsBytes, String call) throws IOException {
            end.lock.lock();
            try {
                if (!isOpen()) throw new ClosedChannelException();
                boolean blocking = isBlocking();
                long n = 0;
                try {
                    if (blocking) begin();
                    if (!isOpen()) throw new ClosedChannelException();
                    n = a.run();
                    if (blocking) {
                        while ((n == UNAVAILABLE || n == INTERRUPTED) && isOpen()) {
                            net.await(POLLIN, -1);
                            n = a.run();
                        }
                    }
                    if (isError(n)) throw new dev.flexsc.ErrnoException(call + "(fd=" + net.fdVal() + ")", errno(n));
                } finally {
                    if (blocking) end(n > 0 || (wantsBytes && n == 0));
                }
                if (wantsBytes && n == 0) return -1; // read(2) returned 0: every writer closed
                return n > 0 ? n : 0;
            } finally {
                end.lock.unlock();
            }
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            net.close(false);
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            end.awaitTransferInFlight();
        }

        @Override
        public String toString() {
            return end.describe(isOpen());
        }
    }

    /** The write end. */
    static final class Sink extends SinkChannel implements EndFd {
        private final End end;
        private final NetFd net;

        Sink(FlexscSelectorProvider p, int fd) {
            super(p);
            this.end = new End(p, fd, POLLOUT, SelectionKey.OP_WRITE, "Sink");
            this.net = end.net;
        }

        @Override
        public End end() {
            return end;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            Objects.requireNonNull(src);
            return (int) run(() -> !src.hasRemaining() ? 0 : RawIo.write(src,
                    (addr, len) -> net.call(SyscallTable.WRITE, addr, len, 0, 0, 0)), src::hasRemaining);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            ByteBuffer[] bufs = RawIo.withRemaining(srcs, offset, length, false);
            return run(() -> {
                ByteBuffer[] left = RawIo.withRemaining(bufs, 0, bufs.length, false);
                return left.length == 0 ? 0 : RawIo.write(left,
                        (msg, iov, count) -> net.call(SyscallTable.WRITEV, iov, count, 0, 0, 0));
            }, () -> {
                for (ByteBuffer b : bufs) if (b.hasRemaining()) return true;
                return false;
            });
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        /**
         * One attempt in non-blocking mode; in blocking mode attempts and readiness waits until
         * nothing remains (a blocking pipe's write). EPIPE (no reader) is an IOException, and
         * with MSG_NOSIGNAL unavailable for write(2) the JVM's ignored SIGPIPE keeps it one.
         */
        private long run(Attempt a, java.util.function.BooleanSupplier remaining) throws IOException {
            end.lock.lock();
            try {
                if (!isOpen()) throw new ClosedChannelException();
                boolean blocking = isBlocking();
                long total = 0, n = 0;
                try {
                    if (blocking) begin();
                    if (!isOpen()) throw new ClosedChannelException();
                    while (true) {
                        n = a.run();
                        if (n > 0) {
                            total += n;
                            if (!blocking || !remaining.getAsBoolean()) break;
                            continue;
                        }
                        if ((n == UNAVAILABLE || n == INTERRUPTED) && blocking && isOpen()) {
                            net.await(POLLOUT, -1);
                            continue;
                        }
                        break;
                    }
                    if (total == 0 && isError(n)) throw new dev.flexsc.ErrnoException("write(fd=" + net.fdVal() + ")", errno(n));
                } finally {
                    if (blocking) end(total > 0);
                }
                return total;
            } finally {
                end.lock.unlock();
            }
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            net.close(false);
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            end.awaitTransferInFlight();
        }

        @Override
        public String toString() {
            return end.describe(isOpen());
        }
    }
}
