package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.FdKind;
import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;
import static dev.flexsc.Errno.EAGAIN;
import static dev.flexsc.Errno.EOPNOTSUPP;
import static dev.flexsc.MsgFlags.MSG_DONTWAIT;
import static dev.flexsc.MsgFlags.MSG_WAITALL;

/**
 * An engine's call policy applied to one call: at the top of the engine's data plane
 * ({@link AbstractEngine#invoke}), after the allow-list check, {@link #tryDirect} asks the
 * engine's {@link PostingRule} what to do with the call, then either runs it directly on the
 * calling thread and returns its result, or tells the engine to post it. A call the rule says
 * to try without waiting ({@link PostingRule.Decision#TRY_NOWAIT}) is made here with
 * {@code RWF_NOWAIT} (read, write) or {@code MSG_DONTWAIT} (recvfrom, sendto), and posted if
 * it would wait (or the file cannot tell, unless fstat says it never waits for readiness:
 * then the plain call); a write or send the descriptor took in part is continued without waiting
 * while it takes more, and its rest posted once it would wait ({@link ShortTransfer}). The
 * gate never calls back into the engine: posting is the engine's. Counts both kinds of call
 * for {@link dev.flexsc.EngineStats}. Thread-safe.
 */
public final class CallGate {
    /** {@link #tryDirect}'s answer when the engine must post the call as it was made. */
    public static final long POST = Long.MIN_VALUE;
    /**
     * {@link #tryDirect}'s answer when the engine must post the call as it was made and the
     * gate already tried it without waiting: it would wait now (EAGAIN), so the engine need
     * not probe it again ({@link AbstractEngine#invoke} posts it through
     * {@link AbstractEngine#postWouldWait}, which by default posts as for {@link #POST}).
     */
    public static final long WOULD_WAIT = Long.MIN_VALUE + 1;
    /**
     * Base of {@link #tryDirect}'s answer for a write or send moved in part without waiting:
     * {@code POST_REST + done}, {@code done} in {@code [1, MAX_RW_COUNT]} (so never
     * {@link #WOULD_WAIT}). No system call returns a value below {@code -4095}, so every
     * answer below that posts.
     */
    private static final long POST_REST = Long.MIN_VALUE + 1;
    /** The lowest raw result a system call returns ({@code -MAX_ERRNO}); lower answers post. */
    private static final long LOWEST_RESULT = -4095;

    /** True if {@code r}, an answer of {@link #tryDirect}, tells the engine to post (all or the rest). */
    public static boolean posts(long r) {
        return r < LOWEST_RESULT;
    }

    /**
     * For an answer that {@linkplain #posts posts}: the bytes already moved without waiting
     * (0 for {@link #POST} and {@link #WOULD_WAIT}). When positive, the call is a write or
     * send (its buffer at argument 1, its length at argument 2) of which the engine posts the
     * rest, {@code ShortTransfer.whole(len) - done} bytes from {@code buf + done}, and returns
     * {@link ShortTransfer#total}{@code (done, rest)}.
     */
    public static long movedBeforePost(long r) {
        return r == POST || r == WOULD_WAIT ? 0 : r - POST_REST;
    }

    /** Whether the engine can take one more call now without waiting for a free entry. */
    @FunctionalInterface
    public interface Room {
        boolean available();

        /**
         * Whether the engine can take {@code call} now without waiting for a free entry (an
         * engine that places calls by kind answers per call). Default {@link #available()}.
         */
        default boolean available(SyscallTable.Call call) {
            return available();
        }
    }

    private final PostingRule rule;
    private final DirectPath direct;
    private final LongAdder posted = new LongAdder();
    private final LongAdder directCalls = new LongAdder();

    /**
     * A gate on an engine where a post is a hand-off to another thread
     * ({@link PostingRule.Post#HAND_OFF}).
     *
     * @param direct how to make a call directly; may be null only for
     *        {@link CallPolicy#EXCEPTIONLESS}
     * @throws IllegalArgumentException if {@code direct} is null and the policy needs it
     */
    public CallGate(CallPolicy policy, DirectPath direct) {
        this(policy, direct, PostingRule.Post.HAND_OFF);
    }

    /**
     * @param direct how to make a call directly; may be null only for
     *        {@link CallPolicy#EXCEPTIONLESS}
     * @param post what a post costs on this engine, the {@link PostingRule}'s input
     * @throws IllegalArgumentException if {@code direct} is null and the policy needs it
     */
    public CallGate(CallPolicy policy, DirectPath direct, PostingRule.Post post) {
        this.rule = new PostingRule(policy, post);
        if (direct == null && policy != CallPolicy.EXCEPTIONLESS) {
            throw new IllegalArgumentException(policy + " needs a direct path; this engine has none");
        }
        this.direct = direct;
    }

    public CallPolicy policy() {
        return rule.policy();
    }

    /** The engine's answer to {@link BatchInvoker#postsBatches()} (see {@link PostingRule#postsBatches()}). */
    public boolean postsBatches() {
        return rule.postsBatches();
    }

    /** Calls sent down the exception-less path so far. */
    public long posted() {
        return posted.sum();
    }

    /** Calls made directly so far. */
    public long direct() {
        return directCalls.sum();
    }

    /**
     * Runs allow-listed {@code call} directly if the engine's {@link PostingRule} says so.
     *
     * @param kind what the caller knows of the descriptor argument {@code a0}
     *        ({@link PostingRule#decide})
     * @param room whether the engine has a free entry (ADAPTIVE posts only then)
     * @return the raw kernel result, or an answer that {@linkplain #posts posts}: {@link #POST},
     *         {@link #WOULD_WAIT}, or the rest of a write or send moved in part
     *         ({@link #movedBeforePost})
     */
    public long tryDirect(SyscallTable.Call call, FdKind kind, Room room, long a0, long a1, long a2, long a3, long a4,
                          long a5) throws IOException {
        int nr = call.nr();
        PostingRule.Decision d = rule.decide(call, kind, a2, room);
        if (d == PostingRule.Decision.POST) {
            posted.increment();
            return POST;
        }
        if (d == PostingRule.Decision.TRY_NOWAIT) {
            // Never block the caller's OS thread (for a green thread: its carrier and every
            // thread queued on it; and interrupt() must still cancel a blocked call).
            if (nr == SyscallTable.RECVFROM || nr == SyscallTable.SENDTO) {
                return socketNowait(nr, a0, a1, a2, a3, a4, a5);
            }
            return readWriteNowait(nr, a0, a1, a2, a3, a4, a5);
        }
        directCalls.increment();
        return direct.invoke(nr, a0, a1, a2, a3, a4, a5);
    }

    /**
     * ADAPTIVE's direct path for a read or write that might wait: tried without waiting, and
     * posted only if it would wait. Its own method so that {@link #tryDirect} stays under
     * HotSpot's limit for inlining a hot method (FreqInlineSize, 325 bytes of bytecode on
     * x86-64): with this path inline, tryDirect is too big for C2 to inline into the engines'
     * invoke ("hot method too big" under -XX:+PrintInlining), and every call made directly,
     * getpid included, pays a real call more.
     */
    private long readWriteNowait(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        if (a2 == 0) {
            // Moves nothing, so it cannot wait; and preadv2/pwritev2 return 0 for a zero
            // length before read(2)/write(2) check the file (EISDIR for a directory).
            directCalls.increment();
            return direct.invoke(nr, a0, a1, a2, a3, a4, a5);
        }
        boolean write = nr == SyscallTable.WRITE;
        long r = direct.readWriteNowait(write, a0, a1, a2);
        if (r == -EOPNOTSUPP && direct.fdKind(a0) == FdKind.ALWAYS_READY) {
            // The file cannot say whether it would wait (ext4's buffered writes), and the
            // try moved nothing; but it never waits for readiness: the plain call, as a
            // pwrite64 of it would be made (PostingRule.waitsOnlyForDisk).
            directCalls.increment();
            return direct.invoke(nr, a0, a1, a2, a3, a4, a5);
        }
        if (r == -EAGAIN || r == -EOPNOTSUPP) {
            posted.increment(); // it would wait (or cannot tell): the engine waits for it
            return r == -EAGAIN ? WOULD_WAIT : POST;
        }
        directCalls.increment();
        // A read returns what there is, as a blocking read does once data came.
        if (!write) return r;
        long whole = ShortTransfer.whole(a2);
        long done = 0;
        while (ShortTransfer.goesOn(done, r, whole)) { // taken in part: more without waiting
            done += r;
            r = direct.readWriteNowait(true, a0, a1 + done, whole - done);
            if (r == -EAGAIN || r == -EOPNOTSUPP) return postRest(done); // the rest would wait
        }
        return ShortTransfer.total(done, r);
    }

    /** The answer for a write or send of which {@code done} bytes moved and the rest would wait. */
    private long postRest(long done) {
        posted.increment(); // the rest is posted: the engine waits for it
        return POST_REST + done;
    }

    /**
     * ADAPTIVE's direct path for {@code recvfrom} and {@code sendto}: the same call with
     * {@code MSG_DONTWAIT} added, which never waits on any socket. Data there (or room to
     * send) -> the result, as the blocking call would have returned once it could; EAGAIN ->
     * posted as the caller made it (the engine waits), unless the caller asked for
     * MSG_DONTWAIT itself, when EAGAIN is its answer. A recvfrom with MSG_WAITALL is posted
     * untried: without waiting it could return less than the blocking call would. A send taken
     * in part goes on without waiting while the socket takes more, and its rest is posted once
     * it would wait (a blocking send on a stream socket sends it all), as for write.
     */
    private long socketNowait(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        boolean callerNowait = (a3 & MSG_DONTWAIT) != 0;
        if (nr == SyscallTable.RECVFROM && (a3 & MSG_WAITALL) != 0 && !callerNowait) {
            posted.increment();
            return POST;
        }
        long r = direct.invoke(nr, a0, a1, a2, a3 | MSG_DONTWAIT, a4, a5);
        if (r == -EAGAIN && !callerNowait) {
            posted.increment(); // it would wait: the engine waits for it
            return WOULD_WAIT;
        }
        directCalls.increment();
        if (nr == SyscallTable.RECVFROM || callerNowait) return r;
        long whole = ShortTransfer.whole(a2);
        long done = 0;
        while (ShortTransfer.goesOn(done, r, whole)) { // sent in part: more without waiting
            done += r;
            r = direct.invoke(nr, a0, a1 + done, whole - done, a3 | MSG_DONTWAIT, a4, a5);
            if (r == -EAGAIN) return postRest(done); // the rest would wait
        }
        return ShortTransfer.total(done, r);
    }
}
