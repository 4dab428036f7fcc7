package dev.flexsc.nativeimpl;

import com.sun.jna.Pointer;
import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.PageEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.flexsc.abi.SyscallPageDescriptor.GROUP_DONE_SEQ;
import static dev.flexsc.abi.SyscallPageDescriptor.GROUP_WAKE_SEQ;

/**
 * SYSCALL_THREADS: pinned native pthreads of libflexsc execute the entries with
 * syscall(2); one group of pages per syscall CPU, a pool per group so that a call that
 * blocks does not stall the others. Portable: any Linux x86-64 kernel.
 */
public final class SyscallThreadsEngine extends PageEngine {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Pointer handle;
    private final Arena arena;
    private final Pointer base;

    private SyscallThreadsEngine(FlexscConfig config, Pointer handle, Arena arena, MemorySegment mapping, int groups) {
        super(Engine.SYSCALL_THREADS, config, mapping, groups, config.pages(), DirectSyscalls.invoker());
        this.handle = handle;
        this.arena = arena;
        this.base = LibFlexsc.flexsc_st_base(handle);
    }

    /** Opens the engine: maps the pages and starts one executor per syscall CPU. */
    public static SyscallThreadsEngine open(FlexscConfig config) throws ErrnoException {
        LibFlexsc.ensureAvailable();
        int[] cpus = config.syscallCpus();
        int[] err = new int[1];
        Pointer h = LibFlexsc.flexsc_st_create(cpus.length, cpus, config.pages(), config.poolThreads(),
                config.executorSpin(), err);
        if (h == null) {
            throw new ErrnoException("flexsc_st_create(groups=" + cpus.length + ", pages=" + config.pages() + ")", err[0]);
        }
        long size = LibFlexsc.flexsc_st_mapping_size(h);
        long addr = Pointer.nativeValue(LibFlexsc.flexsc_st_base(h));
        // A shared arena: after close(), a stray access throws IllegalStateException
        // instead of touching unmapped memory.
        Arena arena = Arena.ofShared();
        MemorySegment mapping = MemorySegment.ofAddress(addr).reinterpret(size, arena, null);
        return new SyscallThreadsEngine(config, h, arena, mapping, cpus.length);
    }

    private Pointer word(int g, int field) {
        return base.share(groupControlOffset(g) + field);
    }

    @Override
    protected void wakeExecutors(int g) {
        // Volatile RMW: a sleeper that read wake_seq before this add returns from its
        // futex_wait at once (the value it waits on changed).
        INT.getAndAdd(mapping, groupControlOffset(g) + GROUP_WAKE_SEQ, 1);
        LibFlexsc.flexsc_futex_wake(word(g, GROUP_WAKE_SEQ), 1);
    }

    @Override
    protected void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) {
        int r = LibFlexsc.flexsc_futex_wait(word(g, GROUP_DONE_SEQ), seenDoneSeq, timeoutNanos);
        if (r < 0 && r != -Errno.EAGAIN && r != -Errno.EINTR && r != -110 /* ETIMEDOUT */) {
            throw new IllegalStateException("futex_wait(done_seq): " + Errno.symbol(-r));
        }
    }

    @Override
    protected void wakeCallers(int g) {
        LibFlexsc.flexsc_futex_wake(word(g, GROUP_DONE_SEQ), Integer.MAX_VALUE);
    }

    @Override
    protected void cancel(int g, int index) {
        LibFlexsc.flexsc_st_cancel(handle, g, index);
    }

    @Override
    protected boolean stopExecutors(long timeoutMillis) {
        return LibFlexsc.flexsc_st_stop(handle, timeoutMillis * 1_000_000L) == 0;
    }

    @Override
    protected void release(boolean safe) {
        arena.close();
        if (safe) {
            LibFlexsc.flexsc_st_free(handle);
        }
        // else: an executor is stuck in the kernel; leaking the pages is the only safe choice
    }

    @Override
    protected int executorThreads() {
        return LibFlexsc.flexsc_st_threads(handle);
    }
}
