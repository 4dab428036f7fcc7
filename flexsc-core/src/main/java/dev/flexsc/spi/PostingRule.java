package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
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
 * <li>{@link CallPolicy#ADAPTIVE} (docs/io.md, "Call policies"): a platform thread, or a
 *     virtual thread not run by the FlexSC scheduler, has nothing else to run while its call
 *     is out, so it does not post; a green thread posts when its carrier says posting pays
 *     ({@link CallCarrier#postPays(int)}) and the engine has room for the call without
 *     waiting. A call that is not posted and may block without bound is never made in a way
 *     that could block the caller's OS thread: a read or write is tried without waiting
 *     first ({@link Decision#TRY_NOWAIT}), a recvfrom or sendto too where a post is a
 *     hand-off ({@link Post#HAND_OFF}); the other such calls are posted.</li>
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
         * A hand-off to another thread (a syscall thread, a kernel worker): worth avoiding for
         * a socket call that can complete at once, so ADAPTIVE tries recvfrom and sendto
         * without waiting first.
         */
        HAND_OFF,
        /**
         * One more entry in a ring the caller's carrier submits anyway with its next kernel
         * entry (IO_URING): a direct try of a socket call first would only add a kernel entry.
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
     * @param room whether the engine has room for the call now (ADAPTIVE posts only then)
     */
    public Decision decide(SyscallTable.Call call, CallGate.Room room) {
        CallPolicy p = policy; // == comparisons: no switch-map load on the call path
        if (p == CallPolicy.EXCEPTIONLESS) return Decision.POST;
        if (p == CallPolicy.DIRECT) return Decision.DIRECT;
        return adaptive(call, room);
    }

    private Decision adaptive(SyscallTable.Call call, CallGate.Room room) {
        int nr = call.nr();
        if (postFromHere(nr, room)) return Decision.POST;
        if (!call.mayBlock()) return Decision.DIRECT;
        // Never block the caller's OS thread (for a green thread: its carrier and every thread
        // queued on it; and interrupt() must still cancel a blocked call).
        if (nr == SyscallTable.READ || nr == SyscallTable.WRITE) return Decision.TRY_NOWAIT;
        if (post == Post.HAND_OFF && (nr == SyscallTable.RECVFROM || nr == SyscallTable.SENDTO)) {
            return Decision.TRY_NOWAIT;
        }
        return Decision.POST;
    }

    /** ADAPTIVE: true if the calling thread should post. */
    private static boolean postFromHere(int nr, CallGate.Room room) {
        // Platform threads call directly: nothing else runs on them while they wait.
        if (!Thread.currentThread().isVirtual()) return false;
        CallCarrier carrier = GreenThreads.currentCarrier();
        // A virtual thread of another scheduler would wait the platform way, holding its
        // carrier: direct. A FlexSC green thread asks its carrier, then the engine.
        return carrier != null && carrier.postPays(nr) && room.available();
    }
}
