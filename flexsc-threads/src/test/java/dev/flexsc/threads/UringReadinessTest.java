package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineStats;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.PollFlags;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.nativeimpl.uring.UringEngine;
import dev.flexsc.nativeimpl.uring.UringStats;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Syscalls#awaitReady} on a green thread of the io_uring engines: a one-shot
 * IORING_OP_POLL_ADD entry in the carrier's own ring, with poll(2)'s answers (the ready
 * events, 0 at the timeout, POLLNVAL for a descriptor that is not open), never a poll(2) on
 * the fallback; and a timeout racing the readiness it waits for ends with one of the two,
 * every SQE reaped once. Skipped, with the reason printed, where the engine is unavailable.
 */
class UringReadinessTest {
    private static <T> T onGreenThread(FlexscScheduler s, Callable<T> body) throws Exception {
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(s.threadFactory())) {
            return ex.submit(() -> {
                assertTrue(s.isCarrierOfCurrentThread(), "not on a FlexSC carrier");
                return body.call();
            }).get(60, TimeUnit.SECONDS);
        }
    }

    /** A test body with an engine of {@code kind}, a scheduler of one carrier and a pipe. */
    private interface Body {
        void run(UringEngine e, FlexscScheduler sched, Syscalls s, int[] pipe) throws Exception;
    }

    /** Runs {@code body} on a fresh engine and scheduler (ADAPTIVE, CPU 0), or skips with the reason. */
    private static void withPipe(Engine kind, Body body) throws Exception {
        TestSupport.assumeAvailable(kind);
        FlexscConfig cfg = FlexscConfig.builder().engine(kind).userCpus(0).policy(CallPolicy.ADAPTIVE).build();
        try (UringEngine e = (UringEngine) Flexsc.open(cfg); FlexscScheduler sched = FlexscScheduler.open(cfg)) {
            int[] p = TestSupport.pipe();
            try {
                body.run(e, sched, e.syscalls(), p);
            } finally {
                TestSupport.closeDirect(p);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(120)
    void aGreenThreadsReadinessWaitIsAPollEntryWithPollsAnswers(Engine kind) throws Exception {
        withPipe(kind, (e, sched, s, p) -> {
            onGreenThread(sched, () -> {
                assertEquals(0, s.awaitReady(p[0], PollFlags.POLLIN, 30), "nothing to read: the timeout");
                assertEquals(PollFlags.POLLOUT, s.awaitReady(p[1], PollFlags.POLLOUT, -1), "room to write");
                assertEquals(PollFlags.POLLNVAL, s.awaitReady(999_999, PollFlags.POLLIN, -1), "not an open descriptor");
                assertEquals(1, DirectSyscalls.syscalls().write(p[1], new byte[] {1}));
                assertEquals(PollFlags.POLLIN, s.awaitReady(p[0], PollFlags.POLLIN, 1000), "a byte to read");
                assertEquals(PollFlags.POLLIN, s.awaitReady(p[0], PollFlags.POLLIN, 0), "timeout 0: a look, made directly");
                return null;
            });
            UringStats u = e.uringStats();
            assertEquals(4L, u.ringCalls().get("poll"), () -> "four waits, four poll entries: " + u);
            assertNull(u.fallbackCalls().get("poll"), () -> "a readiness wait went to the fallback: " + u);
            assertEquals(0, u.inFlight(), "the timed-out entry was cancelled and reaped");
            assertSqesReapedOnce(e);
        });
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(180)
    void aTimeoutRacingReadinessEndsWithOneOfThem(Engine kind) throws Exception {
        int rounds = 100;
        withPipe(kind, (e, sched, s, p) -> {
            // A platform thread writes a byte while the green thread waits 1 ms for it: the
            // cancel at the deadline and the completion race; either answer is poll's, and
            // the byte is there for the next wait whichever won.
            int[] timeouts = new int[1];
            onGreenThread(sched, () -> {
                byte[] one = new byte[1];
                for (int i = 0; i < rounds; i++) {
                    Thread writer = Thread.ofPlatform().start(() -> {
                        try {
                            DirectSyscalls.syscalls().write(p[1], new byte[] {(byte) 1});
                        } catch (java.io.IOException x) {
                            throw new java.io.UncheckedIOException(x);
                        }
                    });
                    int r = s.awaitReady(p[0], PollFlags.POLLIN, 1);
                    assertTrue(r == 0 || r == PollFlags.POLLIN, "round " + i + ": " + r);
                    if (r == 0) timeouts[0]++;
                    writer.join();
                    assertEquals(PollFlags.POLLIN, s.awaitReady(p[0], PollFlags.POLLIN, -1), "round " + i + ": the byte");
                    assertEquals(1, DirectSyscalls.syscalls().read(p[0], one));
                }
                return null;
            });
            System.out.printf("%s: %d of %d 1 ms waits timed out before the byte came%n", kind, timeouts[0], rounds);
            assertEquals(0, e.uringStats().inFlight());
            assertSqesReapedOnce(e);
        });
    }

    /** Once nothing is in flight: every SQE of a call was answered by exactly one CQE. */
    private static void assertSqesReapedOnce(UringEngine e) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        EngineStats st = e.stats();
        while (st.submitted() != st.executed() && System.nanoTime() < deadline) {
            Thread.sleep(1);
            st = e.stats();
        }
        assertEquals(st.submitted(), st.executed(), "SQEs against CQEs: " + st);
    }
}
