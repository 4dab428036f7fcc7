package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.FdKind;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.FdKind.UNKNOWN;
import static dev.flexsc.Errno.EAGAIN;
import static dev.flexsc.Errno.EOPNOTSUPP;

/**
 * The gate with a recording direct path (no native code): what each policy sends where,
 * from a platform thread, and how a read or write that may block is handled.
 */
class CallGateTest {

    /** Records calls; answers readWriteNowait from a script. */
    static final class FakeDirect implements DirectPath {
        final List<String> log = new ArrayList<>();
        final List<Long> nowaitAnswers = new ArrayList<>();

        @Override
        public long readWriteNowait(boolean write, long fd, long buf, long len) {
            log.add((write ? "nowait-write " : "nowait-read ") + fd + " " + buf + " " + len);
            return nowaitAnswers.remove(0);
        }

        /** fdKind()'s answers by descriptor; UNKNOWN for the others. */
        final java.util.Map<Long, FdKind> kinds = new java.util.HashMap<>();

        @Override
        public FdKind fdKind(long fd) {
            log.add("fstat " + fd);
            return kinds.getOrDefault(fd, FdKind.UNKNOWN);
        }

        /** Answers of invoke() in order; 4242 once none is left. */
        final List<Long> invokeAnswers = new ArrayList<>();

        @Override
        public long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
            if (nr == SyscallTable.RECVFROM || nr == SyscallTable.SENDTO) {
                log.add("direct " + nr + " " + a0 + " " + a1 + " " + a2 + " flags 0x" + Long.toHexString(a3) + " " + a4 + " " + a5);
            } else {
                log.add("direct " + nr + " " + a0);
            }
            return invokeAnswers.isEmpty() ? 4242 : invokeAnswers.remove(0);
        }
    }

    private static SyscallTable.Call call(int nr) {
        return SyscallTable.lookup(nr);
    }

    @Test
    void exceptionlessPostsEverythingAndNeedsNoDirectPath() throws Exception {
        CallGate g = new CallGate(CallPolicy.EXCEPTIONLESS, null);
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.GETPID), UNKNOWN, () -> true, 0, 0, 0, 0, 0, 0));
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.READ), UNKNOWN, () -> true, 3, 0, 8, 0, 0, 0));
        assertEquals(2, g.posted());
        assertEquals(0, g.direct());
    }

    @Test
    void directAndAdaptiveNeedADirectPath() {
        assertThrows(IllegalArgumentException.class, () -> new CallGate(CallPolicy.DIRECT, null));
        assertThrows(IllegalArgumentException.class, () -> new CallGate(CallPolicy.ADAPTIVE, null));
    }

    @Test
    void directCallsEverythingDirectlyEvenWhatMayBlock() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.DIRECT, d);
        assertEquals(4242, g.tryDirect(call(SyscallTable.GETPID), UNKNOWN, () -> true, 0, 0, 0, 0, 0, 0));
        assertEquals(4242, g.tryDirect(call(SyscallTable.ACCEPT4), UNKNOWN, () -> true, 5, 0, 0, 0, 0, 0));
        assertEquals(List.of("direct 39 0", "direct 288 5"), d.log);
        assertEquals(2, g.direct());
        assertEquals(0, g.posted());
    }

    @Test
    void adaptiveOnAPlatformThreadCallsDirectlyButNeverBlocks() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d);
        // A call that cannot block: direct.
        assertEquals(4242, g.tryDirect(call(SyscallTable.PWRITE64), UNKNOWN, () -> true, 7, 0, 4096, 0, 0, 0));
        // accept may block without bound: posted, never tried.
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.ACCEPT4), UNKNOWN, () -> true, 5, 0, 0, 0, 0, 0));
        // A read that would wait (posted, the engine told it would wait), and one the file
        // cannot do without waiting (posted untold).
        d.nowaitAnswers.add((long) -EAGAIN);
        assertEquals(CallGate.WOULD_WAIT, g.tryDirect(call(SyscallTable.READ), UNKNOWN, () -> true, 3, 100, 8, 0, 0, 0));
        d.nowaitAnswers.add((long) -EOPNOTSUPP);
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.WRITE), UNKNOWN, () -> true, 4, 100, 8, 0, 0, 0));
        // A read that had data: its result, including an error other than "would wait".
        d.nowaitAnswers.add(5L);
        assertEquals(5, g.tryDirect(call(SyscallTable.READ), UNKNOWN, () -> true, 3, 100, 8, 0, 0, 0));
        d.nowaitAnswers.add(-9L);
        assertEquals(-9, g.tryDirect(call(SyscallTable.READ), UNKNOWN, () -> true, 99, 100, 8, 0, 0, 0));
        assertEquals(List.of("direct 18 7", "nowait-read 3 100 8", "nowait-write 4 100 8", "fstat 4",
                "nowait-read 3 100 8", "nowait-read 99 100 8"), d.log);
        assertEquals(3, g.posted());
        assertEquals(3, g.direct());
    }

    @Test
    void adaptiveTriesRecvAndSendWithoutWaitingAndPostsWhatWouldWait() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d);
        // Data there: the result of recvfrom with MSG_DONTWAIT (0x40) added, other flags and
        // the address arguments kept (MSG_PEEK 0x2 here).
        d.invokeAnswers.add(64L);
        assertEquals(64, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 5, 100, 512, 0x2, 7, 8));
        // Would wait: posted (the engine makes it as the caller did).
        d.invokeAnswers.add((long) -EAGAIN);
        assertEquals(CallGate.WOULD_WAIT, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 5, 100, 512, 0, 0, 0));
        // The caller's own MSG_DONTWAIT: EAGAIN is its answer, made directly.
        d.invokeAnswers.add((long) -EAGAIN);
        assertEquals(-EAGAIN, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 5, 100, 512, 0x40, 0, 0));
        // Another error: its result, directly (ENOTCONN).
        d.invokeAnswers.add(-107L);
        assertEquals(-107, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 5, 100, 512, 0, 0, 0));
        // MSG_WAITALL (0x100): posted untried, a recv without waiting could return less.
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 5, 100, 512, 0x100, 0, 0));
        // sendto with room: direct, MSG_NOSIGNAL (0x4000) kept.
        d.invokeAnswers.add(300L);
        assertEquals(300, g.tryDirect(call(SyscallTable.SENDTO), UNKNOWN, () -> true, 6, 200, 300, 0x4000, 0, 0));
        d.invokeAnswers.add((long) -EAGAIN);
        assertEquals(CallGate.WOULD_WAIT, g.tryDirect(call(SyscallTable.SENDTO), UNKNOWN, () -> true, 6, 200, 300, 0x4000, 0, 0));
        assertEquals(List.of(
                "direct 45 5 100 512 flags 0x42 7 8",
                "direct 45 5 100 512 flags 0x40 0 0",
                "direct 45 5 100 512 flags 0x40 0 0",
                "direct 45 5 100 512 flags 0x40 0 0",
                "direct 44 6 200 300 flags 0x4040 0 0",
                "direct 44 6 200 300 flags 0x4040 0 0"), d.log);
        assertEquals(3, g.posted());
        assertEquals(4, g.direct());
        assertTrue(d.invokeAnswers.isEmpty());
    }

    @Test
    void onACarrierRingEngineTheSocketCallsAreTriedFirstToo() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d, PostingRule.Post.RING_ENTRY);
        d.invokeAnswers.add((long) -EAGAIN);
        assertEquals(CallGate.WOULD_WAIT, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 5, 100, 512, 0, 0, 0));
        d.invokeAnswers.add(512L);
        assertEquals(512, g.tryDirect(call(SyscallTable.SENDTO), UNKNOWN, () -> true, 5, 100, 512, 0, 0, 0));
        assertEquals(List.of("direct 45 5 100 512 flags 0x40 0 0", "direct 44 5 100 512 flags 0x40 0 0"), d.log);
        assertEquals(1, g.posted());
        assertTrue(CallGate.posts(CallGate.POST) && CallGate.posts(CallGate.WOULD_WAIT) && !CallGate.posts(-11));
        assertEquals(0, CallGate.movedBeforePost(CallGate.WOULD_WAIT)); // posted as made, not a rest
    }

    @Test
    void aPartialSendWithoutWaitingGoesOnThenPostsTheRest() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d);
        // 4000 taken, then 1000, then it would wait: the engine posts the rest (5000 from 6000).
        d.invokeAnswers.add(4000L);
        d.invokeAnswers.add(1000L);
        d.invokeAnswers.add((long) -EAGAIN);
        long r = g.tryDirect(call(SyscallTable.SENDTO), UNKNOWN, () -> true, 6, 1000, 10_000, 0x4000, 0, 0);
        assertTrue(CallGate.posts(r), "the rest would wait: posted");
        assertEquals(5000, CallGate.movedBeforePost(r));
        assertEquals(1, g.posted());
        // An error after part was sent is dropped for the count (EPIPE).
        d.invokeAnswers.add(100L);
        d.invokeAnswers.add(-32L);
        assertEquals(100, g.tryDirect(call(SyscallTable.SENDTO), UNKNOWN, () -> true, 6, 1000, 200, 0, 0, 0));
        // The caller's own MSG_DONTWAIT: a partial send is its answer, no second try.
        d.invokeAnswers.add(50L);
        assertEquals(50, g.tryDirect(call(SyscallTable.SENDTO), UNKNOWN, () -> true, 6, 1000, 200, 0x40, 0, 0));
        // A recv returns what there is, even less than asked: no second try.
        d.invokeAnswers.add(10L);
        assertEquals(10, g.tryDirect(call(SyscallTable.RECVFROM), UNKNOWN, () -> true, 6, 1000, 200, 0, 0, 0));
        assertTrue(d.invokeAnswers.isEmpty());
    }

    @Test
    void adaptiveMakesTheReadsAndWritesOfAnAlwaysReadyDescriptorWithThePlainCall() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d);
        for (int nr : new int[] {SyscallTable.READ, SyscallTable.WRITE, SyscallTable.READV, SyscallTable.WRITEV}) {
            assertEquals(4242, g.tryDirect(call(nr), FdKind.ALWAYS_READY, () -> true, 7, 100, 64, 0, 0, 0));
        }
        // The plain calls: no try without waiting, no fstat, nothing posted.
        assertEquals(List.of("direct 0 7", "direct 1 7", "direct 19 7", "direct 20 7"), d.log);
        assertEquals(0, g.posted());
        assertEquals(4, g.direct());
        // The kind is about reads and writes of a file: a socket call is still tried, accept posted.
        d.invokeAnswers.add(64L);
        assertEquals(64, g.tryDirect(call(SyscallTable.SENDTO), FdKind.ALWAYS_READY, () -> true, 7, 100, 64, 0, 0, 0));
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.ACCEPT4), FdKind.ALWAYS_READY, () -> true, 7, 0, 0, 0, 0, 0));
        assertEquals("direct 44 7 100 64 flags 0x40 0 0", d.log.get(4));
        // EXCEPTIONLESS posts them all the same.
        CallGate x = new CallGate(CallPolicy.EXCEPTIONLESS, d);
        assertEquals(CallGate.POST, x.tryDirect(call(SyscallTable.WRITE), FdKind.ALWAYS_READY, () -> true, 7, 100, 64, 0, 0, 0));
    }

    @Test
    void aWriteTheFileCannotTryWithoutWaitingIsMadePlainWhereFstatSaysItNeverWaits() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d);
        // ext4's buffered write answers RWF_NOWAIT with EOPNOTSUPP; fstat: a regular file.
        d.kinds.put(8L, FdKind.ALWAYS_READY);
        d.nowaitAnswers.add((long) -EOPNOTSUPP);
        assertEquals(4242, g.tryDirect(call(SyscallTable.WRITE), UNKNOWN, () -> true, 8, 100, 64, 0, 0, 0));
        d.nowaitAnswers.add((long) -EOPNOTSUPP);
        assertEquals(4242, g.tryDirect(call(SyscallTable.READ), UNKNOWN, () -> true, 8, 100, 64, 0, 0, 0));
        assertEquals(List.of("nowait-write 8 100 64", "fstat 8", "direct 1 8", "nowait-read 8 100 64", "fstat 8",
                "direct 0 8"), d.log);
        assertEquals(0, g.posted());
        assertEquals(2, g.direct());
        // A tty that cannot tell (fstat: not always ready) is posted: it may wait for readiness.
        d.nowaitAnswers.add((long) -EOPNOTSUPP);
        assertEquals(CallGate.POST, g.tryDirect(call(SyscallTable.WRITE), UNKNOWN, () -> true, 9, 100, 64, 0, 0, 0));
        assertEquals(1, g.posted());
    }

    @Test
    void aPartialWriteWithoutWaitingGoesOnThenPostsTheRest() throws Exception {
        FakeDirect d = new FakeDirect();
        CallGate g = new CallGate(CallPolicy.ADAPTIVE, d);
        // 4096 taken, then 1000 more without waiting, then it would wait: the engine posts the rest.
        d.nowaitAnswers.add(4096L);
        d.nowaitAnswers.add(1000L);
        d.nowaitAnswers.add((long) -EAGAIN);
        long r = g.tryDirect(call(SyscallTable.WRITE), UNKNOWN, () -> true, 6, 1000, 10_000, 0, 0, 0);
        assertTrue(CallGate.posts(r));
        assertEquals(5096, CallGate.movedBeforePost(r));
        assertEquals(List.of("nowait-write 6 1000 10000", "nowait-write 6 5096 5904", "nowait-write 6 6096 4904"),
                d.log);
        // All of it taken in two pieces: nothing to post.
        d.nowaitAnswers.add(150L);
        d.nowaitAnswers.add(50L);
        assertEquals(200, g.tryDirect(call(SyscallTable.WRITE), UNKNOWN, () -> true, 6, 1000, 200, 0, 0, 0));
        // An error after a partial write is dropped for the count, as the kernel does.
        d.nowaitAnswers.add(100L);
        d.nowaitAnswers.add(-32L);
        assertEquals(100, g.tryDirect(call(SyscallTable.WRITE), UNKNOWN, () -> true, 6, 1000, 200, 0, 0, 0));
        // A read returns what there is, even less than asked: no second try.
        d.nowaitAnswers.add(10L);
        assertEquals(10, g.tryDirect(call(SyscallTable.READ), UNKNOWN, () -> true, 6, 1000, 200, 0, 0, 0));
        assertTrue(d.nowaitAnswers.isEmpty());
        assertEquals(0, CallGate.movedBeforePost(CallGate.POST));
    }
}
