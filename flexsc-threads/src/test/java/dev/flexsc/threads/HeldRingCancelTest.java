package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.nativeimpl.uring.UringEngine;
import dev.flexsc.spi.CancelScope;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A cancel of a call in the kernel on a held carrier's ring (docs/threads.md, "A carrier held
 * by one thread"): a green thread blocked in a pipe read on its carrier's ring is interrupted,
 * or its {@link CancelScope} cancelled (a channel's close), while another green thread holds
 * that carrier computing and a compensator serves its ring. The read must end exactly once,
 * as cancelled, must not have taken the byte written after it, and must leave no call in
 * flight. On IO_URING_SQPOLL the compensator writes the cancel into the held ring (the
 * polling thread submits it), so the read ends while the carrier is still held; on IO_URING
 * only the held carrier may submit to its ring (SINGLE_ISSUER), so the cancel waits for it.
 * The test waits for conditions with a generous deadline, never for a duration.
 */
class HeldRingCancelTest {
    /** How long a condition may take on a loaded machine before the test fails. */
    private static final long DEADLINE_SECONDS = 60;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"IO_URING_SQPOLL, INTERRUPT", "IO_URING_SQPOLL, SCOPE", "IO_URING, INTERRUPT", "IO_URING, SCOPE"})
    @Timeout(240)
    void aCancelOfACallInTheKernelOnAHeldRingEndsItExactlyOnce(Engine kind, String how) throws Exception {
        TestSupport.assumeAvailable(kind);
        boolean interrupt = how.equals("INTERRUPT");
        // One carrier: the hog holds it, and only its compensator runs the reader meanwhile.
        FlexscConfig cfg = FlexscConfig.builder().engine(kind).userCpus(0).policy(CallPolicy.EXCEPTIONLESS).build();
        int[] p = TestSupport.pipe();
        try (FlexscRuntime rt = FlexscRuntime.open(cfg)) {
            UringEngine u = (UringEngine) rt.engine();
            CancelScope scope = new CancelScope();
            AtomicInteger endings = new AtomicInteger();
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicBoolean keptInterrupt = new AtomicBoolean(), endedWhileHeld = new AtomicBoolean();
            AtomicBoolean hogStop = new AtomicBoolean(), hogRunning = new AtomicBoolean();
            AtomicReference<Thread> readerCarrier = new AtomicReference<>();
            Thread reader = rt.threadFactory().newThread(() -> {
                Object o;
                try {
                    // The read is posted on this carrier's ring: nothing parks before it.
                    readerCarrier.set(VirtualThreads.currentCarrier());
                    o = scope.run(() -> rt.syscalls().read(p[0], new byte[16]));
                } catch (Throwable t) {
                    o = t;
                }
                endedWhileHeld.set(hogRunning.get());
                keptInterrupt.set(Thread.currentThread().isInterrupted());
                outcome.set(o);
                endings.incrementAndGet();
            });
            reader.start();
            waitFor("the read is in flight on the carrier's ring", () -> u.uringStats().inFlight() >= 1);
            AtomicLong compAtHold = new AtomicLong();
            Thread hog = rt.threadFactory().newThread(() -> { // computes until told to stop, never parks
                try {
                    // It must hold the reader's carrier, not a compensator that other work brought in.
                    while (VirtualThreads.currentCarrier() != readerCarrier.get()) Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
                compAtHold.set(rt.scheduler().compensations());
                hogRunning.set(true); // volatile: after compAtHold
                long x = 0;
                while (!hogStop.get()) x += x * 31 + 7;
                if (x == 42) System.out.print("");
                hogRunning.set(false);
            });
            hog.start();
            try {
                waitFor("a compensator serves the held carrier",
                        () -> hogRunning.get() && rt.scheduler().compensations() > compAtHold.get());
                assertEquals(0, endings.get(), () -> "the read ended before it was cancelled: " + outcome.get());
                if (interrupt) reader.interrupt();
                else scope.cancel();
                if (kind == Engine.IO_URING_SQPOLL) {
                    // Before the compensator served the held ring's cancels, the cancel waited
                    // for the hog (it still would here: the hog runs until the read ended).
                    waitFor("the read ended while its carrier is held", () -> endings.get() > 0);
                    assertTrue(endedWhileHeld.get(), "the hog stopped before the read ended");
                }
            } finally {
                hogStop.set(true);
            }
            hog.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
            reader.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
            assertFalse(reader.isAlive(), "the cancelled read never ended");
            assertEquals(1, endings.get());
            Object o = outcome.get();
            if (interrupt) {
                assertInstanceOf(InterruptedIOException.class, o, () -> "the interrupted read: " + o);
            } else {
                assertInstanceOf(ErrnoException.class, o, () -> "the cancelled read: " + o);
                assertEquals(Errno.EINTR, ((ErrnoException) o).errno(), () -> "the cancelled read: " + o);
            }
            assertEquals(interrupt, keptInterrupt.get(), "interrupt status");
            assertTrue(u.uringStats().cancels() > 0, "no IORING_OP_ASYNC_CANCEL");

            // The cancelled read took nothing: the next byte goes to the next read.
            assertEquals(1, DirectSyscalls.syscalls().write(p[1], new byte[] {42}));
            byte[] one = new byte[1];
            AtomicReference<Object> next = new AtomicReference<>();
            Thread t = rt.threadFactory().newThread(() -> {
                try {
                    next.set(rt.syscalls().read(p[0], one));
                } catch (Throwable x) {
                    next.set(x);
                }
            });
            t.start();
            t.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
            assertEquals(1L, next.get(), () -> "the next read: " + next.get());
            assertEquals(42, one[0]);
            // No call left behind in the held ring's table (nor in the compensator's).
            waitFor("no call in flight", () -> u.uringStats().inFlight() == 0);
        } finally {
            TestSupport.closeDirect(p);
        }
    }

    /** Waits until {@code condition} holds, up to {@link #DEADLINE_SECONDS}; fails naming {@code what}. */
    private static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }
}
