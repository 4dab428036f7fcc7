package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;

/** A way to make a system call: a direct baseline or a FlexSC engine. */
public enum Variant {
    /** FFM downcall on the calling thread: the baseline. */
    DIRECT_FFM("direct (FFM downcall)", false),
    /** JNA direct mapping on the calling thread. */
    DIRECT_JNA("direct (JNA direct mapping)", false),
    /** FlexSC with pinned native syscall threads. */
    SYSCALL_THREADS("FlexSC SYSCALL_THREADS", true);

    public final String label;
    public final boolean flexsc;

    Variant(String label, boolean flexsc) {
        this.label = label;
        this.flexsc = flexsc;
    }

    /** An invoker for this variant; {@code engine} is non-null for FlexSC variants. */
    public SyscallInvoker invoker(FlexscEngine engine) {
        return switch (this) {
            case DIRECT_FFM -> DirectSyscalls.invoker();
            case DIRECT_JNA -> LibFlexsc::flexsc_raw;
            case SYSCALL_THREADS -> (SyscallInvoker) engine;
        };
    }

    /** Opens this variant's engine, or null for a direct baseline. */
    public FlexscEngine open() throws IOException {
        if (!flexsc) return null;
        FlexscConfig cfg = FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).build();
        return SyscallThreadsEngine.open(cfg);
    }
}
