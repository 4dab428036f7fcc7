package dev.flexsc.bench.soak;

import dev.flexsc.EngineClosedException;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.OpenFlags;
import dev.flexsc.Stat;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.io.FlexscFileChannel;
import dev.flexsc.io.FlexscSocketChannel;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One soak worker: a thread (platform or green) that makes calls through the public API on
 * its {@link Target}, each with a result only it can expect, and books each one in the
 * {@link Ledger}. The mix: positional reads of the data file into guarded native buffers
 * and into arrays, lseek to a distinct offset, getpid, positional writes read back directly,
 * a pipe round trip, {@link SyscallBatch}es of reads of distinct lengths (some closed unsent),
 * a {@link FlexscFileChannel}'s reads, an echo over a {@link FlexscSocketChannel} pair
 * accepted by a {@link FlexscServerSocketChannel}, openat/fstat/close; and, where the run
 * asks for them, calls that sleep on a pipe (blocked) or in a page fault (stuck).
 *
 * <p>Interrupts: {@link #interrupt()} counts the interrupt before delivering it; a call
 * that may block, or a channel's call, may then fail with the interrupt's exception. Every
 * other outcome must be the call's own result.
 */
final class Worker {
    /** The kinds of call, and how often each is made (weights). */
    enum Kind {
        PREAD(24), PREAD_ARRAY(8), LSEEK(8), GETPID(6), PWRITE(8), PIPE(5), BATCH(10), CHANNEL(8), SOCKET(5),
        OPEN_CLOSE(5), BLOCKED(3), STUCK_READ(1), STUCK_POPULATE(1);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }
    }

    static final int SCRATCH_REGION = 1 << 16;
    private static final int SEEK_SET = 0;

    private final Run run;
    final Target target;
    final String name;
    private final SplittableRandom rnd;
    private final Buffers.Pool pool;
    private final Syscalls sys;
    private final boolean[] enabled = new boolean[Kind.values().length];
    private int totalWeight;
    /** Delay before a blocked or stuck call is let go, in ms (negative: only when released). */
    private long releaseMin = 10, releaseMax = 600;

    /** Interrupts delivered to this worker's thread; {@link #seenInterrupts} is the count when the last call ended. */
    private final AtomicInteger interrupts = new AtomicInteger();
    private int seenInterrupts;
    private volatile Thread thread;

    /** Set when a call failed because the target is closed: the worker's loop then ends. */
    private boolean sawClosed;
    /** The worker's own descriptors, opened on first use. */
    private final WorkerFds own;

    Worker(Run run, Target target, String name) {
        this.run = run;
        this.target = target;
        this.sys = target.sys;
        this.name = name;
        this.rnd = run.split();
        this.pool = run.buffers.pool();
        this.own = new WorkerFds(run, target, this::begin, (op, e) -> failed(op, e, true, true));
        for (Kind k : Kind.values()) enabled[k.ordinal()] = true;
        weigh();
    }

    /** Only these kinds of call. */
    Worker only(Kind... kinds) {
        java.util.Arrays.fill(enabled, false);
        for (Kind k : kinds) enabled[k.ordinal()] = true;
        weigh();
        return this;
    }

    /** Without this kind of call. */
    Worker without(Kind k) {
        enabled[k.ordinal()] = false;
        weigh();
        return this;
    }

    private boolean prepare;
    /** Counted down once the worker's descriptors are open (or its preparation failed). */
    final java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);

    /** Opens every descriptor the worker's calls use before the first call (for a run that later has none left). */
    Worker prepared() {
        prepare = true;
        return this;
    }

    /** Blocked and stuck calls are let go after {@code min..max} ms ({@code max < 0}: only by a release). */
    Worker releaseAfter(long min, long max) {
        releaseMin = min;
        releaseMax = max;
        return this;
    }

    private void weigh() {
        totalWeight = 0;
        for (Kind k : Kind.values()) if (enabled[k.ordinal()]) totalWeight += k.weight;
    }

    /** The thread running this worker now, or null. */
    Thread thread() {
        return thread;
    }

    /** Set to end {@link #loop} after the current call (a pool task being cancelled). */
    volatile boolean stopRequested;

    /** Counts an interrupt that someone else delivers (Future.cancel(true)). */
    void countInterrupt() {
        interrupts.incrementAndGet();
    }

    /** Counts an interrupt, then delivers it (so a call it ends can tell). */
    boolean interrupt() {
        Thread t = thread;
        if (t == null) return false;
        interrupts.incrementAndGet();
        t.interrupt();
        run.ledger.fault(Ledger.Fault.INTERRUPTS);
        return true;
    }

    /**
     * Makes calls while {@code go} says so, and until {@code maxCalls} (0: no limit); stops
     * early once its target is closed and a call said so. Closes what it opened.
     */
    void loop(BooleanSupplier go, int maxCalls) {
        thread = Thread.currentThread();
        try {
            try {
                if (prepare) prepare();
            } finally {
                ready.countDown();
            }
            for (int n = 0; go.getAsBoolean() && (maxCalls == 0 || n < maxCalls) && !stopRequested; n++) {
                if (!one()) break;
            }
        } catch (Throwable t) {
            run.ledger.violation(Ledger.Count.ERRORS, "worker " + name + " on " + target.name + " died: " + t);
        } finally {
            thread = null;
            Thread.interrupted();
            own.closeAll();
        }
    }

    /** Opens the worker's own descriptors before its first call (see {@link #prepared()}). */
    private void prepare() {
        own.dataFd();
        if (enabled[Kind.PWRITE.ordinal()]) own.scratchFd();
        if (enabled[Kind.PIPE.ordinal()]) own.pipe();
        if (enabled[Kind.CHANNEL.ordinal()]) own.channel();
        if (enabled[Kind.SOCKET.ordinal()]) own.sockets();
    }

    /** One call of a random kind; false once a call failed because the target is closed. */
    boolean one() {
        int r = rnd.nextInt(totalWeight);
        Kind kind = null;
        for (Kind k : Kind.values()) {
            if (!enabled[k.ordinal()]) continue;
            if ((r -= k.weight) < 0) {
                kind = k;
                break;
            }
        }
        if ((kind == Kind.BLOCKED && !run.blockedCalls)
                || ((kind == Kind.STUCK_READ || kind == Kind.STUCK_POPULATE) && !run.stuckCalls)) {
            kind = Kind.PREAD;
        }
        target.inFlight.incrementAndGet();
        try {
            call(kind);
            return !sawClosed;
        } finally {
            target.inFlight.decrementAndGet();
            seenInterrupts = interrupts.get();
            Thread.interrupted(); // an interrupt is for the call it hit; the next starts clean
        }
    }

    private void call(Kind kind) {
        try {
            switch (kind) {
                case PREAD -> pread();
                case PREAD_ARRAY -> preadArray();
                case LSEEK -> lseek();
                case GETPID -> getpid();
                case PWRITE -> pwrite();
                case PIPE -> pipeRoundTrip();
                case BATCH -> batch();
                case CHANNEL -> channelRead();
                case SOCKET -> socketEcho();
                case OPEN_CLOSE -> openClose();
                case BLOCKED -> blocked();
                case STUCK_READ -> stuck(true);
                case STUCK_POPULATE -> stuck(false);
            }
        } catch (WorkerFds.Setup e) {
            // opening one of the worker's own descriptors failed: booked where it happened
        }
    }

    // ---- outcomes ----

    /** True if an interrupt was delivered since the previous call of this worker ended. */
    private boolean interruptedSince() {
        return interrupts.get() != seenInterrupts;
    }

    /**
     * Books a failure: expected if the target is closing (EngineClosedException), if an
     * interrupt explains it ({@code blocking} calls and channels), or EMFILE while the
     * descriptor limit is lowered ({@code makesFd}); else an error.
     */
    private void failed(Op op, Throwable t, boolean blocking, boolean makesFd) {
        if (t instanceof EngineClosedException && target.closing) {
            sawClosed = true;
            op.failedAsExpected();
        } else if (interruptedSince() && ((blocking && t instanceof InterruptedIOException)
                || t instanceof ClosedChannelException)) { // ClosedByInterrupt, AsynchronousClose
            op.failedAsExpected();
        } else if (makesFd && run.fdLimited && isEmfile(t)) {
            run.ledger.fault(Ledger.Fault.EMFILE);
            op.failedAsExpected();
        } else if (t instanceof ClosedChannelException && !(t instanceof AsynchronousCloseException) && target.closing) {
            sawClosed = true;
            op.failedAsExpected(); // a channel whose engine closed under it
        } else {
            op.error(t);
        }
    }

    /** An EMFILE failure: ErrnoException, or the JDK-style exceptions of dev.flexsc.io that name it. */
    static boolean isEmfile(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ErrnoException e && e.errno() == Errno.EMFILE) return true;
            String m = String.valueOf(c.getMessage());
            if (c instanceof IOException && (m.contains("EMFILE") || m.contains("Too many open files"))) return true;
        }
        return false;
    }

    /** {@link #failed(Op, Throwable, boolean, boolean)} for a call with a guarded buffer, which is kept for the final audit. */
    private void failed(Op op, GuardedBuffer gb, Throwable e, boolean blocking) {
        gb.returned(op.toString());
        run.buffers.keep(gb);
        failed(op, e, blocking, false);
    }

    private Op begin(String what) {
        return run.ledger.begin(what + "@" + target.name, bound);
    }

    /** The liveness bound of this worker's calls that nothing makes wait on purpose. */
    private long bound = Run.CALL_BOUND_NANOS;

    /** Calls of this worker may take up to {@code nanos} (a crowd that queues for entries). */
    Worker bound(long nanos) {
        bound = nanos;
        return this;
    }

    /** Checks a read into a guarded buffer: count, bytes, nothing outside; then the buffer is the auditor's. */
    private void checkRead(Op op, GuardedBuffer gb, long n, int len, long off) {
        String outside = gb.outsideWrites(n);
        if (outside != null) run.ledger.violation(Ledger.Count.OVERRUNS, op + ": " + outside);
        long bad;
        if (n != len) {
            op.wrong("returned " + n + ", expected " + len);
        } else if ((bad = DataFile.mismatch(gb.data(), off, n)) >= 0) {
            op.wrong("byte " + bad + " is not the file's byte at " + (off + bad) + ": another call's data");
        } else {
            op.ok();
        }
    }

    // ---- the calls ----

    private void pread() {
        GuardedBuffer gb = pool.take();
        int len = 1 + rnd.nextInt(gb.capacity());
        long off = rnd.nextLong(DataFile.SIZE - len);
        MemorySegment seg = gb.arm(len);
        int fd = own.dataFd();
        Op op = begin("pread64");
        try {
            checkRead(op, gb, sys.pread(fd, seg, off), len, off);
            gb.returned(op.toString());
            pool.giveBack(gb);
        } catch (IOException | RuntimeException e) {
            failed(op, gb, e, false);
        }
    }

    private void preadArray() {
        int len = 1 + rnd.nextInt(8192);
        long off = rnd.nextLong(DataFile.SIZE - len);
        byte[] b = new byte[len];
        int fd = own.dataFd();
        Op op = begin("pread64(byte[])");
        try {
            long n = sys.pread(fd, b, 0, len, off);
            int bad;
            if (n != len) op.wrong("returned " + n + ", expected " + len);
            else if ((bad = DataFile.mismatch(b, off, len)) >= 0) op.wrong("byte " + bad + " is another call's data");
            else op.ok();
        } catch (IOException | RuntimeException e) {
            failed(op, e, false, false);
        }
    }

    private void lseek() {
        long to = rnd.nextLong(1L << 40);
        int fd = own.dataFd();
        Op op = begin("lseek");
        try {
            long r = sys.lseek(fd, to, SEEK_SET);
            if (r == to) op.ok();
            else op.wrong("returned " + r + ", expected " + to);
        } catch (IOException | RuntimeException e) {
            failed(op, e, false, false);
        }
    }

    private void getpid() {
        Op op = begin("getpid");
        try {
            long r = sys.getpid();
            if (r == run.pid) op.ok();
            else op.wrong("returned " + r + ", expected " + run.pid);
        } catch (IOException | RuntimeException e) {
            failed(op, e, false, false);
        }
    }

    private void pwrite() {
        GuardedBuffer gb = pool.take();
        int len = 1 + rnd.nextInt(Math.min(gb.capacity(), SCRATCH_REGION));
        MemorySegment seg = gb.arm(len);
        long stamp = rnd.nextLong();
        for (int i = 0; i < len; i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) (stamp >>> ((i & 7) * 8) ^ i));
        long at = own.regionOffset();
        int fd = own.scratchFd();
        Op op = begin("pwrite64");
        try {
            long n = sys.pwrite(fd, seg, at);
            gb.returned(op.toString());
            if (n != len) {
                op.wrong("returned " + n + ", expected " + len);
            } else {
                byte[] back = new byte[len];
                long m = DirectSyscalls.syscalls().pread(fd, back, 0, len, at);
                if (m != len || MemorySegment.ofArray(back).mismatch(seg) >= 0) op.wrong("the file does not hold what was written");
                else op.ok();
            }
            pool.giveBack(gb);
        } catch (IOException | RuntimeException e) {
            failed(op, gb, e, false);
        }
    }

    /** A write to the worker's pipe, then a read of it: the same bytes (a read on a pipe may block: interruptible). */
    private void pipeRoundTrip() {
        int[] p = own.pipe();
        byte[] data = new byte[1 + rnd.nextInt(4096)];
        rnd.nextBytes(data);
        Op op = begin("write+read(pipe)");
        long wrote = 0;
        try {
            wrote = sys.write(p[1], data);
            if (wrote != data.length) {
                op.wrong("write returned " + wrote + " of " + data.length);
                drainPipe();
                return;
            }
            byte[] got = new byte[data.length];
            long n = sys.read(p[0], got);
            if (n != data.length || !java.util.Arrays.equals(got, data)) {
                op.wrong("read " + n + " bytes, not the " + data.length + " written");
                drainPipe();
            } else {
                op.ok();
            }
        } catch (IOException | RuntimeException e) {
            failed(op, e, true, false);
            byte[] left = drainPipe();
            if (wrote == data.length && !java.util.Arrays.equals(left, data)) {
                run.ledger.violation(Ledger.Count.WRONG, op + ": the read failed (" + e + ") but the pipe held "
                        + left.length + " bytes, not the " + data.length + " written: data lost or read twice");
            }
        }
    }

    /** Empties the worker's pipe, returning what was in it. */
    private byte[] drainPipe() {
        return Sys.drain(own.pipe()[0]);
    }

    /**
     * A batch of reads of distinct lengths into guarded buffers, an lseek and a getpid; each
     * result is its own operation, and each result's future must complete exactly once. One
     * batch in ten is closed unsent: every handle must then be cancelled, and no buffer touched.
     */
    private void batch() {
        int k = 1 + rnd.nextInt(40);
        boolean cancel = rnd.nextInt(10) == 0;
        int fd = own.dataFd();
        GuardedBuffer[] gbs = new GuardedBuffer[k];
        int[] lens = new int[k];
        long[] offs = new long[k];
        SyscallBatch.Result[] rs = new SyscallBatch.Result[k + 2];
        Op[] ops = new Op[k + 2];
        AtomicInteger[] fired = new AtomicInteger[k + 2];
        long seekTo = rnd.nextLong(1L << 40);
        SyscallBatch b = sys.batch();
        try {
            for (int i = 0; i < k; i++) {
                gbs[i] = pool.take();
                lens[i] = 1 + rnd.nextInt(4096);
                offs[i] = rnd.nextLong(DataFile.SIZE - lens[i]);
                ops[i] = begin("batch.pread64");
                rs[i] = b.pread(fd, gbs[i].arm(lens[i]), offs[i]);
            }
            ops[k] = begin("batch.lseek");
            rs[k] = b.lseek(fd, seekTo, SEEK_SET);
            ops[k + 1] = begin("batch.getpid");
            rs[k + 1] = b.getpid();
            for (int i = 0; i < k + 2; i++) {
                AtomicInteger f = fired[i] = new AtomicInteger();
                Op op = ops[i];
                rs[i].future().whenComplete((v, t) -> {
                    if (f.incrementAndGet() > 1) op.duplicateCompletion("its future completed twice");
                });
            }
            if (cancel) {
                b.close();
                run.ledger.fault(Ledger.Fault.CANCELS);
            } else {
                b.submitAndWait();
            }
        } catch (IOException | RuntimeException e) {
            for (int i = 0; i < k + 2; i++) {
                if (ops[i] != null && (rs[i] == null || !rs[i].isDone())) failed(ops[i], e, true, false);
            }
        } finally {
            b.close();
        }
        for (int i = 0; i < k + 2; i++) {
            if (ops[i] == null || rs[i] == null) continue;
            Op op = ops[i];
            if (i < k) gbs[i].returned(op.toString());
            if (!rs[i].isDone()) {
                op.wrong("submitAndWait returned with this handle not done");
                continue;
            }
            if (fired[i].get() != 1) op.duplicateCompletion("its future completed " + fired[i].get() + " times by submitAndWait's return");
            try {
                long v = rs[i].get();
                if (cancel) op.wrong("a call of a batch closed unsent returned " + v);
                else if (i < k) checkRead(op, gbs[i], v, lens[i], offs[i]);
                else if (i == k) expect(op, v, seekTo);
                else expect(op, v, run.pid);
            } catch (CancellationException e) {
                if (!cancel) op.wrong("cancelled, but the batch was submitted");
                else if (i < k && gbs[i].outsideWrites(0) != null) op.wrong("a call of a batch closed unsent wrote its buffer");
                else op.failedAsExpected();
            } catch (IOException e) {
                failed(op, e, false, false);
            }
        }
        for (int i = 0; i < k; i++) {
            if (gbs[i] == null) continue;
            if (ops[i] != null && rs[i] != null && rs[i].isDone()) pool.giveBack(gbs[i]);
            else run.buffers.keep(gbs[i]);
        }
    }

    private static void expect(Op op, long v, long want) {
        if (v == want) op.ok();
        else op.wrong("returned " + v + ", expected " + want);
    }

    /** A positional read through a FlexscFileChannel, into a direct buffer over a guarded one, or a heap buffer. */
    private void channelRead() {
        FlexscFileChannel ch;
        try {
            ch = own.channel();
        } catch (WorkerFds.Setup e) {
            return;
        }
        boolean direct = rnd.nextBoolean();
        GuardedBuffer gb = direct ? pool.take() : null;
        int len = 1 + rnd.nextInt(8192);
        long off = rnd.nextLong(DataFile.SIZE - len);
        ByteBuffer bb = direct ? gb.arm(len).asByteBuffer() : ByteBuffer.allocate(len);
        Op op = begin("FlexscFileChannel.read");
        try {
            int n = 0;
            while (bb.hasRemaining()) {
                int r = ch.read(bb, off + n);
                if (r <= 0) break;
                n += r;
            }
            if (direct) {
                checkRead(op, gb, n, len, off);
            } else if (n != len || DataFile.mismatch(bb.array(), off, len) >= 0) {
                op.wrong("read " + n + " bytes, not the file's " + len + " at " + off);
            } else {
                op.ok();
            }
            if (direct) {
                gb.returned(op.toString());
                pool.giveBack(gb);
            }
        } catch (IOException | RuntimeException e) {
            if (direct) failed(op, gb, e, true);
            else failed(op, e, true, false);
            own.dropChannel();
        }
    }

    /** Bytes through a connected pair of FlexSC socket channels and back. */
    private void socketEcho() {
        byte[] msg = new byte[1 + rnd.nextInt(4000)];
        rnd.nextBytes(msg);
        Op op;
        try {
            own.sockets();
        } catch (WorkerFds.Setup e) {
            return;
        }
        op = begin("socket echo");
        try {
            writeAll(own.client(), ByteBuffer.wrap(msg));
            ByteBuffer in = ByteBuffer.allocateDirect(msg.length);
            readAll(own.peer(), in);
            in.flip();
            writeAll(own.peer(), in);
            ByteBuffer back = ByteBuffer.allocate(msg.length);
            readAll(own.client(), back);
            if (!java.util.Arrays.equals(back.array(), msg)) op.wrong("the echo differs from the message");
            else op.ok();
        } catch (IOException | RuntimeException e) {
            failed(op, e, true, false);
            own.closeSockets();
        }
    }

    private static void writeAll(FlexscSocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void readAll(FlexscSocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException("end of stream after " + b.position() + " bytes");
        }
    }

    private void openClose() {
        Op op = begin("openat+fstat+close");
        int fd;
        try {
            fd = sys.openat(Syscalls.AT_FDCWD, run.data.path.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
        } catch (IOException | RuntimeException e) {
            failed(op, e, true, true); // openat may block (a FIFO): an interrupt may cancel it
            return;
        }
        try {
            Stat st = sys.fstat(fd);
            sys.close(fd);
            if (st.size() != DataFile.SIZE) op.wrong("fstat size " + st.size() + ", expected " + DataFile.SIZE);
            else op.ok();
        } catch (IOException | RuntimeException e) {
            Sys.close(fd);
            failed(op, e, false, false);
        }
    }

    /** A read of a pipe that gets its data only later (or never, until interrupted or closed). */
    private void blocked() {
        byte[] data = new byte[1 + rnd.nextInt(2048)];
        rnd.nextBytes(data);
        long delay = releaseMax < 0 ? -1 : releaseMin + rnd.nextLong(Math.max(1, releaseMax - releaseMin));
        StuckCalls.Blocked bl = run.stuck.blocked(data, delay);
        GuardedBuffer gb = pool.take();
        MemorySegment seg = gb.arm(data.length);
        Op op = run.ledger.begin("read(blocked pipe)@" + target.name, Run.CALL_BOUND_NANOS + Math.max(0, delay) * 1_000_000L);
        byte[] got = null;
        try {
            long n = sys.read(bl.readFd, seg);
            got = seg.asSlice(0, Math.max(0, n)).toArray(ValueLayout.JAVA_BYTE);
            gb.returned(op.toString());
            String outside = gb.outsideWrites(n);
            if (outside != null) run.ledger.violation(Ledger.Count.OVERRUNS, op + ": " + outside);
            op.ok();
        } catch (IOException | RuntimeException e) {
            gb.returned(op.toString());
            failed(op, e, true, false);
        }
        String bad = bl.settle(got);
        if (bad != null) run.ledger.violation(Ledger.Count.WRONG, op + ": " + bad);
        pool.giveBack(gb); // the pipe is closed: a read still in the kernel ends at EOF, writing nothing
    }

    /**
     * A read ({@code read}) or madvise(MADV_POPULATE_WRITE) that sleeps in a userfaultfd page
     * fault until let go (a populate where a known issue leaves stuck reads out).
     */
    private void stuck(boolean read) {
        read &= !run.known.skips(Known.Issue.URING_INLINE_FAULT_STALLS_RING, target.engine.engine());
        StuckCalls.Slot slot = run.stuck.takeSlot();
        if (slot == null) {
            blocked(); // no userfaultfd here, or every slot busy
            return;
        }
        int fd;
        try {
            fd = read ? own.dataFd() : -1;
        } catch (WorkerFds.Setup e) {
            slot.fillAfter(0); // unused: back to the free slots after its audit
            slot.returned(false, "an unused slot");
            slot.done();
            throw e;
        }
        // Let go after the delay, or (releaseMax < 0) when the round releases every stuck call.
        long delay = releaseMax < 0 ? 600_000 : releaseMin + rnd.nextLong(Math.max(1, releaseMax - releaseMin));
        run.ledger.fault(read ? Ledger.Fault.STUCK_UFFD_READ : Ledger.Fault.STUCK_UFFD_POPULATE);
        long off = rnd.nextLong(DataFile.SIZE - StuckCalls.READ_LENGTH);
        MemorySegment seg = read ? slot.armForRead() : slot.pageB();
        slot.fillAfter(delay);
        Op op = run.ledger.begin((read ? "pread64(stuck)@" : "madvise(stuck)@") + target.name,
                Run.CALL_BOUND_NANOS + (releaseMax < 0 ? 0 : delay * 1_000_000L));
        try {
            long n = read ? sys.pread(fd, seg, off) : 0;
            if (!read) sys.madvise(seg, Sys.MADV_POPULATE_WRITE);
            boolean filled = slot.returned(read, op.toString());
            if (!filled) {
                op.wrong("returned " + n + " before its page was filled: the kernel cannot have finished it");
            } else if (read && n != StuckCalls.READ_LENGTH) {
                op.wrong("returned " + n + ", expected " + StuckCalls.READ_LENGTH);
            } else if (read && DataFile.mismatch(seg, off, n) >= 0) { // B is filled, and stays so until done()
                op.wrong("not the file's bytes: another call's data");
            } else {
                op.ok();
            }
        } catch (IOException | RuntimeException e) {
            slot.returned(read, op.toString());
            failed(op, e, false, false);
        } finally {
            slot.done();
        }
    }
}
