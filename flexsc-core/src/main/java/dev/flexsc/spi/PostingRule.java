package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.FdKind;
import dev.flexsc.MsgFlags;
import dev.flexsc.abi.SyscallTable;

import java.util.Objects;

/**
 * The one home of "should this call be posted": the engine's {@link CallPolicy} applied to
 * one call, given the facts of the engine it runs on. Every engine asks it, through its
 * {@link CallGate} for single calls and {@link #postsBatches()} for batches; the green
 * thread's carrier contributes only its own state ({@link CallCarrier#postPays(int)}).
 * Immutable and thread-safe.
 *
 * <p>The decisions ({@link Decision}):
 * <ul>
 * <li>{@link CallPolicy#EXCEPTIONLESS}: post every call.</li>
 * <li>{@link CallPolicy#DIRECT}: make every call directly.</li>
 * <li>{@link CallPolicy#ADAPTIVE} (docs/io.md, "Call policies"), decided per call from the
 *     call alone, without a trial: a call that never blocks
 *     ({@link SyscallTable#NEVER_BLOCKS}, and a sendmsg or recvmsg with {@code MSG_DONTWAIT}
 *     in its flags) is made directly, always. A call that may block
 *     without bound is never made in a way that could block the caller's OS thread: a read,
 *     write, recvfrom or sendto is tried without waiting first ({@link Decision#TRY_NOWAIT})
 *     and posted only if it would wait; the other such calls are posted. The calls between
 *     (they wait only for a disk: pread64, pwrite64, fsync, openat of a regular file..., and a
 *     read, write, readv or writev whose caller says its descriptor is
 *     {@link FdKind#ALWAYS_READY}, see {@link #waitsOnlyForDisk}) are
 *     made directly, except where a post is a hand-off to a syscall thread on another core
 *     ({@link Post#HAND_OFF}, the paper's multi-core mode): there a green thread posts when its
 *     carrier says posting such calls pays ({@link CallCarrier#postPays(int)}) and the engine
 *     has room for the call without waiting. A platform thread, or a virtual thread not run
 *     by the FlexSC scheduler, has nothing else to run while its call is out, so it posts
 *     only what may block without bound.</li>
 * </ul>
 */
public final class PostingRule {
    /** What the engine does with one call. */
    public enum Decision {
        /** Post it: the engine's exception-less path, and the caller waits for its completion. */
        POST,
        /** Make it directly on the calling thread. */
        DIRECT,
        /**
         * Make it directly in a form that never waits ({@code RWF_NOWAIT}, {@code MSG_DONTWAIT}),
         * and post it only if it would have waited.
         */
        TRY_NOWAIT
    }

    /** The engine's fact behind the decision: what posting one call costs there. */
    public enum Post {
        /**
         * A hand-off to another thread (a syscall thread on another core): it can pay for a
         * call that only waits for a disk, when other threads of the carrier can use the
         * wait, so ADAPTIVE asks the carrier ({@link CallCarrier#postPays(int)}).
         */
        HAND_OFF,
        /**
         * One more entry in the caller's carrier's own ring (IO_URING), executed on the
         * carrier's core in its next kernel entry: it frees the carrier only for a call that
         * would wait, which the non-waiting try finds out.
         */
        RING_ENTRY
    }

    private final CallPolicy policy;
    private final Post post;

    /**
     * @param policy the engine's call policy ({@link dev.flexsc.FlexscConfig#policy()})
     * @param post what a post costs on this engine
     */
    public PostingRule(CallPolicy policy, Post post) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.post = Objects.requireNonNull(post, "post");
    }

    public CallPolicy policy() {
        return policy;
    }

    /**
     * Whether {@link dev.flexsc.SyscallBatch} should post its batches through the engine's
     * {@link BatchInvoker#invokeBatch} (true) or run their calls one by one as direct calls:
     * every policy but {@link CallPolicy#DIRECT} posts a batch, since a caller holding several
     * independent calls is the case where posting pays.
     */
    public boolean postsBatches() {
        return policy != CallPolicy.DIRECT;
    }

    /**
     * The decision for allow-listed {@code call} made by the calling thread.
     *
     * @param kind what the caller knows of the call's descriptor argument {@code a0}
     *        ({@link FdKind#UNKNOWN} if nothing; see {@link #waitsOnlyForDisk})
     * @param a2 the call's third argument (getrandom's flags: {@link SyscallTable.Call#neverBlocks};
     *        sendmsg's and recvmsg's flags: {@link #dontWait})
     * @param room whether the engine has room for the call now (ADAPTIVE on a hand-off engine
     *        posts a call that only waits for a disk only then)
     */
    public Decision decide(SyscallTable.Call call, FdKind kind, long a2, CallGate.Room room) {
        CallPolicy p = policy; // == comparisons: no switch-map load on the call path
        if (p == CallPolicy.EXCEPTIONLESS) return Decision.POST;
        if (p == CallPolicy.DIRECT) return Decision.DIRECT;
        return adaptive(call, kind, a2, room);
    }

    /**
     * True for a read, write, readv or writev of a descriptor its caller says is
     * {@link FdKind#ALWAYS_READY}: such a call waits at most for a disk, never for the file to
     * become ready, as pread64 and pwrite64 do, so ADAPTIVE decides it as it decides them, and
     * a green thread that makes it directly holds its carrier only as long as such a pwrite64
     * would (a read that misses the page cache: the cold-read study's business). Without the
     * caller's word the kind is not known: asking the kernel costs a system call per call
     * (fstat 0.6-1.0 us here, fcntl 0.3-0.5 us, against 0.4-0.7 us for the non-waiting try),
     * and a cache by descriptor number is wrong once the number is closed and reused behind
     * the engine's back (a plain write to what became a pipe would block the carrier).
     */
    static boolean waitsOnlyForDisk(int nr, FdKind kind) {
        return kind == FdKind.ALWAYS_READY && (nr == SyscallTable.READ || nr == SyscallTable.WRITE
                || nr == SyscallTable.READV || nr == SyscallTable.WRITEV);
    }

    private Decision adaptive(SyscallTable.Call call, FdKind kind, long a2, CallGate.Room room) {
        int nr = call.nr();
        if (call.neverBlocks(a2) || dontWait(nr, a2)) return Decision.DIRECT; // a post could only cost more
        if (!call.mayBlock() || waitsOnlyForDisk(nr, kind)) {
            // Waits only for a disk: worth a hand-off where the carrier has others to run.
            return post == Post.HAND_OFF && postFromHere(call, room) ? Decision.POST : Decision.DIRECT;
        }
        // Never block the caller's OS thread (for a green thread: its carrier and every thread
        // queued on it; and interrupt() must still cancel a blocked call).
        if (nr == SyscallTable.READ || nr == SyscallTable.WRITE || nr == SyscallTable.RECVFROM
                || nr == SyscallTable.SENDTO) {
            return post == Post.HAND_OFF && postFromHere(call, room) ? Decision.POST : Decision.TRY_NOWAIT;
        }
        return Decision.POST;
    }

    /**
     * True for a sendmsg or recvmsg whose flags ({@code a2}) hold {@code MSG_DONTWAIT}: it
     * returns at once on any socket (EAGAIN where it would wait), so it never blocks and a post
     * would only add a park and an entry (a non-blocking channel's scatter read or gather
     * write, e.g. a server's header and body in one sendmsg). sendto and recvfrom carry their
     * flags in the fourth argument: {@link CallGate} tries them without waiting anyway.
     */
    static boolean dontWait(int nr, long a2) {
        return (nr == SyscallTable.SENDMSG || nr == SyscallTable.RECVMSG) && (a2 & MsgFlags.MSG_DONTWAIT) != 0;
    }

    /** ADAPTIVE: true if the calling thread should post. */
    private static boolean postFromHere(SyscallTable.Call call, CallGate.Room room) {
        // Platform threads call directly: nothing else runs on them while they wait.
        if (!Thread.currentThread().isVirtual()) return false;
        CallCarrier carrier = GreenThreads.currentCarrier();
        // A virtual thread of another scheduler would wait the platform way, holding its
        // carrier: direct. A FlexSC green thread asks its carrier, then the engine.
        return carrier != null && carrier.postPays(call.nr()) && room.available(call);
    }
}
