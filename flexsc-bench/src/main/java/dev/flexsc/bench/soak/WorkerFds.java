package dev.flexsc.bench.soak;

import dev.flexsc.OpenFlags;
import dev.flexsc.Syscalls;
import dev.flexsc.io.FlexscFileChannel;
import dev.flexsc.io.FlexscServerSocketChannel;
import dev.flexsc.io.FlexscSocketChannel;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * A {@link Worker}'s own descriptors: the data and scratch files, a pipe, a
 * {@link FlexscFileChannel} and a connected pair of socket channels, each opened through the
 * worker's target on first use (each open booked as an operation), and its region of the
 * scratch file. {@link #closeAll()} closes them directly, since the target may be closed.
 *
 * <p>Confined to the worker's thread.
 */
final class WorkerFds {
    /** Opening one of the worker's own descriptors failed (booked as an operation). */
    static final class Setup extends RuntimeException {
        Setup(Throwable cause) {
            super(cause);
        }
    }

    private final Run run;
    private final Target target;
    private final Syscalls sys;
    /** Begins the operation of an open. */
    private final Function<String, Op> begin;
    /** Books an open that failed (it makes a descriptor, and may block). */
    private final BiConsumer<Op, Throwable> failed;

    private int dataFd = -1, scratchFd = -1;
    private int[] pipe;
    private FlexscFileChannel channel;
    private FlexscServerSocketChannel server;
    private FlexscSocketChannel client, peer;
    /** Descriptors opened through the target, closed directly at the end (the target may be closed). */
    private final List<Integer> fds = new ArrayList<>();
    /** This worker's region of the scratch file (see {@link Run#takeRegion()}), or -1 before its first write. */
    private int region = -1;

    WorkerFds(Run run, Target target, Function<String, Op> begin, BiConsumer<Op, Throwable> failed) {
        this.run = run;
        this.target = target;
        this.sys = target.sys;
        this.begin = begin;
        this.failed = failed;
    }

    private int open(String path, int flags) {
        Op op = begin.apply("openat(" + (flags == OpenFlags.O_RDONLY ? "data" : "scratch") + ")");
        try {
            int fd = sys.openat(Syscalls.AT_FDCWD, path, flags | OpenFlags.O_CLOEXEC, 0600);
            fds.add(fd);
            op.ok();
            return fd;
        } catch (IOException | RuntimeException e) {
            failed.accept(op, e);
            throw new Setup(e);
        }
    }

    /** The data file, read-only. */
    int dataFd() {
        if (dataFd < 0) dataFd = open(run.data.path.toString(), OpenFlags.O_RDONLY);
        return dataFd;
    }

    /** The scratch file, read-write. */
    int scratchFd() {
        if (scratchFd < 0) scratchFd = open(run.dir.resolve("scratch").toString(), OpenFlags.O_RDWR | OpenFlags.O_CREAT);
        return scratchFd;
    }

    /** The offset of this worker's region of the scratch file, taken on first use. */
    long regionOffset() {
        if (region < 0) region = run.takeRegion();
        return (long) region * Worker.SCRATCH_REGION;
    }

    /** {read end, write end} of the worker's pipe (made directly). */
    int[] pipe() {
        if (pipe == null) pipe = Sys.pipe(0);
        return pipe;
    }

    /** A FlexscFileChannel on the data file. */
    FlexscFileChannel channel() {
        if (channel == null) {
            Op op = begin.apply("FlexscFileChannel.open");
            try {
                channel = FlexscFileChannel.open(target.engine, run.data.path, StandardOpenOption.READ);
                op.ok();
            } catch (IOException | RuntimeException e) {
                failed.accept(op, e);
                throw new Setup(e);
            }
        }
        return channel;
    }

    /** Closes the channel after a failed call; the next use opens a new one. */
    void dropChannel() {
        closeQuietly(channel);
        channel = null;
    }

    /** Connects the socket pair if it is not. */
    void sockets() {
        if (peer != null) return;
        Op op = begin.apply("socket+bind+listen+connect+accept4");
        try {
            if (server == null) {
                server = FlexscServerSocketChannel.open(target.sys);
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
            }
            client = FlexscSocketChannel.open(target.sys);
            client.connect(server.getLocalAddress());
            peer = server.accept();
            op.ok();
        } catch (IOException | RuntimeException e) {
            failed.accept(op, e);
            closeSockets();
            closeQuietly(server);
            server = null;
            throw new Setup(e);
        }
    }

    /** The connecting end of the pair ({@link #sockets()} first). */
    FlexscSocketChannel client() {
        return client;
    }

    /** The accepted end of the pair ({@link #sockets()} first). */
    FlexscSocketChannel peer() {
        return peer;
    }

    /** Closes the socket pair after a failed call; the next use connects a new one. */
    void closeSockets() {
        closeQuietly(client);
        closeQuietly(peer);
        client = peer = null;
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException | RuntimeException ignored) {
            // closing after a fault: what matters was booked already
        }
    }

    /** Closes everything, directly where the target may be closed, and gives the region back. */
    void closeAll() {
        closeSockets();
        closeQuietly(server);
        closeQuietly(channel);
        server = null;
        channel = null;
        for (int fd : fds) Sys.close(fd);
        fds.clear();
        dataFd = scratchFd = -1;
        if (pipe != null) {
            for (int fd : pipe) Sys.close(fd);
            pipe = null;
        }
        if (region >= 0) {
            run.giveBackRegion(region);
            region = -1;
        }
    }
}
