package dev.flexsc.bench;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;

/**
 * A way to make a system call: a baseline a user would pick instead (direct calls from
 * platform threads through FFM, JNA or the JDK's own API; the same from stock virtual
 * threads) or a FlexSC engine, called from platform threads or from green threads of the
 * FlexSC M:N scheduler. Every engine of {@link Engine#AUTO_ORDER} has both; a variant whose
 * engine this machine cannot run is reported as skipped with {@link Flexsc#probe()}'s reason
 * ({@link #unavailabilityCause()}), never dropped silently.
 */
public enum Variant {
    /** FFM downcall on platform threads: the main baseline. */
    DIRECT_FFM("direct FFM, platform threads", Threading.PLATFORM, null),
    /** JNA direct mapping on platform threads. */
    DIRECT_JNA("direct JNA, platform threads", Threading.PLATFORM, null),
    /** The JDK's own API (FileChannel) on platform threads; not for getpid (the JDK caches the pid). */
    DIRECT_JDK("JDK FileChannel, platform threads", Threading.PLATFORM, null),
    /** FFM downcall on stock virtual threads (the JDK's scheduler). */
    VT_FFM("direct FFM, stock virtual threads", Threading.VIRTUAL, null),
    /** The JDK's FileChannel on stock virtual threads. */
    VT_JDK("JDK FileChannel, stock virtual threads", Threading.VIRTUAL, null),
    /** FlexSC SYSCALL_THREADS from platform threads pinned to the user CPUs. */
    SYSCALL_THREADS("FlexSC SYSCALL_THREADS, platform threads", Threading.PLATFORM, Engine.SYSCALL_THREADS),
    /** FlexSC SYSCALL_THREADS from green threads of the FlexSC M:N scheduler (the product). */
    FLEXSC_GREEN("FlexSC SYSCALL_THREADS, FlexSC green threads", Threading.FLEXSC_GREEN, Engine.SYSCALL_THREADS),
    /** FlexSC IO_URING (one io_uring_enter per batch, on the caller's core) from platform threads. */
    IO_URING("FlexSC IO_URING, platform threads", Threading.PLATFORM, Engine.IO_URING),
    /** FlexSC IO_URING from FlexSC green threads. */
    IO_URING_GREEN("FlexSC IO_URING, FlexSC green threads", Threading.FLEXSC_GREEN, Engine.IO_URING),
    /** FlexSC IO_URING_SQPOLL (a kernel thread polls the ring on the syscall CPU) from platform threads. */
    IO_URING_SQPOLL("FlexSC IO_URING_SQPOLL, platform threads", Threading.PLATFORM, Engine.IO_URING_SQPOLL),
    /** FlexSC IO_URING_SQPOLL from FlexSC green threads. */
    IO_URING_SQPOLL_GREEN("FlexSC IO_URING_SQPOLL, FlexSC green threads", Threading.FLEXSC_GREEN, Engine.IO_URING_SQPOLL),
    /** FlexSC KERNEL_MODULE (in-kernel syscall threads from /dev/flexsc) from platform threads. */
    KERNEL_MODULE("FlexSC KERNEL_MODULE, platform threads", Threading.PLATFORM, Engine.KERNEL_MODULE),
    /** FlexSC KERNEL_MODULE from FlexSC green threads. */
    KERNEL_MODULE_GREEN("FlexSC KERNEL_MODULE, FlexSC green threads", Threading.FLEXSC_GREEN, Engine.KERNEL_MODULE),
    /** SYSCALL_THREADS from FlexSC green threads under the default call policy: what an adopter gets. */
    FLEXSC_GREEN_ADAPTIVE("FlexSC SYSCALL_THREADS, FlexSC green threads, ADAPTIVE", Threading.FLEXSC_GREEN,
            Engine.SYSCALL_THREADS, CallPolicy.ADAPTIVE),
    /** IO_URING from FlexSC green threads under the default call policy. */
    IO_URING_GREEN_ADAPTIVE("FlexSC IO_URING, FlexSC green threads, ADAPTIVE", Threading.FLEXSC_GREEN, Engine.IO_URING,
            CallPolicy.ADAPTIVE),
    /** IO_URING_SQPOLL from FlexSC green threads under the default call policy. */
    IO_URING_SQPOLL_GREEN_ADAPTIVE("FlexSC IO_URING_SQPOLL, FlexSC green threads, ADAPTIVE", Threading.FLEXSC_GREEN,
            Engine.IO_URING_SQPOLL, CallPolicy.ADAPTIVE),
    /** KERNEL_MODULE from FlexSC green threads under the default call policy. */
    KERNEL_MODULE_GREEN_ADAPTIVE("FlexSC KERNEL_MODULE, FlexSC green threads, ADAPTIVE", Threading.FLEXSC_GREEN,
            Engine.KERNEL_MODULE, CallPolicy.ADAPTIVE);

    /**
     * {@code ./flexsc bench}'s quick table: direct FFM from platform and stock virtual
     * threads, and for every engine FlexSC green threads under the default policy (ADAPTIVE)
     * beside the same under EXCEPTIONLESS (every call posted).
     */
    public static final java.util.List<Variant> QUICK = java.util.List.of(DIRECT_FFM, VT_FFM,
            FLEXSC_GREEN_ADAPTIVE, FLEXSC_GREEN, IO_URING_GREEN_ADAPTIVE, IO_URING_GREEN,
            IO_URING_SQPOLL_GREEN_ADAPTIVE, IO_URING_SQPOLL_GREEN, KERNEL_MODULE_GREEN_ADAPTIVE, KERNEL_MODULE_GREEN);

    /** How the calling threads are made. */
    public enum Threading { PLATFORM, VIRTUAL, FLEXSC_GREEN }

    public final String label;
    public final Threading threading;
    /** The FlexSC engine, or null for a baseline. */
    public final Engine engine;
    /** True for FlexSC variants (an engine executes the calls). */
    public final boolean flexsc;
    /**
     * The call policy of a FlexSC variant: EXCEPTIONLESS unless its label names another (these
     * rows measure the engine; PolicyStudy compares the policies); null for baselines.
     */
    public final CallPolicy policy;

    Variant(String label, Threading threading, Engine engine) {
        this(label, threading, engine, engine == null ? null : CallPolicy.EXCEPTIONLESS);
    }

    Variant(String label, Threading threading, Engine engine, CallPolicy policy) {
        this.label = label;
        this.threading = threading;
        this.engine = engine;
        this.flexsc = engine != null;
        this.policy = policy;
    }

    /** False where the variant has no such call (the JDK has no getpid system call). */
    public boolean supports(CallKind call) {
        return !((this == DIRECT_JDK || this == VT_JDK) && call == CallKind.GETPID);
    }

    /**
     * Null if this variant can run here, else why not: {@link Flexsc#probe()}'s reason for
     * its engine, or {@link dev.flexsc.threads.FlexscScheduler#unavailabilityCause()} for
     * green threads. Baselines are always available.
     */
    public String unavailabilityCause() {
        if (engine == null) return null;
        for (EngineAvailability a : Flexsc.probe()) {
            if (a.engine() == engine && !a.available()) return engine + " unavailable: " + a.reason();
        }
        if (threading == Threading.FLEXSC_GREEN) {
            String why = dev.flexsc.threads.FlexscScheduler.unavailabilityCause();
            if (why != null) return "FlexSC green threads unavailable: " + why;
        }
        return null;
    }

    /** The variant whose label is {@code label}, for tables and reports. */
    public static Variant ofLabel(String label) {
        for (Variant v : values()) if (v.label.equals(label)) return v;
        throw new IllegalArgumentException("no variant labelled " + label);
    }

    /** The raw invoker for syscall-based variants; {@code engine} is non-null for FlexSC variants. */
    public SyscallInvoker invoker(FlexscEngine engine) {
        return switch (this) {
            case DIRECT_FFM, VT_FFM -> DirectSyscalls.invoker();
            case DIRECT_JNA -> LibFlexsc::flexsc_raw;
            case DIRECT_JDK, VT_JDK -> throw new IllegalStateException(this + " does not call through an invoker");
            default -> (SyscallInvoker) engine;
        };
    }

    /** This variant's engine configuration (the defaults: syscall CPU = the last CPU this process may run on). */
    public FlexscConfig config() {
        if (engine == null) throw new IllegalStateException(this + " has no engine");
        return FlexscConfig.builder().engine(engine).policy(policy).build();
    }

    /**
     * Opens this variant's engine for platform-thread callers, or null for a baseline and
     * for green-thread variants (see {@link #openRuntime()}).
     *
     * @throws dev.flexsc.EngineUnavailableException if the engine cannot run here
     */
    public FlexscEngine open() throws IOException {
        if (engine == null || threading == Threading.FLEXSC_GREEN) return null;
        return Flexsc.open(config());
    }

    /** Opens the M:N runtime (engine and scheduler) for a green-thread variant; null for other variants. */
    public dev.flexsc.threads.FlexscRuntime openRuntime() throws IOException {
        if (threading != Threading.FLEXSC_GREEN) return null;
        return dev.flexsc.threads.FlexscRuntime.open(config());
    }

    /**
     * Names of this process's threads whose CPU time is the syscall side for this variant's
     * engine (prefixes of /proc/self/task/TID/comm); empty for baselines. The io_uring
     * engines route calls io_uring lacks (getpid) to SYSCALL_THREADS, so its executors count too.
     */
    public String[] syscallThreadNames() {
        if (engine == null) return new String[0];
        return switch (engine) {
            case SYSCALL_THREADS -> new String[] {"flexsc-exec"};
            case KERNEL_MODULE -> new String[] {"flexsc-kserve"};
            // SQPOLL: the kernel's SQ polling thread runs every ring call; io-wq workers run the
            // ones it punts. IO_URING: the caller's io_uring_enter runs the calls inline (that is
            // application CPU, said in the report); only punted work shows up in io-wq workers.
            case IO_URING_SQPOLL -> new String[] {"iou-sqp-", "iou-wrk-", "flexsc-exec"};
            case IO_URING -> new String[] {"iou-wrk-", "flexsc-exec"};
            case AUTO -> throw new IllegalStateException("AUTO is not a variant's engine");
        };
    }

    /** One sentence on what the syscall-CPU column covers for this engine (null for baselines). */
    public String syscallCpuNote() {
        if (engine == null) return null;
        return switch (engine) {
            case SYSCALL_THREADS -> "SYSCALL_THREADS: syscall CPU = the libflexsc executors (flexsc-exec threads).";
            case KERNEL_MODULE -> "KERNEL_MODULE: syscall CPU = the SERVE threads parked in the module (flexsc-kserve).";
            case IO_URING_SQPOLL -> "IO_URING_SQPOLL: syscall CPU = the kernel's SQ polling thread (iou-sqp-PID) plus io-wq"
                    + " workers (iou-wrk-PID) and, for calls io_uring lacks (getpid), the SYSCALL_THREADS fallback's executors.";
            case IO_URING -> "IO_URING: the calling thread does the work itself inside io_uring_enter, so that cost is in"
                    + " app CPU; syscall CPU = only io-wq workers (iou-wrk-PID) and the SYSCALL_THREADS fallback (getpid).";
            case AUTO -> throw new IllegalStateException("AUTO is not a variant's engine");
        };
    }
}
