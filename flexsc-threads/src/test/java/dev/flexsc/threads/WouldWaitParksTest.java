package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Under the default policy a green thread's write that would wait (a full pipe) parks the
 * green thread, never its carrier: with one carrier, the reader that drains the pipe is a
 * green thread of the same carrier, and it runs only if the writer's carrier is free.
 */
class WouldWaitParksTest {
    private static final long DEADLINE_SECONDS = 30;

    @Test
    @Timeout(120)
    void aWriteToAFullPipeParksTheGreenThreadAndTheCarrierRunsTheReader() throws Exception {
        for (Engine kind : new Engine[] {Engine.SYSCALL_THREADS, Engine.IO_URING}) {
            String why = TestSupport.unavailabilityCause(kind);
            if (why != null) {
                System.out.println("skipped " + kind + ": " + why);
                continue;
            }
            FlexscConfig cfg = FlexscConfig.builder().engine(kind).userCpus(0).policy(CallPolicy.ADAPTIVE).build();
            int[] p = TestSupport.pipe(); // blocking: a write to it when full waits
            try (FlexscRuntime rt = FlexscRuntime.open(cfg); Arena a = Arena.ofShared()) {
                Syscalls s = rt.syscalls();
                int cap = (int) DirectSyscalls.raw(72 /* fcntl */, p[1], 1032 /* F_GETPIPE_SZ */, 0, 0, 0, 0);
                assertTrue(cap > 0, "pipe capacity " + cap);
                MemorySegment fill = a.allocate(cap);
                assertEquals(cap, DirectSyscalls.raw(1, p[1], fill.address(), cap, 0, 0, 0), "filling the pipe");
                int size = 16384;
                MemorySegment data = a.allocate(size);
                for (int i = 0; i < size; i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13));
                long postedBefore = rt.engine().stats().posted();

                AtomicReference<Object> written = new AtomicReference<>();
                Thread writer = rt.threadFactory().newThread(() -> {
                    try {
                        written.set(s.write(p[1], data));
                    } catch (Throwable t) {
                        written.set(t);
                    }
                });
                writer.start();
                // The writer found the pipe full and posted its write (it would wait).
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
                while (rt.engine().stats().posted() == postedBefore && writer.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertTrue(writer.isAlive(), kind + ": the write to a full pipe returned " + written.get());
                assertEquals(postedBefore + 1, rt.engine().stats().posted(), kind + ": " + rt.engine().stats());

                MemorySegment drained = a.allocate(cap + size);
                AtomicReference<Throwable> readFailure = new AtomicReference<>();
                Thread reader = rt.threadFactory().newThread(() -> {
                    try {
                        long total = 0;
                        while (total < cap + size) {
                            long n = s.read(p[0], drained.asSlice(total, Math.min(4096, cap + size - total)));
                            if (n <= 0) throw new AssertionError("read " + n + " after " + total);
                            total += n;
                        }
                    } catch (Throwable t) {
                        readFailure.set(t);
                    }
                });
                reader.start();
                reader.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
                writer.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
                assertFalse(reader.isAlive(), kind + ": the reader on the writer's carrier never finished: the carrier is blocked");
                assertFalse(writer.isAlive(), kind + ": the posted write never completed");
                assertNull(readFailure.get(), () -> kind + ": " + readFailure.get());
                assertEquals((long) size, written.get(), kind + ": write result");
                for (int i = 0; i < size; i++) {
                    assertEquals((byte) (i * 13), drained.get(ValueLayout.JAVA_BYTE, cap + i), kind + ": byte " + i);
                }
            } finally {
                TestSupport.closeDirect(p[0], p[1]); // ends a write still blocked, if the test failed
            }
        }
    }
}
