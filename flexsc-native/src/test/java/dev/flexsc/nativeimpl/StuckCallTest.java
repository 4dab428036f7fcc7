package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.SyscallBatch;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Close giving up on a call stuck in the kernel: the engine's close is bounded, the call is
 * not. The caller must not get its call back (and so free or reuse the memory the call
 * writes) before the call has completed: it waits for the completion, however long, and
 * then returns the call's own result. With {@link HeldPageEngine} (calls that nothing
 * cancels, completed when the test says) and with real engines on a call that nothing but
 * SIGKILL ends (madvise(MADV_POPULATE_WRITE) over userfaultfd memory).
 */
class StuckCallTest {
    /** Runs {@code call} on a new platform thread; {@code out} gets its value or what it threw (null while it runs). */
    static Thread caller(AtomicReference<Object> out, Callable<Object> call) {
        return Thread.ofPlatform().start(() -> {
            try {
                out.set(call.call());
            } catch (Throwable t) {
                out.set(t);
            }
        });
    }

    /**
     * Waits for {@code e} to hold a call, closes the engine (which gives up on the call after
     * its close timeout) and checks that the caller has not got its call back 300 ms later.
     */
    private static HeldPageEngine.Held closeWhileHeld(HeldPageEngine e, AtomicReference<Object> out, String what) throws Exception {
        HeldPageEngine.Held h = e.awaitHeld(5000);
        assertNotNull(h, "the call was not posted");
        e.close();
        Thread.sleep(300);
        assertNull(out.get(), what + " (it returned " + out.get() + ")");
        return h;
    }

    /** The held call's buffer argument (args[1]) as the kernel would see it. */
    private static MemorySegment kernelView(HeldPageEngine.Held h, long len) {
        return MemorySegment.ofAddress(h.args()[1]).reinterpret(len);
    }

    @Test
    @Timeout(30)
    void aHeapReadStuckWhenCloseGivesUpIsWaitedForAndItsBytesArrive() throws Exception {
        HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.READ, 200);
        byte[] heap = new byte[64];
        AtomicReference<Object> out = new AtomicReference<>();
        Thread t = caller(out, () -> e.syscalls().read(1000, heap));
        HeldPageEngine.Held h = closeWhileHeld(e, out, "the caller got its call back while the call may"
                + " still write the native copy of its heap buffer (freed when the call returns)");
        kernelView(h, 64).fill((byte) 7); // the stuck read completes at last
        e.complete(h, 64);
        t.join(5000);
        assertEquals(64L, out.get());
        byte[] sevens = new byte[64];
        Arrays.fill(sevens, (byte) 7);
        assertArrayEquals(sevens, heap);
    }

    @Test
    @Timeout(30)
    void aCallersOwnSegmentIsNotWrittenAfterTheCallReturned() throws Exception {
        HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.PREAD64, 200);
        MemorySegment buf = Arena.global().allocate(32); // the caller's own, used in place
        AtomicReference<Object> out = new AtomicReference<>();
        Thread t = caller(out, () -> e.syscalls().pread(1000, buf, 0));
        HeldPageEngine.Held h = closeWhileHeld(e, out, "the call returned to its caller while the kernel may still write its buffer");
        kernelView(h, 32).fill((byte) 3);
        e.complete(h, 32);
        t.join(5000);
        assertEquals(32L, out.get());
        assertEquals(3, buf.get(ValueLayout.JAVA_BYTE, 31));
    }

    @Test
    @Timeout(30)
    void aBatchWithAStuckCallIsWaitedForAfterClose() throws Exception {
        HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.PREAD64, 200);
        byte[] heap = new byte[16];
        AtomicReference<Object> out = new AtomicReference<>();
        Thread t = caller(out, () -> {
            try (SyscallBatch b = e.syscalls().batch()) {
                SyscallBatch.Result r = b.pread(1000, MemorySegment.ofArray(heap), 0);
                SyscallBatch.Result pid = b.getpid();
                b.submit();
                return new long[] {r.get(), pid.get()};
            }
        });
        HeldPageEngine.Held h = closeWhileHeld(e, out, "submit returned while a call of the batch may still write"
                + " the batch's native copy");
        kernelView(h, 16).fill((byte) 5);
        e.complete(h, 16);
        t.join(5000);
        assertArrayEquals(new long[] {16, ProcessHandle.current().pid()}, (long[]) out.get(),
                () -> String.valueOf(out.get()));
        assertEquals(5, heap[15]);
    }

    @Test
    @Timeout(30)
    void anInterruptCannotEndAnUncancellableCallEarly() throws Exception {
        try (HeldPageEngine e = HeldPageEngine.open(nr -> nr == SyscallTable.READ, 5000)) {
            byte[] heap = new byte[8];
            AtomicReference<Object> out = new AtomicReference<>();
            AtomicReference<Boolean> interrupted = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    out.set(e.syscalls().read(1000, heap));
                } catch (Throwable x) {
                    out.set(x);
                }
                interrupted.set(Thread.currentThread().isInterrupted());
            });
            HeldPageEngine.Held h = e.awaitHeld(5000);
            assertNotNull(h);
            t.interrupt();
            Thread.sleep(300);
            assertNull(out.get(), "an interrupt ended a call that is still running");
            assertTrue(e.cancels() > 0, "the interrupted caller never asked for a cancel");
            kernelView(h, 8).fill((byte) 1);
            e.complete(h, 8);
            t.join(5000);
            assertEquals(8L, out.get()); // it completed after all: its result, with the interrupt status kept
            assertEquals(Boolean.TRUE, interrupted.get());
        }
    }

    /** The engines that run on this machine, each with a short close timeout; skipped with the reason where not. */
    static FlexscEngine openOrSkip(Engine kind, long closeTimeoutMillis) throws Exception {
        String why = TestSupport.unavailabilityCause(kind);
        if (why != null) System.out.println("skipped " + kind + ": " + why);
        Assumptions.assumeTrue(why == null, () -> kind + " unavailable: " + why);
        return Flexsc.open(FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS)
                .closeTimeoutMillis(closeTimeoutMillis).build());
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL", "KERNEL_MODULE"})
    @Timeout(60)
    void aRealCallThatNothingCancelsIsWaitedForAfterClose(Engine kind) throws Exception {
        String[] why = new String[1];
        UserfaultRegion region = UserfaultRegion.open(2, why);
        if (region == null) System.out.println("skipped: " + why[0]);
        Assumptions.assumeTrue(region != null, () -> why[0]);
        try (region) {
            FlexscEngine e = openOrSkip(kind, 300);
            AtomicReference<Object> out = new AtomicReference<>();
            // Faults the first page in: waits for userfaultfd, killable only.
            Thread t = caller(out, () -> {
                e.syscalls().madvise(region.segment().asSlice(0, 4096), UserfaultRegion.MADV_POPULATE_WRITE);
                return "populated";
            });
            Thread.sleep(300);
            assertNull(out.get(), "madvise over a missing userfaultfd page returned at once: " + out.get());
            if (e instanceof dev.flexsc.spi.page.PageEngine pe) {
                // An executor must have taken the call up before the close (a call still
                // queued is taken back and fails with EngineClosedException, rightly); on a
                // loaded machine 300 ms may not be enough.
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
                while (pe.callsRunning() == 0) {
                    assertTrue(System.nanoTime() < deadline, kind + ": no executor took the madvise up");
                    Thread.sleep(5); // polls a condition
                }
            }
            e.close(); // gives up after 300 ms
            Thread.sleep(400);
            assertNull(out.get(), kind + ": the caller got its call back while the call still runs in the kernel: "
                    + out.get());
            region.release();
            t.join(10_000);
            assertEquals("populated", out.get());
        }
    }
}
