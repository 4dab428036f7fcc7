package dev.flexsc.nativeimpl;

import com.sun.jna.Pointer;
import dev.flexsc.Engine;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.page.PageEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * SYSCALL_THREADS: pinned native pthreads of libflexsc execute the entries with
 * syscall(2); one group of pages per syscall CPU, a pool per group so that a call that
 * blocks does not stall the others ({@link PthreadExecutors}). Portable: any Linux x86-64
 * kernel.
 */
public final class SyscallThreadsEngine extends PageEngine {
    private SyscallThreadsEngine(FlexscConfig config, MemorySegment mapping, int groups, PthreadExecutors executors) {
        super(Engine.SYSCALL_THREADS, config, mapping, groups, config.pages(), DirectSyscalls.invoker(), executors);
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
        return new SyscallThreadsEngine(config, mapping, cpus.length, new PthreadExecutors(h, arena, mapping));
    }
}
