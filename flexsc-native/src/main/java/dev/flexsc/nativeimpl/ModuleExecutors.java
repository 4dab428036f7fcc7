package dev.flexsc.nativeimpl;

import com.sun.jna.Pointer;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.spi.page.ExecutorControl;
import dev.flexsc.spi.page.LocalExecution;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static dev.flexsc.Errno.ENOTTY;
import static dev.flexsc.Errno.EOPNOTSUPP;
import static dev.flexsc.Errno.ESHUTDOWN;
import static dev.flexsc.Errno.ETIMEDOUT;
import static dev.flexsc.abi.SyscallPageDescriptor.*;

/**
 * KERNEL_MODULE's control plane: the module's ioctls on the registration (WAKE, WAIT,
 * CANCEL, STOP) and its SERVE threads, and what the module tells through the pages: that it
 * stopped the registration by itself, and why.
 */
final class ModuleExecutors implements ExecutorControl, LocalExecution {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Pointer handle;
    private final Arena arena;
    /** The engine's view of the pages (closed by release). */
    private final MemorySegment mapping;
    /** Set (volatile) when the engine's close stops the registration: a stop seen after it is ours. */
    private volatile boolean stopRequested;
    /** Why the module stopped the registration by itself; null while it runs or when close() stopped it. */
    private volatile String stopCause;
    private final AtomicBoolean closingAfterStop = new AtomicBoolean();
    /** Closes the engine (set once it is constructed). */
    private volatile Runnable closer = () -> {};
    private final LongAdder recoveryWakes = new LongAdder();

    ModuleExecutors(Pointer handle, Arena arena, MemorySegment mapping) {
        this.handle = handle;
        this.arena = arena;
        this.mapping = mapping;
    }

    /** How the engine closes itself once the module stopped the registration (see {@link #stoppedByModule}). */
    void closeWith(Runnable closer) {
        this.closer = closer;
    }

    /** The registration's descriptor. */
    int deviceFd() {
        return LibFlexsc.flexsc_km_fd(handle);
    }

    /**
     * True if the registration is stopped (no ioctl may go to it any more: after a close of
     * its descriptor the number may belong to another file). If the module stopped it while
     * the engine is open (a close of its descriptor, a seccomp filter, audit), the engine
     * closes itself from another thread (close waits for the entries in flight, the caller's
     * own among them), and the calls that never ran fail with EngineClosedException naming
     * the reason ({@link #stopCause()}).
     */
    private boolean stoppedByModule(int g) {
        // Acquire: stop_reason is written before STOPPING (pairs with the module's barrier).
        int flags = (int) INT.getAcquire(mapping, groupOffset(g) + GROUP_FLAGS);
        if ((flags & GROUP_STOPPING) == 0) return false;
        if (stopRequested) return true; // our own close() stopped it, or the self-close below runs
        int reason = mapping.get(ValueLayout.JAVA_INT, CTRL_STOP_REASON);
        if (closingAfterStop.compareAndSet(false, true)) {
            stopCause = stopReason(reason);
            Thread.ofPlatform().daemon().name("flexsc-km-stopped").start(closer);
        }
        return true;
    }

    /**
     * The sentence for the module's stop reason (struct flexsc_ctrl.stop_reason), read after an
     * acquire load of a group's flags showed STOPPING.
     */
    static String stopReason(int reason) {
        String m = "the kernel module stopped the registration";
        return switch (reason) {
            case STOP_CLOSE -> m + " because this process closed a descriptor of it (for example the engine's own "
                    + KernelModuleEngine.DEVICE + " descriptor through Syscalls.close)";
            case STOP_SECCOMP -> m + " because a thread executing its calls runs under a seccomp filter, which calls"
                    + " made through " + KernelModuleEngine.DEVICE + " would bypass; use SYSCALL_THREADS under seccomp";
            case STOP_AUDIT -> m + " because syscall audit rules apply to a thread executing its calls; remove the"
                    + " rules or use IO_URING or SYSCALL_THREADS";
            case STOP_IOCTL -> m + " because FLEXSC_IOC_STOP was called on it from outside the engine";
            default -> m + " (stop reason " + reason + ")";
        };
    }

    @Override
    public String stopCause() {
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

    /** The module writes done_waiters too (its own count, for information): see ExecutorControl. */
    @Override
    public boolean countsDoneWaiters() {
        return false;
    }

    /** The module owns NEED_WAKEUP (set exactly while no SERVE thread holds the run token). */
    @Override
    public boolean submitterClearsNeedWakeup() {
        return false;
    }

    @Override
    public void wakeExecutors(int g) throws ErrnoException {
        // No ioctl on a registration the module stopped (its descriptor may be closed, its
        // number reused): the caller's wait finds the stop and fails its call.
        if (stoppedByModule(g)) return;
        // The module wakes one sleeping SERVE thread; it takes the group's run token and
        // rescans submit_bits, so the bit published before our flags load is seen.
        int r = LibFlexsc.flexsc_km_wake(handle, g);
        if (r < 0 && r != -ESHUTDOWN && !descriptorGone(r) && !stoppedByModule(g)) {
            throw new ErrnoException("FLEXSC_IOC_WAKE(group " + g + ")", -r);
        }
    }

    @Override
    public void awaitCompletions(int g, int seenDoneSeq, long timeoutNanos) throws ErrnoException {
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
            // Stopped (or about to be), and the engine has not yet seen stopExecutors return:
            // WAIT would return at once again, so do not spin on it.
            stoppedByModule(g);
            LockSupport.parkNanos(100_000L);
        } else if (r < 0 && r != -Errno.EINTR && r != -ETIMEDOUT) {
            throw new ErrnoException("FLEXSC_IOC_WAIT(group " + g + ")", -r);
        }
    }

    private boolean submissionsPending(int g) {
        for (int w = 0; w < BITMAP_WORDS; w++) {
            // Opaque: a hint only; a stale zero just skips one recovery.
            if ((long) LONG.getOpaque(mapping, groupOffset(g) + GROUP_SUBMIT_BITS + 8L * w) != 0) return true;
        }
        return false;
    }

    /** WAKEs sent because a group had submissions but no completion for a whole WAIT timeout. */
    long recoveryWakes() {
        return recoveryWakes.sum();
    }

    /**
     * Ends every WAIT sleep of group g ({@code FLEXSC_IOC_WAKE_WAITERS}): a carrier asleep on
     * the group's done_seq that another thread gave work (its own group in the carrier-local
     * mode, or a SERVE group it watches calls on). After a stop nothing is needed: STOP woke
     * every WAIT sleeper, and every later WAIT returns ESHUTDOWN at once.
     */
    @Override
    public void wakeCallers(int g) throws ErrnoException {
        if (stoppedByModule(g)) return; // no ioctl on a registration the module stopped
        int r = LibFlexsc.flexsc_km_wake_waiters(handle, g);
        if (r < 0 && r != -ESHUTDOWN && !descriptorGone(r) && !stoppedByModule(g)) {
            throw new ErrnoException("FLEXSC_IOC_WAKE_WAITERS(group " + g + ")", -r);
        }
    }

    @Override
    public void cancel(int g, int index) {
        // FLEXSC_IOC_CANCEL: if a thread of the registration is inside entry index's call,
        // its interruptible sleep ends and the entry completes with -EINTR. The caller repeats
        // it while the entry is BUSY (the call may not have reached its sleep yet).
        LibFlexsc.flexsc_km_cancel(handle, g, index);
    }

    @Override
    public boolean stopExecutors(long timeoutMillis) {
        stopRequested = true; // volatile, before STOP: a STOPPING seen after it is ours
        return LibFlexsc.flexsc_km_stop(handle, timeoutMillis * 1_000_000L) == 0;
    }

    @Override
    public void release(boolean safe) {
        arena.close();
        if (safe) {
            LibFlexsc.flexsc_km_free(handle);
        }
        // else: a SERVE thread is stuck in the kernel and still uses the handle; leak it
    }

    @Override
    public int executorThreads() {
        return LibFlexsc.flexsc_km_threads(handle);
    }

    /** {@link KernelModuleEngine#executePending}: WAIT with EXECUTE and no sleep on group g. */
    int executePending(int g) {
        // Acquire: any value will do (timeout 0 never sleeps); read for the ABI's sake.
        return executeAndWait(g, (int) INT.getAcquire(mapping, groupOffset(g) + GROUP_DONE_SEQ), 0);
    }

    /**
     * WAIT with EXECUTE on group g: runs its pending entries in this thread, then sleeps while
     * done_seq reads {@code seenDoneSeq}, up to {@code timeoutNanos}. A carrier's poll and idle
     * on its own group (the carrier-local mode), and {@link #executePending}.
     */
    @Override
    public int executeAndWait(int g, int seenDoneSeq, long timeoutNanos) {
        if (stoppedByModule(g)) return 0;
        int[] executed = new int[1];
        int r = LibFlexsc.flexsc_km_wait(handle, g, WAIT_EXECUTE, timeoutNanos, seenDoneSeq, executed);
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
