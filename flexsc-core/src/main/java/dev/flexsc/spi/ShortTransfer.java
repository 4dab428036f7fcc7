package dev.flexsc.spi;

import static dev.flexsc.abi.SyscallTable.MAX_RW_COUNT;

/**
 * The short-transfer rule: what a blocking {@code write(2)} or {@code send} returns when
 * the descriptor took only part of the buffer at once, written once for every place that
 * moves a buffer in several steps: the call policy's try without waiting ({@link CallGate}),
 * the engine that posts the rest ({@link AbstractEngine}), and an engine whose operations
 * stop early where the system call would go on (io_uring).
 *
 * <p>The rule, as the kernel has it: a blocking write or send on a descriptor that waits
 * when it is not ready moves its whole buffer, up to {@link dev.flexsc.abi.SyscallTable#MAX_RW_COUNT
 * MAX_RW_COUNT}, before it returns; an error after a part was moved is dropped in favour of
 * the count. A read returns what there is: it is never continued by this rule. Whether a
 * descriptor waits (no {@code O_NONBLOCK}, no {@code MSG_DONTWAIT}) is the caller's to know.
 *
 * @see dev.flexsc.abi.SyscallTable#MAX_RW_COUNT
 */
public final class ShortTransfer {
    private ShortTransfer() {}

    /** The bytes one blocking read, write or socket call of {@code len} moves at most. */
    public static long whole(long len) {
        return Math.min(len, MAX_RW_COUNT);
    }

    /**
     * True if a blocking write of {@code whole} bytes ({@link #whole}) goes on after a step
     * that returned {@code r} with {@code done} bytes moved before it: the step moved
     * something and the buffer is not all moved yet.
     */
    public static boolean goesOn(long done, long r, long whole) {
        return r > 0 && done + r < whole;
    }

    /**
     * The result of the whole transfer: {@code done} bytes moved before its last step, which
     * returned {@code last}; an error (or 0) after a part was moved gives the count.
     */
    public static long total(long done, long last) {
        if (done == 0) return last;
        return last > 0 ? done + last : done;
    }
}
