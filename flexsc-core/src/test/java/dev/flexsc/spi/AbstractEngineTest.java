package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.EngineStats;
import dev.flexsc.FlexscConfig;
import dev.flexsc.RefusedCallException;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.flexsc.Errno.EAGAIN;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The call path every engine shares ({@link AbstractEngine#invoke}), with a recording engine
 * and a scripted direct path (no native code): the order of its checks, the rest of a write
 * the policy moved in part posted by the engine itself (never back through the gate), and an
 * {@link IllegalStateException} from the engine's memory: a close when it was released, a bug
 * otherwise.
 */
class AbstractEngineTest {
    /** Records the calls posted to it; answers from a script (the length asked by default). */
    static final class RecordingEngine extends AbstractEngine {
        final List<String> posted = new ArrayList<>();
        final List<Long> answers = new ArrayList<>();
        RuntimeException failWith;
        boolean released;
        /** Overrides {@link #postWouldWait}: such a call is recorded with "would-wait " in front. */
        boolean tellsWouldWait;

        RecordingEngine(CallPolicy policy, DirectPath direct) {
            super(Engine.SYSCALL_THREADS, FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(policy).build(),
                    direct, PostingRule.Post.HAND_OFF);
        }

        @Override
        protected long post(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) {
            if (failWith != null) throw failWith;
            posted.add(call.name() + " " + a0 + " " + a1 + " " + a2);
            return answers.isEmpty() ? a2 : answers.remove(0);
        }

        @Override
        protected long postWouldWait(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5)
                throws java.io.IOException {
            if (!tellsWouldWait) return super.postWouldWait(call, a0, a1, a2, a3, a4, a5);
            posted.add("would-wait " + call.name() + " " + a0 + " " + a1 + " " + a2);
            return answers.isEmpty() ? a2 : answers.remove(0);
        }

        @Override
        protected void postBatch(CallBatch batch) {
            for (int i = 0; i < batch.size(); i++) batch.complete(i, 0);
        }

        @Override
        protected boolean hasRoom() {
            return true;
        }

        @Override
        protected boolean released() {
            return released;
        }

        @Override
        public EngineStats stats() {
            return stats(posted.size(), 0, 0, 0, 0, 0, 0, 0);
        }

        @Override
        public void close() {
            if (beginClose()) markClosed();
        }
    }

    @Test
    void theEnginePostsTheRestOfAPartialWriteItself() throws Exception {
        CallGateTest.FakeDirect d = new CallGateTest.FakeDirect();
        RecordingEngine e = new RecordingEngine(CallPolicy.ADAPTIVE, d);
        d.nowaitAnswers.add(4096L);
        d.nowaitAnswers.add((long) -EAGAIN);
        assertEquals(10_000, e.invoke(SyscallTable.WRITE, 6, 1000, 10_000, 0, 0, 0));
        assertEquals(List.of("write 6 5096 5904"), e.posted, "the rest, from where the direct part stopped");
        // An error on the rest is dropped for the count, as the kernel does after a partial write.
        d.nowaitAnswers.add(100L);
        d.nowaitAnswers.add((long) -EAGAIN);
        e.answers.add(-32L);
        assertEquals(100, e.invoke(SyscallTable.WRITE, 6, 1000, 200, 0, 0, 0));
        // A whole buffer above MAX_RW_COUNT: the rest is what one write(2) would move.
        d.nowaitAnswers.add(4096L);
        d.nowaitAnswers.add((long) -EAGAIN);
        assertEquals(SyscallTable.MAX_RW_COUNT, e.invoke(SyscallTable.WRITE, 6, 0, 1L << 32, 0, 0, 0));
        assertEquals("write 6 4096 " + (SyscallTable.MAX_RW_COUNT - 4096), e.posted.get(2));
        assertEquals(3, e.stats().posted(), "each rest counts as posted");
        assertEquals(3, e.stats().direct());
    }

    @Test
    void aCallThePolicyFoundWouldWaitIsPostedAsSuch() throws Exception {
        CallGateTest.FakeDirect d = new CallGateTest.FakeDirect();
        RecordingEngine e = new RecordingEngine(CallPolicy.ADAPTIVE, d);
        e.tellsWouldWait = true;
        d.nowaitAnswers.add((long) -EAGAIN);
        assertEquals(8, e.invoke(SyscallTable.READ, 3, 100, 8, 0, 0, 0)); // tried: it would wait
        assertEquals(0, e.invoke(SyscallTable.ACCEPT4, 5, 0, 0, 0, 0, 0)); // posted untried
        d.nowaitAnswers.add(4096L);
        d.nowaitAnswers.add((long) -EAGAIN);
        assertEquals(10_000, e.invoke(SyscallTable.WRITE, 6, 1000, 10_000, 0, 0, 0)); // its rest would wait
        assertEquals(List.of("would-wait read 3 100 8", "accept4 5 0 0", "would-wait write 6 5096 5904"), e.posted);
    }

    @Test
    void refusedAndClosedComeBeforeThePolicy() {
        CallGateTest.FakeDirect d = new CallGateTest.FakeDirect();
        RecordingEngine e = new RecordingEngine(CallPolicy.DIRECT, d);
        assertThrows(RefusedCallException.class, () -> e.invoke(186 /* gettid */, 0, 0, 0, 0, 0, 0));
        e.close();
        EngineClosedException x = assertThrows(EngineClosedException.class,
                () -> e.invoke(SyscallTable.GETPID, 0, 0, 0, 0, 0, 0));
        assertEquals("getpid: the engine is closed", x.getMessage());
        assertEquals(List.of(), d.log, "a closed engine made a call");
    }

    @Test
    void anIllegalStateExceptionIsACloseOnlyIfTheMemoryWasReleased() {
        RecordingEngine e = new RecordingEngine(CallPolicy.EXCEPTIONLESS, null);
        e.failWith = new IllegalStateException("Already closed");
        IllegalStateException bug = assertThrows(IllegalStateException.class,
                () -> e.invoke(SyscallTable.GETPID, 0, 0, 0, 0, 0, 0));
        assertSame(e.failWith, bug, "a bug must not be swallowed as a close");
        e.released = true;
        EngineClosedException x = assertThrows(EngineClosedException.class,
                () -> e.invoke(SyscallTable.GETPID, 0, 0, 0, 0, 0, 0));
        assertSame(e.failWith, x.getCause());
    }
}
