package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.nativeimpl.uring.UringEngine;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An io_uring engine closed, again and again, while calls of every kind are in flight on it:
 * green threads parked on their carriers' rings (reads of pipes that never get data, reads and
 * writes that complete, batches), platform threads on the platform rings, interrupts. The
 * rings of the closed engine are secondary on carriers that sleep in another engine's ring.
 * Every call must end (its result, {@link EngineClosedException} or an interrupt) and the JVM
 * must survive: a ring's memory released while the kernel may still write into it shows as
 * a corrupted C heap (the soak's SIGSEGV in libc).
 */
class UringCloseInFlightTest {
    private static final int GREEN = 12, PLATFORM = 3;

    @ParameterizedTest
    @EnumSource(names = {"IO_URING", "IO_URING_SQPOLL"})
    @Timeout(300)
    void anEngineClosedWithCallsInFlightAgainAndAgain(Engine kind) throws Exception {
        TestSupport.assumeAvailable(kind);
        int rounds = Integer.getInteger("flexsc.test.closeRounds", 30);
        FlexscConfig cfg = FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build();
        SplittableRandom rnd = new SplittableRandom(Long.getLong("flexsc.test.seed", System.nanoTime()));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong ended = new AtomicLong();
        try (UringEngine main = (UringEngine) Flexsc.open(cfg);
             FlexscScheduler s = FlexscScheduler.open(cfg)) {
            for (int round = 0; round < rounds && failure.get() == null; round++) {
                FlexscConfig vc = cfg.toBuilder().pages(1).closeTimeoutMillis(100)
                        .policy(rnd.nextBoolean() ? CallPolicy.EXCEPTIONLESS : CallPolicy.ADAPTIVE).build();
                UringEngine victim = (UringEngine) Flexsc.open(vc);
                AtomicBoolean go = new AtomicBoolean(true);
                List<Thread> threads = new ArrayList<>();
                List<int[]> pipes = new ArrayList<>();
                for (int i = 0; i < GREEN + PLATFORM; i++) {
                    int[] p = TestSupport.pipe();
                    pipes.add(p);
                    int kindOfWork = i % 4;
                    Runnable work = () -> {
                        try {
                            // The main engine first: the carrier's primary ring is main's.
                            main.syscalls().getpid();
                            work(victim.syscalls(), p, kindOfWork, go);
                        } catch (EngineClosedException | InterruptedIOException expected) {
                            // the close, or an interrupt
                        } catch (Throwable t) {
                            if (!(t.getCause() instanceof EngineClosedException)) failure.compareAndSet(null, t);
                        } finally {
                            ended.incrementAndGet();
                        }
                    };
                    threads.add(i < GREEN ? s.startVirtualThread(work) : Thread.ofPlatform().daemon().start(work));
                }
                Thread.sleep(rnd.nextInt(30));
                for (int k = 0; k < 3; k++) threads.get(rnd.nextInt(threads.size())).interrupt();
                Thread.sleep(rnd.nextInt(10));
                victim.close();
                go.set(false);
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(20));
                    if (t.isAlive()) {
                        fail("round " + round + ": a caller did not return after the close: " + t + "\n  at "
                                + String.join("\n  at ", java.util.Arrays.stream(t.getStackTrace()).map(String::valueOf).toList())
                                + "\n" + victim.uringStats());
                    }
                }
                for (int[] p : pipes) TestSupport.closeDirect(p);
            }
        }
        if (failure.get() != null) throw new AssertionError(failure.get());
        System.out.printf("%s: %d engines closed with calls in flight, %d callers ended%n", kind, rounds, ended.get());
    }

    /** One caller's calls until the engine closes under it. */
    private static void work(Syscalls sys, int[] p, int kind, AtomicBoolean go) throws IOException {
        byte[] one = new byte[1];
        switch (kind) {
            case 0 -> sys.read(p[0], new byte[16]); // blocks until the close cancels it
            case 1 -> {
                while (go.get()) { // write and read back: completes at once, again and again
                    sys.write(p[1], one);
                    sys.read(p[0], one);
                }
            }
            case 2 -> {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment out = a.allocate(2), in = a.allocate(2);
                    while (go.get()) { // a batch: a write and a read of what it wrote
                        try (SyscallBatch b = sys.batch()) {
                            b.write(p[1], out);
                            b.read(p[0], in);
                            b.submitAndWait();
                        }
                    }
                }
            }
            default -> {
                while (go.get()) sys.getpid();
            }
        }
    }
}
