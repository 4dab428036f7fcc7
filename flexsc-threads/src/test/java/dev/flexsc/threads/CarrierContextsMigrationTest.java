package dev.flexsc.threads;

import dev.flexsc.FlexscConfig;
import dev.flexsc.spi.CallCarrier;
import dev.flexsc.spi.CarrierContext;
import dev.flexsc.spi.GreenThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A carrier's contexts are carrier-private, and a green thread asks its carrier for one: if
 * the engine's {@code openContext} unmounts the thread (it blocks: a contended monitor, a
 * park), the thread may resume on another carrier, and must then not write the first
 * carrier's context arrays from there, nor use a context set up for the first carrier's OS
 * thread (an io_uring ring bound to it) from the second: the context is given up and the
 * answer is "none". Seen with the io_uring engine's synchronized bookkeeping as an
 * ArrayIndexOutOfBoundsException in {@link CarrierContexts#context}.
 */
class CarrierContextsMigrationTest {
    /** A context that records the carrier it was set up for; it never has calls. */
    private static final class Recorded implements CarrierContext {
        final Thread owner;
        volatile boolean closed;

        Recorded(Thread owner) {
            this.owner = owner;
        }

        @Override
        public int poll() {
            return 0;
        }

        @Override
        public boolean hasCalls() {
            return false;
        }

        @Override
        public int idle(long timeoutNanos) {
            LockSupport.parkNanos(Math.min(timeoutNanos, 1_000_000L));
            return 0;
        }

        @Override
        public void wake() {
            LockSupport.unpark(owner);
        }

        @Override
        public int wakeFd() {
            return -1;
        }

        @Override
        public void notifyOn(int fd) {
        }

        @Override
        public void requestClose() {
            closed = true;
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public void close(long timeoutNanos) {
            closed = true;
        }
    }

    @Test
    @Timeout(120)
    void aGreenThreadThatMovedWhileItsContextWasSetUpGetsNone() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two CPUs (two carriers)");
        int threads = 400;
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        AtomicInteger moved = new AtomicInteger(), kept = new AtomicInteger();
        try (FlexscScheduler s = FlexscScheduler.open(FlexscConfig.builder().userCpus(0, 1).build())) {
            List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                ts.add(s.startVirtualThread(() -> {
                    // A provider of its own: every ask sets one up, and the set-up parks (unmounts).
                    CarrierContext.Provider p = carrier -> {
                        Thread owner = carrier.thread();
                        LockSupport.parkNanos(200_000L);
                        return new Recorded(owner);
                    };
                    try {
                        CallCarrier before = GreenThreads.currentCarrier();
                        CarrierContext c = before.context(p);
                        Thread now = VirtualThreads.currentCarrier();
                        if (c == null) {
                            moved.incrementAndGet();
                        } else if (((Recorded) c).owner != now) {
                            wrong.add("a context set up for " + ((Recorded) c).owner.getName() + " handed out on " + now.getName());
                        } else {
                            kept.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        wrong.add(t.toString());
                    }
                }));
            }
            for (Thread t : ts) t.join();
            assertEquals(0, s.carrierErrors());
        }
        System.out.printf("contexts: %d set up and kept on their carrier, %d given up after the thread moved%n",
                kept.get(), moved.get());
        assertTrue(wrong.isEmpty(), wrong.size() + " wrong: " + wrong.stream().limit(5).toList());
    }
}
