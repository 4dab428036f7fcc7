package dev.flexsc.nativeimpl.uring;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.RefusedCallException;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ring the engine releases (a platform ring beyond the pool's idle ones, given back) stops
 * being the engine's own descriptor before its number is closed: a file opened at once with
 * that number, and used through the engine, is not refused as the ring. More platform
 * threads than the pool keeps each loop over: a pipe, a read of it through the engine (a
 * borrowed ring, set up and released under the crowd), close. Found by the fault-injection
 * soak (a socket's recvfrom refused as "an io_uring ring of this engine").
 */
class UringReleasedRingFdTest {
    private static final int PIPE2 = 293, WRITE = 1, CLOSE = 3, O_CLOEXEC = 02000000;

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    void aFileThatGetsAReleasedRingsNumberIsNotRefused(Engine kind) throws Exception {
        TestSupport.assumeAvailable(kind);
        int threads = 3 * PlatformRings.MAX_IDLE;
        long seconds = 3;
        try (UringEngine e = UringEngine.open(kind, FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build())) {
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            AtomicLong refused = new AtomicLong(), reads = new AtomicLong();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ts.add(Thread.ofPlatform().start(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment fds = a.allocate(8, 4), buf = a.allocate(8);
                        while (System.nanoTime() < end) {
                            assertEquals(0, DirectSyscalls.raw(PIPE2, fds.address(), O_CLOEXEC, 0, 0, 0, 0));
                            int r = fds.get(ValueLayout.JAVA_INT, 0), w = fds.get(ValueLayout.JAVA_INT, 4);
                            try {
                                DirectSyscalls.raw(WRITE, w, buf.address(), 1, 0, 0, 0);
                                assertEquals(1, e.syscalls().read(r, buf.asSlice(0, 1)));
                                reads.incrementAndGet();
                            } catch (RefusedCallException x) {
                                if (refused.incrementAndGet() == 1) errors.add(x);
                            } finally {
                                DirectSyscalls.raw(CLOSE, r, 0, 0, 0, 0, 0);
                                DirectSyscalls.raw(CLOSE, w, 0, 0, 0, 0, 0);
                            }
                        }
                    } catch (Throwable x) {
                        errors.add(x);
                    }
                }));
            }
            for (Thread t : ts) t.join();
            System.out.printf("%s: %d reads from %d platform threads, %d refused, %d platform rings now%n", kind,
                    reads.get(), threads, refused.get(), e.uringStats().platformRings());
            assertTrue(errors.isEmpty(), () -> refused.get() + " of the reads were refused; the first: " + errors.peek());
        }
    }
}
