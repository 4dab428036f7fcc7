package dev.flexsc.io;

import dev.flexsc.Syscalls;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The buffer side of a call whose raw result the caller handles itself (a non-blocking
 * receive's {@code -EAGAIN} is an answer, not an error): the socket and pipe channels'. A
 * direct {@link ByteBuffer} whose memory the buffer rules let a call use in place
 * ({@link Syscalls#usableInPlace}) is handed to the kernel as it is; a heap one, or a direct
 * one over a shared arena, goes through a {@link NativeBuffers} lease, copied in before a
 * write and out after a read. Positions move only by what the kernel moved.
 *
 * <p>Every method returns the kernel's raw result: {@code > 0} bytes moved, {@code 0} (a
 * read: end of stream), {@code < 0} {@code -errno}. The memory handed to the kernel stays
 * reachable (and a lease stays taken) until the call returned, which an engine does only
 * once the kernel is done with it.
 */
final class RawIo {
    private RawIo() {}

    /** IOV_MAX on Linux: at most this many buffers per vectored call, as the JDK. */
    static final int IOV_MAX = ChannelIo.IOV_MAX;

    /** Bytes of a {@code struct msghdr} on x86-64; its iovec pointer is at 16, the count at 24. */
    static final int MSGHDR_SIZE = 56;
    private static final int MSG_IOV = 16, MSG_IOVLEN = 24;

    /** A call over one native range. */
    @FunctionalInterface
    interface Call {
        long run(long address, long length) throws IOException;
    }

    /**
     * A vectored call: given a {@code struct msghdr} (one iovec per buffer, no name, no
     * control data; for recvmsg/sendmsg) and the iovec array it points to with its count (for
     * readv/writev).
     */
    @FunctionalInterface
    interface MsgCall {
        long run(long msghdr, long iov, int count) throws IOException;
    }

    /** Reads into {@code dst}'s remaining bytes (it has some, and is writable). */
    static long read(ByteBuffer dst, Call call) throws IOException {
        return transfer(dst, call, false, null);
    }

    /** {@link #read(ByteBuffer, Call)} for a channel side that remembers its {@code last} buffer. */
    static long read(ByteBuffer dst, Call call, LastBuffer last) throws IOException {
        return transfer(dst, call, false, last);
    }

    /** Writes {@code src}'s remaining bytes (it has some). */
    static long write(ByteBuffer src, Call call) throws IOException {
        return transfer(src, call, true, null);
    }

    /** {@link #write(ByteBuffer, Call)} for a channel side that remembers its {@code last} buffer. */
    static long write(ByteBuffer src, Call call, LastBuffer last) throws IOException {
        return transfer(src, call, true, last);
    }

    /**
     * The direct buffer one side of a channel (its reads, or its writes) used last, with its
     * base address: a channel moves bytes through the same buffer over and over, and asking
     * the buffer rules about a fresh {@code MemorySegment.ofBuffer} per call costs a segment
     * and a session (72 B) whenever the JIT does not scalar-replace them. Only a buffer whose
     * memory is its own is remembered ({@code ByteBuffer.allocateDirect}, its slices and
     * duplicates, a mapped buffer): that memory stays valid as long as the buffer object is
     * reachable, which this reference and the call's reachability fence ensure, so the verdict
     * cannot change. A buffer over an arena's segment is asked about every time (its arena may
     * close between two calls). Confined to the holder of the side's lock; it keeps the buffer
     * reachable until another takes its place or the channel is collected.
     */
    static final class LastBuffer {
        private ByteBuffer buf;
        private long base;

        /** {@code b}'s base address if the kernel may use its memory in place, else -1. */
        long baseOf(ByteBuffer b) {
            if (b == buf) return base;
            MemorySegment s = MemorySegment.ofBuffer(b);
            if (!Syscalls.usableInPlace(s)) return -1;
            long a = s.address() - b.position(); // ofBuffer's segment starts at the position
            if (s.scope().getClass() == BUFFER_SCOPE) {
                buf = b;
                base = a;
            }
            return a;
        }
    }

    /** The scope class of a segment over a direct buffer's own memory (read once from a real one). */
    private static final Class<?> BUFFER_SCOPE = MemorySegment.ofBuffer(ByteBuffer.allocateDirect(1)).scope().getClass();

    private static long transfer(ByteBuffer buf, Call call, boolean toKernel, LastBuffer last) throws IOException {
        int pos = buf.position(), rem = buf.limit() - pos;
        long n;
        if (buf.isDirect()) {
            long base;
            if (last != null) {
                base = last.baseOf(buf);
            } else {
                MemorySegment s = MemorySegment.ofBuffer(buf);
                base = Syscalls.usableInPlace(s) ? s.address() - pos : -1;
            }
            if (base != -1) {
                try {
                    n = call.run(base + pos, rem);
                } finally {
                    Reference.reachabilityFence(buf); // the kernel used its memory until run returned
                }
                if (n > 0) buf.position(pos + (int) n);
                return n;
            }
        }
        try (NativeBuffers.Lease l = NativeBuffers.take(rem)) {
            MemorySegment s = l.segment();
            if (toKernel) MemorySegment.copy(MemorySegment.ofBuffer(buf), 0, s, 0, rem);
            n = call.run(s.address(), rem);
            if (n > 0) {
                if (!toKernel) MemorySegment.copy(s, 0, MemorySegment.ofBuffer(buf), 0, n);
                buf.position(pos + (int) n);
            }
            return n;
        }
    }

    /**
     * The buffers of {@code bufs[offset, offset+length)} with bytes remaining, at most
     * {@link #IOV_MAX}, checked as the JDK checks them (read-only buffers refused for a read).
     */
    static ByteBuffer[] withRemaining(ByteBuffer[] bufs, int offset, int length, boolean forRead) {
        Objects.checkFromIndexSize(offset, length, bufs.length);
        int k = 0;
        ByteBuffer[] out = new ByteBuffer[Math.min(length, IOV_MAX)];
        for (int i = offset; i < offset + length && k < out.length; i++) {
            ByteBuffer b = Objects.requireNonNull(bufs[i]);
            if (forRead && b.isReadOnly()) throw new IllegalArgumentException("Read-only buffer");
            if (b.hasRemaining()) out[k++] = b;
        }
        return k == out.length ? out : java.util.Arrays.copyOf(out, k);
    }

    /** A scatter read into {@code bufs} (from {@link #withRemaining}, at least one). */
    static long read(ByteBuffer[] bufs, MsgCall call) throws IOException {
        return transfer(bufs, call, false);
    }

    /** A gather write of {@code bufs} (from {@link #withRemaining}, at least one). */
    static long write(ByteBuffer[] bufs, MsgCall call) throws IOException {
        return transfer(bufs, call, true);
    }

    /**
     * One call over a msghdr whose iovecs cover each buffer's remaining bytes in order, in
     * place or through one lease (which also holds the msghdr and the iovec array).
     */
    private static long transfer(ByteBuffer[] bufs, MsgCall call, boolean toKernel) throws IOException {
        int count = bufs.length;
        long copied = 0;
        boolean[] inPlace = new boolean[count];
        MemorySegment[] segs = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            ByteBuffer b = bufs[i];
            segs[i] = MemorySegment.ofBuffer(b);
            inPlace[i] = b.isDirect() && Syscalls.usableInPlace(segs[i]);
            if (!inPlace[i]) copied += b.remaining();
        }
        long header = MSGHDR_SIZE + 16L * count;
        try (NativeBuffers.Lease l = NativeBuffers.take(header + copied)) {
            MemorySegment m = l.segment();
            m.asSlice(0, MSGHDR_SIZE).fill((byte) 0);
            MemorySegment iov = m.asSlice(MSGHDR_SIZE, 16L * count);
            MemorySegment[] nat = new MemorySegment[count];
            long at = header;
            for (int i = 0; i < count; i++) {
                long len = bufs[i].remaining();
                if (inPlace[i]) {
                    nat[i] = segs[i];
                } else {
                    nat[i] = m.asSlice(at, len);
                    if (toKernel) MemorySegment.copy(segs[i], 0, nat[i], 0, len);
                    at += len;
                }
                iov.set(ValueLayout.JAVA_LONG, 16L * i, nat[i].address());
                iov.set(ValueLayout.JAVA_LONG, 16L * i + 8, len);
            }
            m.set(ValueLayout.JAVA_LONG, MSG_IOV, iov.address());
            m.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, count);
            long n;
            try {
                n = call.run(m.address(), iov.address(), count);
            } finally {
                Reference.reachabilityFence(bufs); // in-place buffers: the kernel used them until run returned
            }
            long left = n;
            for (int i = 0; i < count && left > 0; i++) {
                int k = (int) Math.min(left, bufs[i].remaining());
                if (!toKernel && !inPlace[i]) MemorySegment.copy(nat[i], 0, segs[i], 0, k);
                bufs[i].position(bufs[i].position() + k);
                left -= k;
            }
            return n;
        }
    }
}
