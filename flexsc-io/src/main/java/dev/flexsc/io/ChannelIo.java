package dev.flexsc.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.util.Arrays;

/**
 * The buffer side of a channel operation, shared by the file and socket channels: a
 * direct {@link ByteBuffer} is handed to the kernel in place (its remaining bytes as a
 * {@link MemorySegment}); a heap one goes through a {@link NativeBuffers} lease, copied in
 * before a write and out after a read.
 */
final class ChannelIo {
    private ChannelIo() {}

    /** IOV_MAX on Linux: at most this many buffers per readv/writev, as the JDK. */
    static final int IOV_MAX = 1024;

    /** One system call on a channel's file descriptor; returns the kernel's non-negative result. */
    @FunctionalInterface
    interface FdCall {
        long run(int fd) throws IOException;
    }

    /** A call over one native buffer. */
    @FunctionalInterface
    interface BufferCall {
        long run(int fd, MemorySegment buf) throws IOException;
    }

    /** A call over several native buffers (readv, writev, sendmsg). */
    @FunctionalInterface
    interface VectorCall {
        long run(int fd, MemorySegment[] bufs) throws IOException;
    }

    /** An operation's body, run under one of the channel's locks. */
    @FunctionalInterface
    interface Op {
        long run() throws IOException;
    }

    /** A channel's operation bracket: fd reference, begin/end, close and interrupt handling. */
    interface Runner {
        /**
         * Runs {@code call} on the channel's fd between begin() and end(); {@code completedAtLeast}
         * is the smallest result that counts as "the operation had an effect" for end().
         */
        long io(FdCall call, long completedAtLeast) throws IOException;
    }

    /** Reads into {@code dst}'s remaining bytes; returns the count, -1 at end of stream, 0 if it has no room. */
    static int read(Runner ch, ByteBuffer dst, BufferCall call) throws IOException {
        if (!dst.hasRemaining()) return 0;
        long n = transfer(ch, dst, call, false);
        return n == 0 ? -1 : (int) n;
    }

    /** Writes {@code src}'s remaining bytes with one call; returns the count written. */
    static int write(Runner ch, ByteBuffer src, BufferCall call) throws IOException {
        if (!src.hasRemaining()) return 0;
        return (int) transfer(ch, src, call, true);
    }

    /**
     * One call over {@code buf}'s remaining bytes, which it reads into ({@code toKernel}
     * false) or writes from; advances the position by the result.
     */
    private static long transfer(Runner ch, ByteBuffer buf, BufferCall call, boolean toKernel) throws IOException {
        int rem = buf.remaining();
        long n;
        if (buf.isDirect()) {
            MemorySegment s = MemorySegment.ofBuffer(buf);
            try {
                n = checked(ch.io(fd -> call.run(fd, s), 1));
            } finally {
                Reference.reachabilityFence(buf); // the kernel used its memory
            }
        } else {
            try (NativeBuffers.Lease l = NativeBuffers.take(rem)) {
                MemorySegment s = l.segment().asSlice(0, rem);
                if (toKernel) MemorySegment.copy(MemorySegment.ofBuffer(buf), 0, s, 0, rem);
                n = checked(ch.io(fd -> call.run(fd, s), 1));
                if (!toKernel) copyOut(s, buf, (int) n);
            }
        }
        buf.position(buf.position() + (int) n);
        return n;
    }

    /** Scatter read; returns the count, -1 at end of stream, 0 if no buffer has room. */
    static long read(Runner ch, ByteBuffer[] dsts, int offset, int length, VectorCall call) throws IOException {
        ByteBuffer[] bufs = withRemaining(dsts, offset, length, true);
        if (bufs.length == 0) return 0;
        long n = transfer(ch, bufs, call, false);
        return n == 0 ? -1 : n;
    }

    /** Gather write with one call; returns the count written. */
    static long write(Runner ch, ByteBuffer[] srcs, int offset, int length, VectorCall call) throws IOException {
        ByteBuffer[] bufs = withRemaining(srcs, offset, length, false);
        if (bufs.length == 0) return 0;
        return transfer(ch, bufs, call, true);
    }

    /**
     * One call over several buffers' remaining bytes, which it reads into ({@code toKernel}
     * false) or writes from; advances their positions over the {@code n} bytes moved, in order.
     */
    private static long transfer(Runner ch, ByteBuffer[] bufs, VectorCall call, boolean toKernel) throws IOException {
        long n;
        try (NativeBuffers.Lease l = leaseForHeap(bufs)) {
            MemorySegment[] segs = segments(bufs, l, toKernel);
            try {
                n = checked(ch.io(fd -> call.run(fd, segs), 1));
            } finally {
                Reference.reachabilityFence(bufs);
            }
            long left = n;
            for (int i = 0; i < bufs.length && left > 0; i++) {
                int k = (int) Math.min(left, bufs[i].remaining());
                if (!toKernel && !bufs[i].isDirect()) copyOut(segs[i], bufs[i], k);
                bufs[i].position(bufs[i].position() + k);
                left -= k;
            }
        }
        return n;
    }

    /** Copies the first {@code n} bytes of {@code from} to {@code dst} at its position (which it leaves). */
    private static void copyOut(MemorySegment from, ByteBuffer dst, int n) {
        if (n <= 0) return;
        MemorySegment.copy(from, 0, MemorySegment.ofBuffer(dst), 0, n);
    }

    /**
     * What an operation that failed with {@code e} throws, by the InterruptibleChannel contract:
     * if an interrupt of the calling thread ended it, the channel is closed and the thread gets
     * ClosedByInterruptException (its interrupt status stays set). The engine cancels a call as
     * soon as it sees the interrupt status, and Thread.interrupt() sets the status before the
     * JDK's interruptor closes the channel: the call can then fail with InterruptedIOException
     * (or AsynchronousCloseException) first, and the channel be left open. This closes it
     * (close is idempotent) and gives the contract's exception. Anything else is returned as is.
     */
    static IOException afterInterrupt(java.nio.channels.Channel ch, IOException e) {
        if (e instanceof java.nio.channels.ClosedByInterruptException || !Thread.currentThread().isInterrupted()) return e;
        if (!(e instanceof java.io.InterruptedIOException || e instanceof AsynchronousCloseException)) return e;
        try {
            ch.close();
        } catch (IOException alreadyGoing) {
            e.addSuppressed(alreadyGoing);
        }
        java.nio.channels.ClosedByInterruptException x = new java.nio.channels.ClosedByInterruptException();
        x.initCause(e);
        return x;
    }

    /** The runner returns a negative value only when end() did not throw for a closed channel: say so. */
    private static long checked(long n) throws AsynchronousCloseException {
        if (n < 0) throw new AsynchronousCloseException();
        return n;
    }

    /** The buffers among {@code bufs[offset, offset+length)} with bytes remaining, at most IOV_MAX. */
    private static ByteBuffer[] withRemaining(ByteBuffer[] bufs, int offset, int length, boolean forRead) {
        java.util.Objects.checkFromIndexSize(offset, length, bufs.length);
        ByteBuffer[] out = new ByteBuffer[Math.min(length, IOV_MAX)];
        int k = 0;
        for (int i = offset; i < offset + length && k < out.length; i++) {
            ByteBuffer b = bufs[i];
            if (forRead && b.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
            if (b.hasRemaining()) out[k++] = b;
        }
        return Arrays.copyOf(out, k);
    }

    private static NativeBuffers.Lease leaseForHeap(ByteBuffer[] bufs) {
        long heap = 0;
        for (ByteBuffer b : bufs) if (!b.isDirect()) heap += b.remaining();
        return heap == 0 ? null : NativeBuffers.take(heap);
    }

    private static MemorySegment[] segments(ByteBuffer[] bufs, NativeBuffers.Lease l, boolean copyIn) {
        MemorySegment[] segs = new MemorySegment[bufs.length];
        long off = 0;
        for (int i = 0; i < bufs.length; i++) {
            ByteBuffer b = bufs[i];
            if (b.isDirect()) {
                segs[i] = MemorySegment.ofBuffer(b);
            } else {
                segs[i] = l.segment().asSlice(off, b.remaining());
                if (copyIn) MemorySegment.copy(MemorySegment.ofBuffer(b), 0, segs[i], 0, b.remaining());
                off += b.remaining();
            }
        }
        return segs;
    }
}
