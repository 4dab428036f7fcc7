package dev.flexsc;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.BatchInvoker;
import dev.flexsc.spi.CallBatch;
import dev.flexsc.spi.OwnedFds;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

import static dev.flexsc.abi.SyscallTable.*;

/**
 * Several independent system calls submitted together: the engine posts them at once and
 * the submitting thread waits once for all of them, instead of once per call.
 *
 * <pre>{@code
 * try (SyscallBatch b = syscalls.batch()) {
 *     SyscallBatch.Result w = b.pwrite(fd, out, 0);
 *     SyscallBatch.Result r = b.pread(fd2, in, 4096);
 *     b.submitAndWait();
 *     long written = w.get(), read = r.get();
 * }
 * }</pre>
 *
 * <p><b>Adding.</b> Each adder records one call and returns its {@link Result} handle; nothing
 * runs before {@link #submitAndWait()}. The calls of one batch must be independent: the engine may
 * run them in any order and at the same time (two calls on one file position, such as two
 * {@code write}s to one descriptor, have no defined order). A call FlexSC never runs
 * exception-less ({@link #syscall} with a refused number) throws {@link RefusedCallException}
 * from the adder; it is not added and the batch stays usable. Argument errors
 * (a read-only buffer for a read, a {@code NUL} in a path) throw
 * {@link IllegalArgumentException} likewise.
 *
 * <p><b>Buffers</b> follow {@link Syscalls}' rules. A segment whose arena is closed throws
 * {@link IllegalStateException} from the adder, one confined to another thread
 * {@link WrongThreadException}. Native segments of confined, automatic and global arenas are
 * used in place: the batch keeps them reachable until their results are reaped, and
 * {@link #submitAndWait()} checks again that each is still alive and accessible to the submitting
 * thread (IllegalStateException or WrongThreadException, nothing submitted); they must stay
 * untouched until submitAndWait returns. Heap segments and segments of shared arenas are copied
 * through native memory the batch owns when the call is added (a copy each way), as
 * {@link Syscalls} does; paths likewise. If a shared arena was closed while its read ran,
 * that handle's {@link Result#get()} throws IllegalStateException. The batch's memory is
 * freed only after every call of the submit completed; if the engine's machinery failed
 * during a submit, it is never freed (a call may still be running). A call naming one of
 * the engine's own descriptors throws {@link RefusedCallException} from the adder.
 *
 * <p><b>Submitting.</b> {@link #submitAndWait()} posts every call added since the last submit and
 * returns when each has a result. Engines built on syscall pages (SYSCALL_THREADS,
 * KERNEL_MODULE) post up to a group's free entries with one read-modify-write per 64
 * entries and at most one executor wake-up; a green thread of the FlexSC scheduler parks
 * once for them (a platform thread spins briefly, then sleeps once on the group's
 * done_seq). A batch larger than the free entries is posted in parts as its own
 * earlier calls complete (more than one wait then); it never holds an entry unposted while
 * waiting, so batches of any size from any number of threads cannot deadlock. The io_uring
 * engines fill one SQE per call and submit them with one {@code io_uring_enter}
 * (IO_URING) or one release of the SQ tail (IO_URING_SQPOLL); calls the ring does not run
 * go to its fallback engine, also as one batch. Invokers that cannot batch (the direct
 * baseline), and engines under the DIRECT call policy, run the calls one by one on the
 * submitting thread. Under EXCEPTIONLESS and ADAPTIVE a batch is always posted: a caller
 * holding several independent calls is the case where posting pays.
 *
 * <p><b>Results.</b> After {@code submitAndWait()} every handle is done: {@link Result#get()}
 * returns what the single call in {@link Syscalls} returns, or throws the same exception:
 * {@link ErrnoException} naming the call, {@link java.io.InterruptedIOException} for a
 * blocking call cancelled by an interrupt of the submitting thread,
 * {@link EngineClosedException} if the engine closed before the call ran. Errors are per
 * handle: one failing call does not affect the others, and {@code submitAndWait()} does not throw
 * for them. {@link Result#future()} completes with the same outcome.
 *
 * <p><b>Interrupt.</b> As for single calls: interrupting the submitting thread cancels the
 * calls of the batch that may block without bound (a read on a pipe or socket, accept) and
 * are running; other calls complete first; the interrupt status stays set.
 *
 * <p><b>Reuse and close.</b> After {@code submitAndWait()} the batch is empty and takes new calls;
 * handles from earlier submits keep their results, unless the batch {@linkplain #reuseHandles
 * reuses its handles} (a steady loop then allocates nothing per call). {@link #close()} without a submit
 * discards the calls added since the last one: they never run, and their handles throw
 * {@link CancellationException}. Adding or submitting after {@code close()} throws
 * {@link IllegalStateException}.
 *
 * <p>Not thread-safe: one thread at a time adds and submits. Handles are thread-safe.
 */
public final class SyscallBatch implements AutoCloseable {
    private final SyscallInvoker invoker;
    private final BatchInvoker batcher;
    private final CallBatch calls;
    /**
     * The handles of the calls added since the last submit, by position; null after each
     * submit or close. A fresh array per batch, not one kept for the batch's life: a reference
     * store into a long-lived array costs G1 a fence per store once the array is in the old
     * generation (docs/batch.md: long-lived arrays cost the batch loop 5-8 ns per call), into
     * a new one it costs a region check.
     */
    private Result[] handles;
    /** Length of the next batch's handles array: the last batch's size (at least 16), so it rarely grows. */
    private int handlesLength = 16;
    /** {@link #reuseHandles()} was called: {@link #handles} is kept, and its handles stand for the next calls. */
    private boolean reuse;
    /** The memory of the calls added since the last submit: in place, copied, to copy back. */
    private final BatchMemory memory = new BatchMemory();
    private boolean closed;

    SyscallBatch(SyscallInvoker invoker) {
        this.invoker = Objects.requireNonNull(invoker, "invoker");
        this.batcher = invoker instanceof BatchInvoker bi && bi.postsBatches() ? bi : null;
        this.calls = new CallBatch(16);
    }

    /**
     * Makes this batch reuse its handles, so that a steady loop of batches allocates nothing
     * per call: from now on the handle an adder returns for position {@code i} is the same
     * object that position {@code i} of an earlier submit returned (a new one only where no
     * submit reached that position yet), now standing for the new call. Such a handle holds
     * its outcome from {@link #submitAndWait()} until the batch's next add at its position,
     * which makes it pending again; read it on the submitting thread, or on another thread
     * that synchronized with the submitter in between. A {@link Result#future()} taken from
     * it completes with the outcome of the submit it was taken for.
     *
     * @return this batch
     */
    public SyscallBatch reuseHandles() {
        reuse = true;
        return this;
    }

    // ---- adders ----

    /**
     * Any allow-listed call {@code nr} with up to six arguments. Its handle's {@link Result#get()}
     * returns the raw kernel result ({@code < 0} is {@code -errno}, not thrown), like
     * {@link Syscalls#syscall}.
     *
     * @throws RefusedCallException if {@code nr} is not allow-listed (not added)
     * @throws IllegalArgumentException if more than six arguments are given
     */
    public Result syscall(int nr, long... args) {
        SyscallTable.Call c = SyscallTable.require(nr);
        if (args.length > 6) throw new IllegalArgumentException("a system call takes at most 6 arguments, got " + args.length);
        long[] a = Arrays.copyOf(args, 6);
        return add(c, a[0], a[1], a[2], a[3], a[4], a[5], Result.RAW, 0);
    }

    /** getpid(2). */
    public Result getpid() {
        return add(lookup(GETPID), 0, 0, 0, 0, 0, 0, Result.NO_ARG, 0);
    }

    /** read(2) into {@code buf} at the file position; the count (0 at end of file). */
    public Result read(int fd, MemorySegment buf) {
        CallMemory.checkWritable(buf);
        if (!CallMemory.inPlace(buf, "read")) return heapRead(lookup(READ), fd, buf, 0);
        Result r = add(lookup(READ), fd, buf.address(), buf.byteSize(), 0, 0, 0, Result.FD, fd);
        memory.keep(buf, "read");
        return r;
    }

    /** write(2) of {@code buf} at the file position; the count. */
    public Result write(int fd, MemorySegment buf) {
        checkOpen(lookup(WRITE));
        boolean inPlace = CallMemory.inPlace(buf, "write");
        Result r = add(lookup(WRITE), fd, memory.writeSource(buf, inPlace), buf.byteSize(), 0, 0, 0, Result.FD, fd);
        if (inPlace) memory.keep(buf, "write");
        return r;
    }

    /** pread64(2) into {@code buf} at {@code offset}; the count. */
    public Result pread(int fd, MemorySegment buf, long offset) {
        CallMemory.checkWritable(buf);
        if (!CallMemory.inPlace(buf, "pread64")) return heapRead(lookup(PREAD64), fd, buf, offset);
        Result r = add(lookup(PREAD64), fd, buf.address(), buf.byteSize(), offset, 0, 0, Result.FD, fd);
        memory.keep(buf, "pread64");
        return r;
    }

    /** A read into a heap or shared arena's segment: through a native copy, copied back after submit. */
    private Result heapRead(SyscallTable.Call c, int fd, MemorySegment buf, long offset) {
        checkOpen(c);
        MemorySegment tmp = memory.arena().allocate(Math.max(1, buf.byteSize()));
        Result r = add(c, fd, tmp.address(), buf.byteSize(), offset, 0, 0, Result.FD, fd);
        memory.addCopyBack(calls.size() - 1, tmp, buf);
        return r;
    }

    /** pwrite64(2) of {@code buf} at {@code offset}; the count. */
    public Result pwrite(int fd, MemorySegment buf, long offset) {
        checkOpen(lookup(PWRITE64));
        boolean inPlace = CallMemory.inPlace(buf, "pwrite64");
        Result r = add(lookup(PWRITE64), fd, memory.writeSource(buf, inPlace), buf.byteSize(), offset, 0, 0, Result.FD, fd);
        if (inPlace) memory.keep(buf, "pwrite64");
        return r;
    }

    /** fsync(2); the result is 0. */
    public Result fsync(int fd) {
        return add(lookup(FSYNC), fd, 0, 0, 0, 0, 0, Result.FD, fd);
    }

    /** fdatasync(2); the result is 0. */
    public Result fdatasync(int fd) {
        return add(lookup(FDATASYNC), fd, 0, 0, 0, 0, 0, Result.FD, fd);
    }

    /** close(2); the result is 0. */
    public Result close(int fd) {
        return add(lookup(CLOSE), fd, 0, 0, 0, 0, 0, Result.FD, fd);
    }

    /** lseek(2); the new file position. */
    public Result lseek(int fd, long offset, int whence) {
        return add(lookup(LSEEK), fd, offset, whence, 0, 0, 0, Result.FD, fd);
    }

    /**
     * openat(2); the new file descriptor. The path is encoded as UTF-8, exactly.
     *
     * @throws IllegalArgumentException if the path holds NUL or a lone surrogate (not added)
     */
    public Result openat(int dirfd, String path, int flags, int mode) {
        checkOpen(lookup(OPENAT));
        byte[] b = CallMemory.utf8(path, "openat");
        Result r = openat(dirfd, b, flags, mode);
        r.path = path;
        return r;
    }

    /** openat(2) of a path given as its bytes; the new file descriptor. */
    public Result openat(int dirfd, byte[] path, int flags, int mode) {
        checkOpen(lookup(OPENAT));
        MemorySegment p = CallMemory.path(memory.arena(), path, "openat");
        Result r = add(lookup(OPENAT), dirfd, p.address(), flags, mode, 0, 0, Result.PATH, 0);
        r.path = new String(path, StandardCharsets.UTF_8);
        return r;
    }

    /**
     * madvise(2) over a native, page-aligned region; the result is 0. As
     * {@link Syscalls#madvise}: a shared arena's region only with advice that keeps contents.
     */
    public Result madvise(MemorySegment region, int advice) {
        Objects.requireNonNull(region, "madvise");
        if (!region.isNative()) throw new IllegalArgumentException("madvise: needs a native segment (Arena.allocate), got a heap segment");
        boolean inPlace = CallMemory.inPlace(region, "madvise");
        if (!inPlace && !CallMemory.keepsContents(advice)) {
            throw new IllegalArgumentException("madvise(addr=0x" + Long.toHexString(region.address()) + ", advice="
                    + advice + "): the region belongs to a shared arena, which another thread may close while the call"
                    + " runs, and this advice changes its contents; use a confined, automatic or global arena's region");
        }
        Result r = add(lookup(MADVISE), region.address(), region.byteSize(), advice, 0, 0, 0, Result.ADDR, region.address());
        if (inPlace) memory.keep(region, "madvise");
        return r;
    }

    /** Calls added since the last submit. */
    public int size() {
        return calls.size();
    }

    private Result add(SyscallTable.Call c, long a0, long a1, long a2, long a3, long a4, long a5,
                       byte argKind, long mainArg) {
        checkOpen(c);
        OwnedFds own = invoker.ownedFds();
        if (own != OwnedFds.NONE) own.check(c, a0, a1, a2, a3, a4, a5);
        int i = calls.add(c, a0, a1, a2, a3, a4, a5);
        Result[] h = handles;
        if (h == null) {
            handles = h = new Result[handlesLength];
        } else if (i == h.length) {
            handles = h = Arrays.copyOf(h, i * 2);
        }
        long arg = argKind == Result.RAW ? Result.RAW_CALL : mainArg;
        Result r = h[i]; // null unless the handles are reused (a fresh array per batch otherwise)
        if (r != null) {
            r.reuse(c, arg); // no reference store: the array holds it already
        } else {
            r = new Result(c, arg);
            h[i] = r;
        }
        return r;
    }

    private void checkOpen(SyscallTable.Call c) {
        if (closed) throw new IllegalStateException(c.name() + ": the batch is closed");
    }

    // ---- submit, close ----

    /**
     * Runs every call added since the last submit and returns when each has a result (see
     * the class comment for how the engines post and wait). Does nothing if no call was
     * added. Afterwards the batch is empty and takes new calls.
     *
     * @throws IOException only if the engine's machinery failed (a wake-up could not be sent);
     *         the handles not settled then fail with the same exception
     * @throws IllegalStateException if the batch is closed
     */
    public void submitAndWait() throws IOException {
        if (closed) throw new IllegalStateException("submitAndWait: the batch is closed");
        int n = calls.size();
        if (n == 0) return;
        memory.recheck();
        IOException machinery = null;
        try {
            if (batcher != null) {
                batcher.invokeBatch(calls);
            } else {
                runOneByOne();
            }
        } catch (IOException | RuntimeException | Error e) {
            machinery = e instanceof IOException io ? io : new IOException("batch submit failed: " + e, e);
            for (int i = 0; i < n; i++) {
                if (!calls.isSettled(i)) calls.fail(i, machinery);
            }
            // Calls the engine had posted may still be running: their memory is never freed.
            memory.quarantine();
            if (!(e instanceof IOException)) {
                publish(n);
                throw e;
            }
        } finally {
            Reference.reachabilityFence(memory); // its in-place segments: the kernel used them until invokeBatch returned
        }
        publish(n);
        if (machinery != null) throw machinery;
    }

    /**
     * {@link #submitAndWait()} under its old name, which hid that it waits.
     *
     * @deprecated use {@link #submitAndWait()}; same contract
     */
    @Deprecated(since = "0.1.0")
    public void submit() throws IOException {
        submitAndWait();
    }

    private void runOneByOne() {
        for (int i = 0, n = calls.size(); i < n; i++) {
            try {
                calls.complete(i, invoker.invoke(calls.nr(i), calls.arg(i, 0), calls.arg(i, 1), calls.arg(i, 2),
                        calls.arg(i, 3), calls.arg(i, 4), calls.arg(i, 5)));
            } catch (IOException e) {
                calls.fail(i, e);
            }
        }
    }

    /** Hands every result to its handle (on the submitting thread, so EINTR is judged here). */
    private void publish(int n) {
        Result[] h = handles;
        // Outcomes first, plain stores with no barrier between handles; then one release
        // fence and the DONE stores: every value and error above is ordered before every
        // DONE below, which is what the readers' acquire loads of state pair with.
        boolean anyFailed = calls.anyFailed();
        for (int i = 0; i < n; i++) {
            IOException f = anyFailed ? calls.failure(i) : null;
            if (f != null) {
                h[i].error = f;
            } else {
                long r = calls.result(i);
                if (r < 0 && !h[i].isRaw()) h[i].error = Syscalls.errorOf(h[i].describe(), r);
                else h[i].value = r;
            }
        }
        for (int k = 0, c = memory.copyBacks(); k < c; k++) {
            int i = memory.copyBackPosition(k);
            if (h[i].error == null && calls.result(i) > 0) {
                RuntimeException gone = memory.copyBack(k, calls.result(i));
                if (gone != null) h[i].error = gone;
            }
        }
        VarHandle.releaseFence();
        for (int i = 0; i < n; i++) {
            h[i].markDone();
        }
        // Full fence: the DONE stores above are ordered before the loads of the future fields
        // below; pairs with future(), which CASes its field then loads state. One of the two
        // sides sees the other, so every future that exists is completed.
        VarHandle.fullFence();
        for (int i = 0; i < n; i++) {
            h[i].completeFuture();
        }
        if (!reuse) {
            handles = null; // the next add starts a new array (see handles)
            handlesLength = Math.max(16, n);
        }
        calls.clear();
        memory.release();
    }

    /**
     * Closes the batch. Calls added and not submitted never run: their handles throw
     * {@link CancellationException} and their futures are cancelled. Idempotent.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        int n = calls.size();
        Result[] h = handles;
        for (int i = 0; i < n; i++) {
            h[i].discard();
        }
        VarHandle.fullFence(); // as in publish()
        for (int i = 0; i < n; i++) {
            h[i].completeFuture();
        }
        handles = null;
        calls.clear();
        memory.release();
    }

    /**
     * The outcome of one call of a batch. Done once its batch was submitted (or closed).
     * Thread-safe: {@link #get()} and {@link #future()} may be called from any thread.
     */
    public static final class Result {
        private static final VarHandle STATE, FUTURE;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                STATE = l.findVarHandle(Result.class, "state", int.class);
                FUTURE = l.findVarHandle(Result.class, "future", CompletableFuture.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** How the adder names the call's main argument (see describe()); not stored. */
        static final byte RAW = 0, NO_ARG = 1, FD = 2, PATH = 3, ADDR = 4;
        /** mainArg of a call added by syscall(): its result is returned raw, -errno included. */
        private static final long RAW_CALL = Long.MIN_VALUE;
        private static final int PENDING = 0, DONE = 1, DISCARDED = 2;

        // The only per-call allocation of a batch (none once the batch reuses its handles): 48
        // bytes with compressed references (the kind of argument is derived in describe(), not
        // stored). Plain fields: set by the adder, on the submitting thread, before the submit.
        private SyscallTable.Call call;
        /** The fd or address that describe() names; RAW_CALL for syscall(). */
        private long mainArg;
        /** openat's path, for describe(); set by the adder. */
        private String path;
        /**
         * Plain: written by the submitter before its release fence and then the store of DONE
         * (publish()), read after an acquire load of DONE.
         */
        private long value;
        /** An IOException, or the IllegalStateException of a read whose shared arena closed while it ran. */
        private Exception error;
        /**
         * PENDING, then DONE or DISCARDED once: DONE by an opaque store after a release fence
         * (publish()), DISCARDED by a release store; readers load it with acquire.
         */
        @SuppressWarnings("unused")
        private int state;
        /** Created on demand by future(), CAS from null. */
        @SuppressWarnings("unused")
        private volatile CompletableFuture<Long> future;

        private Result(SyscallTable.Call call, long mainArg) {
            this.call = call;
            this.mainArg = mainArg;
        }

        /** The batch reuses this handle for a new call (see {@link SyscallBatch#reuseHandles()}). */
        private void reuse(SyscallTable.Call call, long mainArg) {
            this.call = call;
            this.mainArg = mainArg;
            path = null;
            if (error != null) error = null;
            // Plain: the submit publishes the handle again (its release fence, then DONE).
            if (FUTURE.get(this) != null) FUTURE.set(this, null);
            STATE.set(this, PENDING);
        }

        private boolean isRaw() {
            return mainArg == RAW_CALL; // no fd or user-space address is Long.MIN_VALUE
        }

        /** The call, as error messages name it, e.g. {@code pwrite64(fd=7)}. */
        public String describe() {
            if (isRaw() || call.nr() == GETPID) return call.name() + "()";
            if (path != null) return call.name() + "(path=" + path + ")";
            if (call.nr() == MADVISE) return call.name() + "(addr=0x" + Long.toHexString(mainArg) + ")";
            return call.name() + "(fd=" + mainArg + ")";
        }

        /** True once the batch was submitted (this call has its outcome) or closed without it. */
        public boolean isDone() {
            return (int) STATE.getAcquire(this) != PENDING; // acquire: pairs with publish() and discard()
        }

        /**
         * The call's value: what the same method of {@link Syscalls} returns (0 for calls that
         * return nothing; the raw result for {@link SyscallBatch#syscall}).
         *
         * @throws ErrnoException if the call failed (the message names it and the errno)
         * @throws java.io.InterruptedIOException if an interrupt cancelled it
         * @throws EngineClosedException if the engine closed before it ran
         * @throws CancellationException if the batch was closed without submitting it
         * @throws IllegalStateException if its batch has not been submitted yet, or its read's
         *         segment (of a shared arena) was closed while the call ran
         */
        public long get() throws IOException {
            int s = (int) STATE.getAcquire(this); // acquire: value and error are visible
            if (s == DONE) {
                if (error instanceof IOException io) throw io;
                if (error != null) throw (RuntimeException) error;
                return value;
            }
            if (s == DISCARDED) throw discarded();
            throw new IllegalStateException(describe() + ": the batch has not been submitted yet");
        }

        /**
         * A future completed with the same outcome as {@link #get()} (exceptionally with its
         * exception; cancelled if the batch was closed without submitting the call).
         */
        public CompletableFuture<Long> future() {
            CompletableFuture<Long> f = future;
            if (f != null) return f;
            CompletableFuture<Long> mine = new CompletableFuture<>();
            // Volatile CAS (full fence): the future is visible before we load state below;
            // pairs with the submitter's release of state, full fence, then load of future.
            f = (CompletableFuture<Long>) FUTURE.compareAndExchange(this, null, mine);
            if (f != null) return f;
            if (isDone()) completeFuture();
            return mine;
        }

        /**
         * Opaque store of DONE: value or error was stored before the caller's release fence,
         * which orders it before this store (publish()); readers load state with acquire.
         */
        private void markDone() {
            STATE.setOpaque(this, DONE);
        }

        private void discard() {
            STATE.setRelease(this, DISCARDED); // release: pairs with the readers' acquire of state
        }

        /** Completes the future if one exists (idempotent: a second completion is ignored). */
        private void completeFuture() {
            CompletableFuture<Long> f = future;
            if (f == null) return;
            int s = (int) STATE.getAcquire(this);
            if (s == DISCARDED) f.cancel(false);
            else if (s == DONE) {
                if (error != null) f.completeExceptionally(error);
                else f.complete(value);
            }
        }

        private CancellationException discarded() {
            return new CancellationException(describe() + ": the batch was closed before it was submitted; the call did not run");
        }

        @Override
        public String toString() {
            int s = (int) STATE.getAcquire(this);
            return describe() + (s == PENDING ? " (pending)" : s == DISCARDED ? " (discarded)"
                    : error != null ? " failed: " + error.getMessage() : " = " + value);
        }
    }
}
