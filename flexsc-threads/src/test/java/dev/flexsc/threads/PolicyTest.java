package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.EngineStats;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.spi.PendingCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ADAPTIVE on green threads: the carrier's decision ({@link CarrierThread#postPays(int)}) driven
 * step by step with scripted calls, and end to end on a runtime.
 */
class PolicyTest {
    private static final long PID = ProcessHandle.current().pid();
    private static final int NR = dev.flexsc.abi.SyscallTable.GETPID;

    /** A call whose completion the test decides. */
    static final class ScriptedCall extends PendingCall {
        volatile boolean settled;
        final boolean woke;
        boolean started = true;

        ScriptedCall(boolean settled, boolean woke) {
            super(Thread.currentThread());
            this.settled = settled;
            this.woke = woke;
        }

        @Override public boolean isSettled() { return settled; }
        @Override public boolean isStarted() { return started; }
        @Override public boolean wokeExecutor() { return woke; }
        @Override public Object sleepKey() { return this; }
        @Override public int completionSeq() { return 0; }
        @Override public void sleepUntilCompletion(int seenSeq, long timeoutNanos) { }
        @Override public void wakeSleepers() { }
    }

    /** The engine's side of a post that postPays allowed: the carrier watches the call. */
    private static void post(CarrierThread c, boolean settled, boolean woke) {
        c.watch(new ScriptedCall(settled, woke));
    }

    @Test
    @Timeout(30)
    void theCarrierPostsWhileCallsOutlastTwoSwitchesAndCallsDirectlyOtherwise() {
        try (FlexscScheduler s = FlexscScheduler.open(Pipes.config())) {
            // A carrier of that scheduler that never runs: the test plays its OS thread.
            CarrierThread c = new CarrierThread(s, 99, 0, IdlePolicy.DEFAULT, true);
            assertFalse(c.postPays(NR), "nothing else to run: direct");
            c.pushLocal(() -> { });
            assertTrue(c.postPays(NR), "other work and no samples yet: post (FlexSC's premise)");

            // Calls that complete within two switches: after a few samples, direct.
            int decisions = 0;
            boolean post = true;
            while (post && decisions < 100) {
                post(c, true, false);
                post = c.postPays(NR);
                decisions++;
            }
            assertFalse(post, "still posting after 100 fast calls");
            assertTrue(decisions <= 10, "took " + decisions + " decisions");
            assertTrue(c.slowScore(NR) < CarrierThread.SCORE_ONE / 2, "score " + c.slowScore(NR));

            // Direct until a probe: PROBE_POSTS posts in a row every PROBE_PERIOD decisions (the
            // first direct decision, above, counts).
            int direct = 1;
            while (!c.postPays(NR)) direct++;
            assertEquals(CarrierThread.PROBE_PERIOD - 1, direct);
            post(c, false, false); // the probe's first call, still running two switches later
            assertTrue(c.postPays(NR));
            post(c, false, false);
            long samples = c.adaptiveSamples();
            int before = c.slowScore(NR);
            assertTrue(c.postPays(NR) || c.slowScore(NR) > before, "the probe samples its first call");
            assertEquals(samples + 1, c.adaptiveSamples());
            assertTrue(c.slowScore(NR) > before);

            // Calls that keep running: the score climbs back over one half and the carrier posts.
            for (int i = 0; i < 20; i++) {
                post(c, false, false);
                c.postPays(NR);
            }
            assertTrue(c.postPays(NR), "slow calls: post; score " + c.slowScore(NR));

            // Calls still queued two switches later measure the syscall side's backlog, not the
            // call: no sample.
            int high = 0;
            long before2 = 0;
            for (int i = 0; i < 4; i++) {
                ScriptedCall q = new ScriptedCall(false, false);
                q.started = false;
                c.watch(q);
                assertTrue(c.postPays(NR)); // the first samples the call before the queued ones
                if (i == 0) {
                    high = c.slowScore(NR);
                    before2 = c.adaptiveSamples();
                }
            }
            assertEquals(high, c.slowScore(NR));
            assertEquals(before2, c.adaptiveSamples(), "queued calls were sampled");

            // A post that woke a sleeping executor: the next samples are discarded.
            int score = c.slowScore(NR);
            long n = c.adaptiveSamples();
            post(c, true, true);
            c.postPays(NR);
            post(c, true, false);
            c.postPays(NR);
            post(c, true, false);
            c.postPays(NR);
            assertEquals(n, c.adaptiveSamples(), "samples taken across a wake-up");
            assertEquals(score, c.slowScore(NR));

            // Scores are per call number: getpid's say nothing about pwrite64's.
            assertEquals(CarrierThread.SCORE_ONE, c.slowScore(dev.flexsc.abi.SyscallTable.PWRITE64));

            // A direct call between two posts breaks the pair: no sample from it.
            c.local.clear();
            n = c.adaptiveSamples();
            post(c, true, false);
            assertFalse(c.postPays(NR), "no queued work: direct"); // and the pending scripted calls were reaped
            c.pushLocal(() -> { });
            post(c, true, false);
            c.postPays(NR);
            assertEquals(n, c.adaptiveSamples());
        }
    }

    @Test
    @Timeout(60)
    void oneGreenThreadCallsDirectly() throws Exception {
        FlexscConfig cfg = Pipes.config().toBuilder().policy(CallPolicy.ADAPTIVE).build();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            Syscalls s = rt.syscalls();
            long[] wrong = new long[1];
            Thread t = rt.threadFactory().newThread(() -> {
                try {
                    for (int i = 0; i < 2000; i++) if (s.getpid() != PID) wrong[0]++;
                } catch (Exception e) {
                    wrong[0] = -1;
                }
            });
            t.start();
            t.join();
            assertEquals(0, wrong[0]);
            EngineStats st = rt.engine().stats();
            assertEquals(2000, st.direct(), st::toString);
            assertEquals(0, st.posted(), st::toString);
            assertEquals(0, st.submitted(), st::toString);
        }
    }

    @Test
    @Timeout(120)
    void busyGreenThreadsWithSlowCallsPost(@TempDir Path dir) throws Exception {
        FlexscConfig cfg = Pipes.config().toBuilder().policy(CallPolicy.ADAPTIVE).build();
        int threads = 8, calls = 40, size = 1 << 20; // 1 MiB pwrite: far longer than two thread switches
        try (FlexscRuntime rt = FlexscRuntime.open(cfg); Arena a = Arena.ofShared()) {
            Syscalls s = rt.syscalls();
            MemorySegment buf = a.allocate(size);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Path f = dir.resolve("f" + i);
                ts.add(rt.threadFactory().newThread(() -> {
                    try {
                        int fd = s.openat(Syscalls.AT_FDCWD, f.toString(), 02 | 0100 | 02000000, 0600);
                        for (int k = 0; k < calls; k++) assertEquals(size, s.pwrite(fd, buf, (long) k * size));
                        s.close(fd);
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                }));
            }
            for (Thread t : ts) t.start();
            for (Thread t : ts) t.join();
            assertTrue(errors.isEmpty(), () -> errors.peek().toString());
            EngineStats st = rt.engine().stats();
            System.out.println("8 green threads x 40 pwrite 1 MiB, ADAPTIVE: " + st);
            long pwrites = (long) threads * calls;
            assertEquals(pwrites + 2L * threads, st.posted() + st.direct(), st::toString);
            // Every pwrite still ran two switches after it was posted: the carrier posts whenever
            // another thread can run meanwhile, and calls directly only when all the others
            // wait for their calls (it would idle otherwise), so a good share is posted.
            assertTrue(st.posted() > pwrites / 4, () -> "posted too few: " + st);
        }
    }
}
