package dev.flexsc.spi;

import dev.flexsc.CallPolicy;
import dev.flexsc.FdKind;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static dev.flexsc.spi.PostingRule.Decision.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.FdKind.UNKNOWN;

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
        final List<Integer> asked = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override public boolean hasOtherWork() { return true; }
        @Override public boolean postPays(int nr) { asked.add(nr); return pays; }
        @Override public void watch(PendingCall call) { }
    }

    static final ScriptedCarrier CARRIER = new ScriptedCarrier();

    static {
        // The core tests run no scheduler: every virtual thread of this JVM gets the scripted carrier.
        GreenThreads.install(() -> CARRIER);
    }

    @Test
    void exceptionlessPostsAndDirectCallsDirectlyWhateverTheCall() {
        for (PostingRule.Post post : PostingRule.Post.values()) {
            PostingRule x = new PostingRule(CallPolicy.EXCEPTIONLESS, post), d = new PostingRule(CallPolicy.DIRECT, post);
            for (SyscallTable.Call c : SyscallTable.all().values()) {
                assertEquals(POST, x.decide(c, UNKNOWN, 0, FULL), c.name());
                assertEquals(DIRECT, d.decide(c, UNKNOWN, 0, ROOM), c.name());
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
            assertEquals(DIRECT, r.decide(call(SyscallTable.GETPID), UNKNOWN, 0, ROOM));
            assertEquals(DIRECT, r.decide(call(SyscallTable.PWRITE64), UNKNOWN, 0, ROOM));
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.READ), UNKNOWN, 0, ROOM));
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.WRITE), UNKNOWN, 0, ROOM));
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.RECVFROM), UNKNOWN, 0, ROOM));
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.SENDTO), UNKNOWN, 0, ROOM));
            assertEquals(POST, r.decide(call(SyscallTable.ACCEPT4), UNKNOWN, 0, ROOM), "may block, cannot be tried");
            assertEquals(POST, r.decide(call(SyscallTable.READV), UNKNOWN, 0, ROOM));
        }
    }

    @Test
    @Timeout(10)
    void adaptiveDecidesReadsAndWritesOfAnAlwaysReadyDescriptorAsPread64AndPwrite64() throws Exception {
        int[] rw = {SyscallTable.READ, SyscallTable.WRITE, SyscallTable.READV, SyscallTable.WRITEV};
        for (PostingRule.Post post : PostingRule.Post.values()) {
            PostingRule r = new PostingRule(CallPolicy.ADAPTIVE, post);
            for (int nr : rw) assertEquals(DIRECT, r.decide(call(nr), FdKind.ALWAYS_READY, 0, ROOM), post + " " + nr);
            // Not a read or write of a file: the kind changes nothing.
            assertEquals(TRY_NOWAIT, r.decide(call(SyscallTable.RECVFROM), FdKind.ALWAYS_READY, 0, ROOM));
            assertEquals(POST, r.decide(call(SyscallTable.ACCEPT4), FdKind.ALWAYS_READY, 0, ROOM));
        }
        // A green thread on a hand-off engine posts them where its carrier says posting pays, as pwrite64.
        AtomicReference<Object> out = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                CARRIER.pays = true;
                CARRIER.asked.clear();
                List<PostingRule.Decision> ds = new ArrayList<>();
                PostingRule hand = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.HAND_OFF);
                PostingRule ring = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.RING_ENTRY);
                for (int nr : rw) ds.add(hand.decide(call(nr), FdKind.ALWAYS_READY, 0, ROOM));
                for (int nr : rw) ds.add(ring.decide(call(nr), FdKind.ALWAYS_READY, 0, ROOM));
                out.set(ds);
            } catch (Throwable t) {
                out.set(t);
            }
        }).join();
        assertEquals(List.of(POST, POST, POST, POST, DIRECT, DIRECT, DIRECT, DIRECT), out.get());
        assertEquals(List.of(SyscallTable.READ, SyscallTable.WRITE, SyscallTable.READV, SyscallTable.WRITEV),
                CARRIER.asked);
    }

    @Test
    void adaptiveMakesTheCallsThatNeverBlockDirectlyOnEveryThreadAndEngine() throws Exception {
        List<SyscallTable.Call> never = SyscallTable.all().values().stream().filter(c -> c.neverBlocks(0)).toList();
        assertTrue(never.stream().map(SyscallTable.Call::name).toList().containsAll(
                List.of("getpid", "fstat", "lseek", "uname", "getrandom")), never.toString());
        for (SyscallTable.Call c : never) assertFalse(c.mayBlock(), c.name() + " both never blocks and may block");
        // getrandom from the blocking pool may wait: not in the column for that argument.
        assertFalse(call(SyscallTable.GETRANDOM).neverBlocks(SyscallTable.GRND_RANDOM));
        AtomicReference<Object> out = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                CARRIER.pays = true; // even where the carrier would say posting pays
                CARRIER.asked.clear();
                List<PostingRule.Decision> ds = new ArrayList<>();
                for (PostingRule.Post post : PostingRule.Post.values()) {
                    PostingRule r = new PostingRule(CallPolicy.ADAPTIVE, post);
                    for (SyscallTable.Call c : never) ds.add(r.decide(c, UNKNOWN, 0, ROOM));
                }
                out.set(ds);
            } catch (Throwable t) {
                out.set(t);
            }
        }).join();
        assertInstanceOf(List.class, out.get(), String.valueOf(out.get()));
        for (Object d : (List<?>) out.get()) assertEquals(DIRECT, d);
        assertEquals(List.of(), CARRIER.asked, "never-blocking calls are decided without asking the carrier");
    }

    @Test
    @Timeout(10)
    void onACarrierRingAGreenThreadTriesTheCallsThatMayWaitAndMakesTheRestDirectly() throws Exception {
        PostingRule r = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.RING_ENTRY);
        AtomicReference<Object> out = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                CARRIER.pays = true;
                CARRIER.asked.clear();
                out.set(List.of(r.decide(call(SyscallTable.PWRITE64), UNKNOWN, 0, ROOM), r.decide(call(SyscallTable.READ), UNKNOWN, 0, ROOM),
                        r.decide(call(SyscallTable.RECVFROM), UNKNOWN, 0, ROOM), r.decide(call(SyscallTable.CONNECT), UNKNOWN, 0, ROOM)));
            } catch (Throwable t) {
                out.set(t);
            }
        }).join();
        assertEquals(List.of(DIRECT, TRY_NOWAIT, TRY_NOWAIT, POST), out.get());
        assertEquals(List.of(), CARRIER.asked, "no trial, no sample: the carrier is not asked");
    }

    @Test
    @Timeout(10)
    void onAHandOffEngineAGreenThreadPostsWhenItsCarrierSaysSoAndTheEngineHasRoom() throws Exception {
        PostingRule r = new PostingRule(CallPolicy.ADAPTIVE, PostingRule.Post.HAND_OFF);
        AtomicReference<Object> out = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                List<PostingRule.Decision> ds = new ArrayList<>();
                CARRIER.asked.clear();
                CARRIER.pays = true;
                ds.add(r.decide(call(SyscallTable.PWRITE64), UNKNOWN, 0, ROOM));
                ds.add(r.decide(call(SyscallTable.PWRITE64), UNKNOWN, 0, FULL)); // no room: as on a platform thread
                ds.add(r.decide(call(SyscallTable.READ), UNKNOWN, 0, FULL));
                CARRIER.pays = false;
                ds.add(r.decide(call(SyscallTable.PWRITE64), UNKNOWN, 0, ROOM));
                ds.add(r.decide(call(SyscallTable.ACCEPT4), UNKNOWN, 0, ROOM));
                out.set(ds);
            } catch (Throwable t) {
                out.set(t);
            }
        }).join();
        assertEquals(List.of(POST, DIRECT, TRY_NOWAIT, DIRECT, POST), out.get());
        assertEquals(List.of(SyscallTable.PWRITE64, SyscallTable.PWRITE64, SyscallTable.READ, SyscallTable.PWRITE64),
                CARRIER.asked, "the carrier is asked with the call's number (not for accept4, which cannot be tried)");
    }

    /**
     * A sendmsg or recvmsg with MSG_DONTWAIT returns at once on any socket: made directly by
     * ADAPTIVE on every engine and thread, even where the carrier says posting pays (a post
     * would park the green thread for a call that cannot wait); without the flag it may
     * block and is posted as before. EXCEPTIONLESS still posts it.
     */
    @Test
    @Timeout(10)
    void adaptiveMakesANonBlockingSendmsgOrRecvmsgDirectly() throws Exception {
        long dontWait = dev.flexsc.MsgFlags.MSG_DONTWAIT | dev.flexsc.MsgFlags.MSG_NOSIGNAL;
        AtomicReference<Object> out = new AtomicReference<>();
        Runnable decide = () -> {
            try {
                CARRIER.pays = true;
                CARRIER.asked.clear();
                List<PostingRule.Decision> ds = new ArrayList<>();
                for (PostingRule.Post post : PostingRule.Post.values()) {
                    PostingRule r = new PostingRule(CallPolicy.ADAPTIVE, post);
                    for (int nr : new int[] {SyscallTable.SENDMSG, SyscallTable.RECVMSG}) {
                        ds.add(r.decide(call(nr), UNKNOWN, dontWait, ROOM));
                        ds.add(r.decide(call(nr), UNKNOWN, 0, ROOM));
                    }
                }
                ds.add(new PostingRule(CallPolicy.EXCEPTIONLESS, PostingRule.Post.RING_ENTRY)
                        .decide(call(SyscallTable.SENDMSG), UNKNOWN, dontWait, ROOM));
                out.set(ds);
            } catch (Throwable t) {
                out.set(t);
            }
        };
        List<PostingRule.Decision> expected = List.of(DIRECT, POST, DIRECT, POST, DIRECT, POST, DIRECT, POST, POST);
        Thread.ofVirtual().start(decide).join();
        assertEquals(expected, out.get(), "on a green thread");
        Thread.ofPlatform().start(decide).join();
        assertEquals(expected, out.get(), "on a platform thread");
        assertEquals(List.of(), CARRIER.asked, "decided from the call alone");
        // the flags are sendmsg's and recvmsg's third argument only
        assertFalse(PostingRule.dontWait(SyscallTable.READV, dontWait));
    }
}
