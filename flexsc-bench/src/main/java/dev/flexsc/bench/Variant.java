package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;

/**
 * A way to make a system call: a baseline a user would pick instead (direct calls from
 * platform threads through FFM, JNA or the JDK's own API; the same from stock virtual
 * threads) or a FlexSC engine.
 */
public enum Variant {
    /** FFM downcall on platform threads: the main baseline. */
    DIRECT_FFM("direct FFM, platform threads", Threading.PLATFORM, false),
    /** JNA direct mapping on platform threads. */
    DIRECT_JNA("direct JNA, platform threads", Threading.PLATFORM, false),
    /** The JDK's own API (FileChannel) on platform threads; not for getpid (the JDK caches the pid). */
    DIRECT_JDK("JDK FileChannel, platform threads", Threading.PLATFORM, false),
    /** FFM downcall on stock virtual threads (the JDK's scheduler). */
    VT_FFM("direct FFM, stock virtual threads", Threading.VIRTUAL, false),
    /** The JDK's FileChannel on stock virtual threads. */
    VT_JDK("JDK FileChannel, stock virtual threads", Threading.VIRTUAL, false),
    /** FlexSC SYSCALL_THREADS from platform threads pinned to the user CPUs. */
    SYSCALL_THREADS("FlexSC SYSCALL_THREADS, platform threads", Threading.PLATFORM, true),
    /** FlexSC SYSCALL_THREADS from green threads of the FlexSC M:N scheduler (the product). */
    FLEXSC_GREEN("FlexSC SYSCALL_THREADS, FlexSC green threads", Threading.FLEXSC_GREEN, true);

    /** How the calling threads are made. */
    public enum Threading { PLATFORM, VIRTUAL, FLEXSC_GREEN }

    public final String label;
    public final Threading threading;
    public final boolean flexsc;

    Variant(String label, Threading threading, boolean flexsc) {
        this.label = label;
        this.threading = threading;
        this.flexsc = flexsc;
    }

    /** False where the variant has no such call (the JDK has no getpid system call). */
    public boolean supports(CallKind call) {
        return !((this == DIRECT_JDK || this == VT_JDK) && call == CallKind.GETPID);
    }

    /** The raw invoker for syscall-based variants; {@code engine} is non-null for FlexSC variants. */
    public SyscallInvoker invoker(FlexscEngine engine) {
        return switch (this) {
            case DIRECT_FFM, VT_FFM -> DirectSyscalls.invoker();
            case DIRECT_JNA -> LibFlexsc::flexsc_raw;
            case SYSCALL_THREADS, FLEXSC_GREEN -> (SyscallInvoker) engine;
            case DIRECT_JDK, VT_JDK -> throw new IllegalStateException(this + " does not call through an invoker");
        };
    }

    /** Opens this variant's engine, or null for a baseline. */
    public FlexscEngine open() throws IOException {
        if (!flexsc) return null;
        return SyscallThreadsEngine.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build()); // these variants measure the engine
    }

    /** Opens the M:N runtime for {@link #FLEXSC_GREEN}; null for other variants. */
    public dev.flexsc.threads.FlexscRuntime openRuntime() throws IOException {
        if (threading != Threading.FLEXSC_GREEN) return null;
        return dev.flexsc.threads.FlexscRuntime.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
    }
}
