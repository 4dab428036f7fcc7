package dev.flexsc.nativeimpl;

import com.sun.jna.Pointer;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.spi.page.ExecutorControl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.abi.SyscallPageDescriptor.GROUP_DONE_SEQ;
import static dev.flexsc.abi.SyscallPageDescriptor.GROUP_WAKE_SEQ;
import static dev.flexsc.abi.SyscallPageDescriptor.groupOffset;

/**
 * SYSCALL_THREADS' control plane: libflexsc's pinned pthreads, a pool per group, which sleep
 * on the group's wake_seq futex and wake callers on its done_seq futex.
 */
final class PthreadExecutors implements ExecutorControl {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Pointer handle;
    private final Arena arena;
    /** The engine's view of the pages (closed by release). */
    private final MemorySegment mapping;
    private final Pointer base;

    PthreadExecutors(Pointer handle, Arena arena, MemorySegment mapping) {
        this.handle = handle;
        this.arena = arena;
        this.mapping = mapping;
        this.base = LibFlexsc.flexsc_st_base(handle);
    }

    private Pointer word(int g, int field) {
        return base.share(groupOffset(g) + field);
    }

    @Override
    public void wakeExecutors(int g) {
        // Volatile RMW: a sleeper that read wake_seq before this add returns from its
        // futex_wait at once (the value it waits on changed).
        INT.getAndAdd(mapping, groupOffset(g) + GROUP_WAKE_SEQ, 1);
        LibFlexsc.flexsc_futex_wake(word(g, GROUP_WAKE_SEQ), 1);
    }

    @Override
    public void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) throws ErrnoException {
        int r = LibFlexsc.flexsc_futex_wait(word(g, GROUP_DONE_SEQ), seenDoneSeq, timeoutNanos);
        if (r < 0 && r != -Errno.EAGAIN && r != -Errno.EINTR && r != -Errno.ETIMEDOUT) {
            throw new ErrnoException("futex_wait(done_seq of group " + g + ")", -r);
        }
    }

    @Override
    public void wakeCallers(int g) {
        LibFlexsc.flexsc_futex_wake(word(g, GROUP_DONE_SEQ), Integer.MAX_VALUE);
    }

    @Override
    public void cancel(int g, int index) {
        LibFlexsc.flexsc_st_cancel(handle, g, index);
    }

    @Override
    public boolean stopExecutors(long timeoutMillis) {
        return LibFlexsc.flexsc_st_stop(handle, timeoutMillis * 1_000_000L) == 0;
    }

    @Override
    public void release(boolean safe) {
        arena.close();
        if (safe) {
            LibFlexsc.flexsc_st_free(handle);
        }
        // else: an executor is stuck in the kernel; leaking the pages is the only safe choice
    }

    @Override
    public int executorThreads() {
        return LibFlexsc.flexsc_st_threads(handle);
    }
}
