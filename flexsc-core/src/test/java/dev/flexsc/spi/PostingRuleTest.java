package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static dev.flexsc.spi.PostingRule.Decision.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The one rule for "should this call be posted", per policy and engine fact, from a platform
 * thread and from a (fake) green thread whose carrier the test scripts.
 */
class PostingRuleTest {
    private static final CallGate.Room ROOM = () -> true, FULL = () -> false;

    private static SyscallTable.Call call(int nr) {
        return SyscallTable.lookup(nr);
    }

    /** A carrier that answers postPays as the test sets, and logs what it was asked. */
    static final class ScriptedCarrier implements CallCarrier {
        volatile boolean pays;
        final List<Integer> asked = new ArrayList<>();

        @Override public boolean hasOtherWork() { return true; }
        @Override public boolean postPays(int nr) { asked.add(nr); return pays; }
        @Override public void watch(PendingCall call) { }
    }

    private static final ScriptedCarrier CARRIER = new ScriptedCarrier();

    static {
        // The core tests run no scheduler: every virtual thread of this JVM gets the scripted carrier.
        GreenThreads.install(() -> CARRIER);
    }

    @Test
    void exceptionlessPostsAndDirectCallsDirectlyWhateverTheCall() {
        for (PostingRule.Post post : PostingRule.Post.values()) {
            PostingRule x = new PostingRule(CallPolicy.EXCEPTIONLESS, post), d = new PostingRule(CallPolicy.DIRECT, post);
            for (SyscallTable.Call c : SyscallTable.all().values()) {
                assertEquals(POST, x.decide(c, FULL), c.name());
                assertEquals(DIRECT, d.decide(c, ROOM), c.name());
            }
            assertTrue(x.postsBatches());
            assertFalse(d.postsBatches());
        }
        assertTrue(new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.HAND_OFF).postsBatches());
    }

    @Test
    void adaptiveOnAPlatformThreadNeverPostsWhatCanBeTriedWithoutWaiting() {
        PostingRule hand = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.HAND_OFF);
        PostingRule ring = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.RING_ENTRY);
        for (PostingRule r : List.of(hand, ring)) {
            assertEquals(DIRECT, r.decide(call(SyscallTable.GETPID), ROOM));
            assertEquals(DIRECT, r.decide(call(SyscallTable.PWRITE64), ROOM));
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.READ), ROOM));
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.WRITE), ROOM));
            assertEquals(POST, r.decide(call(SyscallTable.ACCEPT4), ROOM), "may block, cannot be tried");
            assertEquals(POST, r.decide(call(SyscallTable.READV), ROOM));
        }
        // The engine fact: a hand-off is worth a MSG_DONTWAIT try of a socket call first; one
        // more ring entry is not.
        assertEquals(TRY_NOWAIT, hand.decide(call(SyscallTable.RECVFROM), ROOM));
        assertEquals(TRY_NOWAIT, hand.decide(call(SyscallTable.SENDTO), ROOM));
        assertEquals(POST, ring.decide(call(SyscallTable.RECVFROM), ROOM));
        assertEquals(POST, ring.decide(call(SyscallTable.SENDTO), ROOM));
    }

    @Test
    @Timeout(10)
    void adaptiveOnAGreenThreadPostsWhenItsCarrierSaysSoAndTheEngineHasRoom() throws Exception {
        PostingRule r = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.HAND_OFF);
        AtomicReference<Object> out = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                List<PostingRule.Decision> ds = new ArrayList<>();
                CARRIER.pays = true;
                ds.add(r.decide(call(SyscallTable.GETPID), ROOM));
                ds.add(r.decide(call(SyscallTable.GETPID), FULL)); // no room: as on a platform thread
                ds.add(r.decide(call(SyscallTable.READ), FULL));
                CARRIER.pays = false;
                ds.add(r.decide(call(SyscallTable.GETPID), ROOM));
                ds.add(r.decide(call(SyscallTable.ACCEPT4), ROOM));
                out.set(ds);
            } catch (Throwable t) {
                out.set(t);
            }
        }).join();
        assertEquals(List.of(POST, DIRECT, TRY_NOWAIT, DIRECT, POST), out.get());
        assertEquals(List.of(SyscallTable.GETPID, SyscallTable.GETPID, SyscallTable.READ, SyscallTable.GETPID,
                SyscallTable.ACCEPT4), CARRIER.asked, "the carrier is asked with the call's number");
    }
}
