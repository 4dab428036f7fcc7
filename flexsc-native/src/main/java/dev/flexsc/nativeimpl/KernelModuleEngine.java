package dev.flexsc.nativeimpl;

import com.sun.jna.Pointer;
import dev.flexsc.Engine;
import dev.flexsc.EngineUnavailableException;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.PageEngine;

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
 * <p>How the engine maps onto the ioctls (docs/kernel-module.md): submitting is
 * {@link PageEngine}'s protocol, with {@code FLEXSC_IOC_WAKE} when the module left
 * {@code NEED_WAKEUP} set; a caller sleeps in {@code FLEXSC_IOC_WAIT} on {@code done_seq};
 * {@link #executePending(int)} is {@code WAIT(FLEXSC_WAIT_EXECUTE)}: the pending entries of
 * a group run in the calling thread, one kernel entry for the batch; an interrupted caller
 * cancels its call with {@code FLEXSC_IOC_CANCEL}; close is {@code FLEXSC_IOC_STOP}, then
 * munmap and close.
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

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Pointer handle;
    private final Arena arena;
    /** Why the module stopped the registration by itself; null while it runs or when close() stopped it. */
    private volatile String stopCause;
    private final java.util.concurrent.atomic.AtomicBoolean closingAfterStop = new java.util.concurrent.atomic.AtomicBoolean();

    private KernelModuleEngine(FlexscConfig config, Pointer handle, Arena arena, MemorySegment mapping, int groups) {
        super(Engine.KERNEL_MODULE, config, mapping, groups, config.pages(), DirectSyscalls.invoker());
        this.handle = handle;
        this.arena = arena;
        // A close of the registration's descriptor through the engine would stop it: refused.
        ownDescriptors("the engine's /dev/flexsc registration", LibFlexsc.flexsc_km_fd(handle));
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
        int[] cpus = config.syscallCpus();
        int threads = Math.max(2, config.poolThreads());
        int[] err = new int[1], stage = new int[1];
        Pointer h = LibFlexsc.flexsc_km_open(DEVICE, cpus.length, cpus, config.pages(), threads, err, stage);
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
        return new KernelModuleEngine(config, h, arena, mapping, cpus.length);
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

    /**
     * The sentence for the module's stop reason (struct flexsc_ctrl.stop_reason), read after an
     * acquire load of a group's flags showed STOPPING.
     */
    static String stopReason(int reason) {
        String m = "the kernel module stopped the registration";
        return switch (reason) {
            case STOP_CLOSE -> m + " because this process closed a descriptor of it (for example the engine's own "
                    + DEVICE + " descriptor through Syscalls.close)";
            case STOP_SECCOMP -> m + " because a thread executing its calls runs under a seccomp filter, which calls"
                    + " made through " + DEVICE + " would bypass; use SYSCALL_THREADS under seccomp";
            case STOP_AUDIT -> m + " because syscall audit rules apply to a thread executing its calls; remove the"
                    + " rules or use IO_URING or SYSCALL_THREADS";
            case STOP_IOCTL -> m + " because FLEXSC_IOC_STOP was called on it from outside the engine";
            default -> m + " (stop reason " + reason + ")";
        };
    }

    /**
     * True if the registration is stopped (no ioctl may go to it any more: after a close of
     * its descriptor the number may belong to another file). If the module stopped it while
     * this engine is open (a close of its descriptor, a seccomp filter, audit), the engine
     * closes itself from another thread (close waits for the entries in flight, the caller's
     * own among them), and the calls that never ran fail with EngineClosedException naming
     * the reason ({@link #stopCause()}).
     */
    private boolean stoppedByModule(int g) {
        // Acquire: stop_reason is written before STOPPING (pairs with the module's barrier).
        int flags = (int) INT.getAcquire(mapping, groupControlOffset(g) + GROUP_FLAGS);
        if ((flags & GROUP_STOPPING) == 0) return false;
        if (!isOpen()) return true; // our own close() stopped it, or the self-close below runs
        int reason = mapping.get(ValueLayout.JAVA_INT, CTRL_STOP_REASON);
        if (closingAfterStop.compareAndSet(false, true)) {
            stopCause = stopReason(reason);
            Thread.ofPlatform().daemon().name("flexsc-km-stopped").start(this::close);
        }
        return true;
    }

    @Override
    protected String stopCause() {
        return stopCause;
    }

    /**
     * An ioctl failed with EBADF or ENOTTY: the engine's descriptor was closed (and maybe its
     * number reused) by this process. close() removes the number before the module's flush
     * stops the registration, so the stop follows at once: the caller re-checks.
     */
    private static boolean descriptorGone(int r) {
        return r == -Errno.EBADF || r == -ENOTTY;
    }

    /** The registration's descriptor, for tests that close it from outside the engine. */
    int deviceFd() {
        return LibFlexsc.flexsc_km_fd(handle);
    }

    /** The module owns NEED_WAKEUP (set exactly while no SERVE thread holds the run token). */
    @Override
    protected boolean submitterClearsNeedWakeup() {
        return false;
    }

    @Override
    protected void wakeExecutors(int g) {
        // No ioctl on a registration the module stopped (its descriptor may be closed, its
        // number reused): the caller's wait finds the stop and fails its call.
        if (stoppedByModule(g)) return;
        // The module wakes one sleeping SERVE thread; it takes the group's run token and
        // rescans submit_bits, so the bit published before our flags load is seen.
        int r = LibFlexsc.flexsc_km_wake(handle, g);
        if (r < 0 && r != -ESHUTDOWN && !descriptorGone(r) && !stoppedByModule(g)) {
            throw new IllegalStateException("FLEXSC_IOC_WAKE(group " + g + "): " + Errno.symbol(-r));
        }
    }

    @Override
    protected void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) {
        if (stoppedByModule(g)) {
            // No ioctl on a registration the module stopped: after a close its descriptor's
            // number may belong to another file. close() (started above) wakes this caller.
            LockSupport.parkNanos(100_000L);
            return;
        }
        // WAIT sleeps only while done_seq == seenDoneSeq (the module compares under its
        // waitqueue), so a DONE published after the caller's acquire load of done_seq
        // makes it return at once: no lost wake-up.
        int r = LibFlexsc.flexsc_km_wait(handle, g, 0, timeoutNanos, seenDoneSeq, null);
        if (r == -ETIMEDOUT && submissionsPending(g)) {
            // No completion in the whole group for timeoutNanos while entries wait: WAKE
            // again (harmless if spurious). Covers a wake-up lost between the module and
            // this engine; see docs/kernel-module.md ("recovery wake-ups"), counted in
            // recoveryWakes() so that tests make it visible.
            recoveryWakes.increment();
            wakeExecutors(g);
        } else if (r == -ESHUTDOWN || descriptorGone(r)) {
            // Stopped (or about to be), and PageEngine has not yet seen stopExecutors return:
            // WAIT would return at once again, so do not spin on it.
            stoppedByModule(g);
            LockSupport.parkNanos(100_000L);
        } else if (r < 0 && r != -Errno.EINTR && r != -ETIMEDOUT) {
            throw new IllegalStateException("FLEXSC_IOC_WAIT(group " + g + "): " + Errno.symbol(-r));
        }
    }

    private final java.util.concurrent.atomic.LongAdder recoveryWakes = new java.util.concurrent.atomic.LongAdder();

    private boolean submissionsPending(int g) {
        for (int w = 0; w < BITMAP_WORDS; w++) {
            // Opaque: a hint only; a stale zero just skips one recovery.
            if ((long) LONG.getOpaque(mapping, groupControlOffset(g) + GROUP_SUBMIT_BITS + 8L * w) != 0) return true;
        }
        return false;
    }

    /** WAKEs sent because a group had submissions but no completion for a whole WAIT timeout. */
    public long recoveryWakes() {
        return recoveryWakes.sum();
    }

    @Override
    protected void wakeCallers(int g) {
        // Nothing to do: STOP (stopExecutors) already woke every WAIT sleeper, and every
        // later WAIT returns ESHUTDOWN at once.
    }

    @Override
    protected void cancel(int g, int index) {
        // FLEXSC_IOC_CANCEL: if a thread of the registration is inside entry index's call,
        // its interruptible sleep ends and the entry completes with -EINTR. PageEngine repeats
        // it while the entry is BUSY (the call may not have reached its sleep yet).
        LibFlexsc.flexsc_km_cancel(handle, g, index);
    }

    @Override
    protected boolean stopExecutors(long timeoutMillis) {
        return LibFlexsc.flexsc_km_stop(handle, timeoutMillis * 1_000_000L) == 0;
    }

    @Override
    protected void release(boolean safe) {
        arena.close();
        if (safe) {
            LibFlexsc.flexsc_km_free(handle);
        }
        // else: a SERVE thread is stuck in the kernel and still uses the handle; leak it
    }

    @Override
    protected int executorThreads() {
        return LibFlexsc.flexsc_km_threads(handle);
    }

    /**
     * Runs every pending entry of group g in the calling thread ({@code FLEXSC_IOC_WAIT} with
     * {@code FLEXSC_WAIT_EXECUTE} and no sleep): same-core batching, one kernel entry for the
     * whole batch. Calls that may block are left to the SERVE threads. Returns the number
     * executed; 0 once the engine is closed (not to be called concurrently with close).
     */
    public int executePending(int g) {
        if (!isOpen()) return 0;
        if (g < 0 || g >= groups()) throw new IndexOutOfBoundsException("group " + g + " of " + groups());
        if (stoppedByModule(g)) return 0;
        // Acquire: any value will do (timeout 0 never sleeps); read for the ABI's sake.
        int seq = (int) INT.getAcquire(mapping, groupControlOffset(g) + GROUP_DONE_SEQ);
        int[] executed = new int[1];
        int r = LibFlexsc.flexsc_km_wait(handle, g, WAIT_EXECUTE, 0, seq, executed);
        if (r == -ESHUTDOWN || r == -Errno.EPERM || r == -EOPNOTSUPP || descriptorGone(r)) {
            // Stopped, or refused in this thread (seccomp, audit), which stops the registration.
            stoppedByModule(g);
            return 0;
        }
        if (r < 0 && r != -Errno.EINTR && r != -ETIMEDOUT) {
            throw new IllegalStateException("FLEXSC_IOC_WAIT(group " + g + ", EXECUTE): " + Errno.symbol(-r));
        }
        return executed[0];
    }
}
