package dev.flexsc.nativeimpl.uring;

import dev.flexsc.EngineClosedException;
import dev.flexsc.Errno;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.spi.CancelScope;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * The readiness wait of a thread with no carrier ring (a platform thread, a virtual thread of
 * the JDK's scheduler): poll(2) of one descriptor made directly, as the JDK's channels wait on
 * a platform thread, in slices of {@link #SLICE_MS}. Between slices it looks at the thread's
 * interrupt status, the {@link CancelScope} it runs in (a channel's close) and the engine's
 * close, which no poll(2) notices by itself (the JDK signals the blocked thread instead);
 * so they are noticed within one slice, as a platform thread's wait on a ring notices them
 * ({@link RingWaits#PLATFORM_WAIT_SLICE_NANOS}).
 *
 * <p>Why not a POLL_ADD entry on a borrowed platform ring: the same wait there costs more CPU
 * per wake-up (the ring's submit-and-wait entry, the completion's task work and the reap: a
 * pipe round trip between two platform threads took 19-42 us of CPU against 9-25 us with
 * poll(2) on a 2-CPU machine, docs/io.md), and a platform thread has nothing else to run
 * while it waits, so the ring saves it nothing.
 */
final class SlicedPoll {
    private SlicedPoll() {}

    /** The longest single poll(2): how late an interrupt, a close or the engine's close is seen. */
    static final int SLICE_MS = (int) TimeUnit.NANOSECONDS.toMillis(RingWaits.PLATFORM_WAIT_SLICE_NANOS);

    /**
     * Each thread's {@code struct pollfd} (int fd, short events, short revents), made on its
     * first wait and kept: a wait allocates nothing. Ownership: only the thread the segment
     * belongs to reads or writes it, inside {@link #await}, and poll(2) is a direct system call
     * that the kernel has finished with when it returns, so no one else can touch it during or
     * after a wait, parked or not. An automatic arena's: its memory is freed once the thread
     * (and with it this thread-local value) is gone, never while the thread runs.
     */
    private static final ThreadLocal<MemorySegment> POLLFD = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(8, 4));

    /**
     * Waits until {@code fd} has one of {@code events} or {@code timeoutMs} passed (negative:
     * without bound; positive: at least that long).
     *
     * @return the ready events (POLLERR, POLLHUP, POLLNVAL included), 0 on timeout, or
     *         {@code -errno}: {@code -EINTR} if the thread was interrupted (its status left
     *         set) or its scope cancelled
     * @throws EngineClosedException if the engine closed while the thread waited
     */
    static long await(UringEngine engine, int fd, int events, int timeoutMs) throws EngineClosedException {
        long deadline = timeoutMs > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs) : 0;
        MemorySegment p = POLLFD.get();
        p.set(ValueLayout.JAVA_INT, 0, fd);
        p.set(ValueLayout.JAVA_SHORT, 4, (short) events);
        while (true) {
            if (Thread.currentThread().isInterrupted() || CancelScope.requested()) return -Errno.EINTR;
            if (!engine.isOpen()) throw new EngineClosedException("poll: the engine is closed");
            int slice = SLICE_MS;
            if (deadline != 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return 0;
                slice = (int) Math.min(SLICE_MS, (left + 999_999) / 1_000_000);
            }
            p.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            long r = DirectSyscalls.raw(SyscallTable.POLL, p.address(), 1, slice, 0, 0, 0);
            if (r > 0) return Short.toUnsignedInt(p.get(ValueLayout.JAVA_SHORT, 6));
            if (r < 0 && r != -Errno.EINTR) return r; // EINTR: a signal; the loop looks again
        }
    }
}
