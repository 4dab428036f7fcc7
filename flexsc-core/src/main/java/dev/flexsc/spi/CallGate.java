package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.abi.SyscallTable;

import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;
import static dev.flexsc.Errno.EAGAIN;
import static dev.flexsc.Errno.EOPNOTSUPP;
import static dev.flexsc.MsgFlags.MSG_DONTWAIT;
import static dev.flexsc.MsgFlags.MSG_WAITALL;
import static dev.flexsc.abi.SyscallTable.MAX_RW_COUNT;

/**
 * An engine's call policy applied to one call: at the top of the engine's data plane (its
 * {@code invoke}), after the allow-list check, {@link #tryDirect} asks the engine's
 * {@link PostingRule} what to do with the call, then either runs it directly on the calling
 * thread and returns its result, or returns {@link #POST} and the engine posts it. A call
 * the rule says to try without waiting ({@link PostingRule.Decision#TRY_NOWAIT}) is made here
 * with {@code RWF_NOWAIT} (read, write) or {@code MSG_DONTWAIT} (recvfrom, sendto), and
 * posted if it would wait. Counts both for {@link dev.flexsc.EngineStats}. Thread-safe.
 */
public final class CallGate {
    /** {@link #tryDirect}'s answer when the engine must post the call: no system call returns it. */
    public static final long POST = Long.MIN_VALUE;
    /**
     * {@link #tryDirect}'s answer when the engine must post the call and the gate already
     * tried it without waiting: it would wait now (EAGAIN), so the engine need not probe it
     * again. An engine that makes no use of the fact treats it as {@link #POST}.
     */
    public static final long WOULD_WAIT = Long.MIN_VALUE + 1;

    /** True if {@code r}, an answer of {@link #tryDirect}, tells the engine to post the call. */
    public static boolean posts(long r) {
        return r <= WOULD_WAIT;
    }

    /** Whether the engine can take one more call now without waiting for a free entry. */
    @FunctionalInterface
    public interface Room {
        boolean available();
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
     * @param room whether the engine has a free entry (ADAPTIVE posts only then)
     * @param self the engine, for the rest of a write the kernel took only in part without
     *        waiting (it goes through this gate again, and is posted if it would wait)
     * @return the raw kernel result, or {@link #POST} or {@link #WOULD_WAIT}: the caller posts the call
     */
    public long tryDirect(SyscallTable.Call call, Room room, SyscallInvoker self,
                          long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        int nr = call.nr();
        PostingRule.Decision d = rule.decide(call, a2, room);
        if (d == PostingRule.Decision.POST) {
            posted.increment();
            return POST;
        }
        if (d == PostingRule.Decision.TRY_NOWAIT) {
            // Never block the caller's OS thread (for a green thread: its carrier and every
            // thread queued on it; and interrupt() must still cancel a blocked call).
            if (nr == SyscallTable.RECVFROM || nr == SyscallTable.SENDTO) {
                return socketNowait(nr, self, a0, a1, a2, a3, a4, a5);
            }
            if (a2 == 0) {
                // Moves nothing, so it cannot wait; and preadv2/pwritev2 return 0 for a zero
                // length before read(2)/write(2) check the file (EISDIR for a directory).
                directCalls.increment();
                return direct.invoke(nr, a0, a1, a2, a3, a4, a5);
            }
            boolean write = nr == SyscallTable.WRITE;
            long r = direct.readWriteNowait(write, a0, a1, a2);
            if (r == -EAGAIN || r == -EOPNOTSUPP) {
                posted.increment(); // it would wait (or cannot tell): the engine waits for it
                return r == -EAGAIN ? WOULD_WAIT : POST;
            }
            directCalls.increment();
            long whole = Math.min(a2, MAX_RW_COUNT); // what one blocking write(2) moves at most
            if (!write || r <= 0 || r >= whole) {
                return r; // a read returns what there is, as a blocking read does once data came
            }
            // Part written without waiting. A blocking write goes on until all is written, and
            // so do we: without waiting while the file takes more, then through the engine
            // (self: its gate finds it would wait and posts it, one level deep). An error after
            // a partial write is dropped for the count, as the kernel does.
            long done = r;
            while (done < whole) {
                r = direct.readWriteNowait(true, a0, a1 + done, whole - done);
                if (r == -EAGAIN || r == -EOPNOTSUPP) {
                    long rest = self.invoke(nr, a0, a1 + done, whole - done, 0, 0, 0);
                    return rest > 0 ? done + rest : done;
                }
                if (r <= 0) return done;
                done += r;
            }
            return done;
        }
        directCalls.increment();
        return direct.invoke(nr, a0, a1, a2, a3, a4, a5);
    }

    /**
     * ADAPTIVE's direct path for {@code recvfrom} and {@code sendto}: the same call with
     * {@code MSG_DONTWAIT} added, which never waits on any socket. Data there (or room to
     * send) -> the result, as the blocking call would have returned once it could; EAGAIN ->
     * posted as the caller made it (the engine waits), unless the caller asked for
     * MSG_DONTWAIT itself, when EAGAIN is its answer. A recvfrom with MSG_WAITALL is posted
     * untried: without waiting it could return less than the blocking call would. A send taken
     * in part goes on, without waiting while the socket takes more, then through the engine
     * for the rest (a blocking send on a stream socket sends it all), as for write.
     */
    private long socketNowait(int nr, SyscallInvoker self, long a0, long a1, long a2, long a3, long a4, long a5)
            throws IOException {
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
        long whole = Math.min(a2, MAX_RW_COUNT); // what one blocking send moves at most
        if (nr == SyscallTable.RECVFROM || callerNowait || r <= 0 || r >= whole) return r;
        long done = r; // part sent without waiting: the rest, as a blocking send would
        while (done < whole) {
            r = direct.invoke(nr, a0, a1 + done, whole - done, a3 | MSG_DONTWAIT, a4, a5);
            if (r == -EAGAIN) {
                long rest = self.invoke(nr, a0, a1 + done, whole - done, a3, a4, a5);
                return rest > 0 ? done + rest : done;
            }
            if (r <= 0) return done; // an error after a partial send is dropped for the count
            done += r;
        }
        return done;
    }
}
