package dev.flexsc.nativeimpl;

import com.sun.jna.Pointer;
import dev.flexsc.Engine;
import dev.flexsc.EngineUnavailableException;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.page.PageEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.abi.SyscallPageDescriptor.*;
import static dev.flexsc.Errno.ENOMEM;
import static dev.flexsc.Errno.EOPNOTSUPP;
import static dev.flexsc.Errno.ENODEV;
import static dev.flexsc.Errno.ENOTTY;
import static dev.flexsc.Errno.ENXIO;
import static dev.flexsc.Errno.EPROTO;
import static dev.flexsc.Errno.ESHUTDOWN;
import static dev.flexsc.Errno.ETIMEDOUT;

/**
 * KERNEL_MODULE: the faithful FlexSC. The pages are registered with {@code /dev/flexsc}
 * (kernel-module/flexsc.c) and executed by in-kernel syscall threads that are threads of
 * this process: native pthreads of libflexsc ({@code flexsc-kserve}, pinned to their
 * syscall CPU, every signal blocked) parked in {@code FLEXSC_IOC_SERVE}. Calls therefore
 * run with this process's pid, files, memory and credentials, and no thread traps per call.
 *
 * <p>How the engine maps onto the ioctls (docs/kernel-module.md; {@link ModuleExecutors} is
 * the control plane): submitting is {@link PageEngine}'s protocol, with {@code FLEXSC_IOC_WAKE}
 * when the module left {@code NEED_WAKEUP} set; a caller sleeps in {@code FLEXSC_IOC_WAIT} on
 * {@code done_seq}; {@link #executePending(int)} is {@code WAIT(FLEXSC_WAIT_EXECUTE)}: the
 * pending entries of a group run in the calling thread, one kernel entry for the batch; an
 * interrupted caller cancels its call with {@code FLEXSC_IOC_CANCEL}; close is
 * {@code FLEXSC_IOC_STOP}, then munmap and close.
 *
 * <p>The module cannot start threads of the process, so the pool is started up front:
 * {@code max(2, poolThreads)} SERVE threads per group (one runs entries, the others are
 * spares that take the group over while it sleeps inside a call; a spare costs a kernel
 * stack and sleeps without using CPU). More simultaneously blocked calls than that wait for
 * one to return, as with SYSCALL_THREADS' pool limit.
 */
public final class KernelModuleEngine extends PageEngine {
    /** The module's device. */
    public static final String DEVICE = "/dev/flexsc";
    /** Thread name of the SERVE threads (set by libflexsc). */
    public static final String THREAD_NAME = "flexsc-kserve";

    private final ModuleExecutors executors;

    private KernelModuleEngine(FlexscConfig config, MemorySegment mapping, int groups, int[] carrierCpus,
                               ModuleExecutors executors) {
        super(Engine.KERNEL_MODULE, config, mapping, groups, config.pages(), DirectSyscalls.invoker(), executors,
                carrierCpus);
        this.executors = executors;
        // The module stopped the registration by itself: the engine closes (from another thread).
        executors.closeWith(this::close);
        // A close of the registration's descriptor through the engine would stop it: refused.
        ownDescriptors("the engine's /dev/flexsc registration", executors.deviceFd());
    }

    /**
     * Opens the engine: registers {@code config.pages()} pages per syscall CPU with the module,
     * maps them and starts the SERVE threads.
     *
     * @throws EngineUnavailableException if the module is missing, refuses this process or
     *         speaks another ABI (the message says which, as {@link #unavailabilityCause()})
     * @throws ErrnoException if mapping or starting threads failed
     */
    public static KernelModuleEngine open(FlexscConfig config) throws ErrnoException, EngineUnavailableException {
        LibFlexsc.ensureAvailable();
        int[] serveCpus = config.syscallCpus();
        int[] carrierCpus = carrierGroupCpus(config);
        int threads = Math.max(2, config.poolThreads());
        int[] err = new int[1], stage = new int[1];
        int[] cpus = concat(serveCpus, carrierCpus);
        Pointer h = LibFlexsc.flexsc_km_open(DEVICE, cpus.length, cpus, config.pages(), threads, serveCpus.length, err, stage);
        if (h == null && carrierCpus.length > 0 && stage[0] == LibFlexsc.KM_STAGE_REGISTER && err[0] == ENOMEM) {
            // The carrier groups' pages did not fit (RLIMIT_MEMLOCK, the memory cgroup): the
            // engine still works in the multi-core mode, which needs only the syscall groups.
            carrierCpus = new int[0];
            cpus = serveCpus;
            h = LibFlexsc.flexsc_km_open(DEVICE, cpus.length, cpus, config.pages(), threads, serveCpus.length, err, stage);
        }
        if (h == null) {
            if (stage[0] == LibFlexsc.KM_STAGE_OPEN || stage[0] == LibFlexsc.KM_STAGE_REGISTER) {
                throw new EngineUnavailableException(Engine.KERNEL_MODULE, describe(stage[0], err[0]));
            }
            throw new ErrnoException((stage[0] == LibFlexsc.KM_STAGE_MMAP ? "mmap(" + DEVICE + ")"
                    : "starting " + threads + " SERVE threads per group") + " for groups=" + cpus.length
                    + ", pages=" + config.pages(), err[0]);
        }
        long size = LibFlexsc.flexsc_km_mapping_size(h);
        long addr = Pointer.nativeValue(LibFlexsc.flexsc_km_base(h));
        // A shared arena: after close(), a stray access throws IllegalStateException
        // instead of touching unmapped memory.
        Arena arena = Arena.ofShared();
        MemorySegment mapping = MemorySegment.ofAddress(addr).reinterpret(size, arena, null);
        // The module wrote the header at REGISTER; a mismatch means another module answered.
        int magic = mapping.get(ValueLayout.JAVA_INT, CTRL_MAGIC);
        int abi = mapping.get(ValueLayout.JAVA_INT, CTRL_ABI_VERSION);
        int entries = mapping.get(ValueLayout.JAVA_INT, CTRL_ENTRIES);
        if (magic != MAGIC || abi != ABI_VERSION || entries != entries(config.pages())) {
            LibFlexsc.flexsc_km_stop(h, config.closeTimeoutMillis() * 1_000_000L);
            arena.close();
            LibFlexsc.flexsc_km_free(h);
            throw new EngineUnavailableException(Engine.KERNEL_MODULE, String.format(
                    "the header %s wrote does not match this build (magic 0x%x, ABI %d, %d entries; expected"
                            + " 0x%x, ABI %d, %d): reload kernel-module/flexsc.ko built from this source tree",
                    DEVICE, magic, abi, entries, MAGIC, ABI_VERSION, entries(config.pages())));
        }
        return new KernelModuleEngine(config, mapping, cpus.length, carrierCpus,
                new ModuleExecutors(h, arena, mapping));
    }

    /**
     * One carrier group per user CPU in the carrier-local mode, as many as the module's group
     * limit leaves; none in the multi-core mode. They have no SERVE threads (a carrier runs its
     * own); the carrier pinned to a CPU gets that CPU's group (PageEngine's carrier groups).
     */
    static int[] carrierGroupCpus(FlexscConfig config) {
        if (!config.moduleCarrierLocal()) return new int[0];
        int[] user = config.userCpus();
        int room = MAX_GROUPS - config.syscallCpus().length;
        return java.util.Arrays.copyOf(user, Math.max(0, Math.min(user.length, room)));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /**
     * Null if {@code /dev/flexsc} can be opened and registered by this process, else why not,
     * as one sentence. Opens the device and registers one page (freed at once): cheap.
     */
    public static String unavailabilityCause() {
        String lib = LibFlexsc.unavailabilityCause();
        if (lib != null) return lib;
        if (!java.nio.file.Files.exists(java.nio.file.Path.of(DEVICE))) {
            return DEVICE + " not found (load kernel-module/flexsc.ko: see docs/kernel-module.md)";
        }
        int[] stage = new int[1];
        int err = LibFlexsc.flexsc_km_probe(DEVICE, stage);
        return err == 0 ? null : describe(stage[0], err);
    }

    /** The reason open or REGISTER failed, as a sentence a user can act on. */
    static String describe(int stage, int err) {
        String e = Errno.symbol(err) + ", " + Errno.meaning(err);
        if (stage == LibFlexsc.KM_STAGE_OPEN) {
            return switch (err) {
                case Errno.ENOENT -> DEVICE + " not found (load kernel-module/flexsc.ko: see docs/kernel-module.md)";
                case Errno.EACCES, Errno.EPERM -> "permission denied opening " + DEVICE + " (" + e + "): the module"
                        + " creates it with mode 0666; check the node's mode, a udev rule, or the container's device"
                        + " policy";
                case ENXIO, ENODEV -> DEVICE + " exists but no driver answers it (" + e + "): load"
                        + " kernel-module/flexsc.ko (see docs/kernel-module.md)";
                default -> "open(" + DEVICE + "): " + e;
            };
        }
        return switch (err) {
            case Errno.EPERM -> "the module refuses this thread (FLEXSC_IOC_REGISTER: EPERM) because it runs under a"
                    + " seccomp filter, which calls made through " + DEVICE + " would bypass; run without the"
                    + " filter, or use SYSCALL_THREADS (its calls are system calls the filter sees)";
            case EOPNOTSUPP -> "the module refuses this thread (FLEXSC_IOC_REGISTER: EOPNOTSUPP) because syscall audit"
                    + " rules apply to it, and calls made through " + DEVICE + " would share one audit record; remove"
                    + " the rules (auditctl -D), exclude the process from auditing, or use IO_URING or SYSCALL_THREADS";
            case ENOMEM -> "FLEXSC_IOC_REGISTER on " + DEVICE + ": ENOMEM: out of memory, over the memory cgroup's"
                    + " limit, or over RLIMIT_MEMLOCK (the syscall pages count as locked memory of this user): raise"
                    + " ulimit -l, or configure fewer syscall CPUs or pages";
            case EPROTO -> "the loaded flexsc.ko speaks another syscall-page ABI (FLEXSC_IOC_REGISTER: EPROTO; this"
                    + " build has ABI " + ABI_VERSION + "): reload kernel-module/flexsc.ko built from this source tree";
            case ENOTTY -> DEVICE + " is not the FlexSC module (FLEXSC_IOC_REGISTER: ENOTTY)";
            default -> "FLEXSC_IOC_REGISTER on " + DEVICE + ": " + e;
        };
    }

    /** The registration's descriptor, for tests that close it from outside the engine. */
    int deviceFd() {
        return executors.deviceFd();
    }

    /** WAKEs sent because a group had submissions but no completion for a whole WAIT timeout. */
    public long recoveryWakes() {
        return executors.recoveryWakes();
    }

    /**
     * Runs every pending entry of group g in the calling thread ({@code FLEXSC_IOC_WAIT} with
     * {@code FLEXSC_WAIT_EXECUTE} and no sleep): same-core batching, one kernel entry for the
     * whole batch. Calls that may block are left to the SERVE threads. Returns the number
     * executed; 0 once the engine is closed (not to be called concurrently with close).
     *
     * @throws IllegalStateException if the ioctl failed otherwise than by the registration's stop
     */
    public int executePending(int g) {
        if (!isOpen()) return 0;
        if (g < 0 || g >= groups()) throw new IndexOutOfBoundsException("group " + g + " of " + groups());
        return executors.executePending(g);
    }
}
