package dev.flexsc;

import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.SyscallInvoker;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Handles of a batch run one by one by a scripted invoker (no engine): how each kind of call
 * is named in its errors, raw results, and handles that keep their results while the batch
 * goes on with new calls (each batch has its own handles), and a batch that reuses its handles
 * (the same objects, each holding the outcome of its latest submit, no allocation per call).
 */
class SyscallBatchHandlesTest {
    /** Returns -EBADF for fd 999 and for madvise, -ENOENT for openat, else the call's number. */
    private static final SyscallInvoker SCRIPTED = (nr, a0, a1, a2, a3, a4, a5) -> {
        if (nr == SyscallTable.OPENAT) return -2;
        if (nr == SyscallTable.MADVISE) return -22;
        if (nr != SyscallTable.GETPID && a0 == 999) return -9;
        return nr;
    };

    @Test
    void errorsNameTheCallItsDescriptorPathOrAddress() throws IOException {
        try (Arena arena = Arena.ofConfined(); SyscallBatch b = new SyscallBatch(SCRIPTED)) {
            MemorySegment buf = arena.allocate(4096, 4096);
            SyscallBatch.Result pid = b.getpid();
            SyscallBatch.Result w = b.pwrite(999, buf, 0);
            SyscallBatch.Result o = b.openat(Syscalls.AT_FDCWD, "/no/such", 0, 0);
            SyscallBatch.Result m = b.madvise(buf, 4);
            SyscallBatch.Result raw = b.syscall(SyscallTable.PWRITE64, 999, buf.address(), 1, 0);
            SyscallBatch.Result ok = b.lseek(3, 0, 0);
            b.submitAndWait();
            assertEquals(SyscallTable.GETPID, pid.get());
            assertEquals("getpid()", pid.describe());
            ErrnoException e = assertThrows(ErrnoException.class, w::get);
            assertTrue(e.getMessage().startsWith("pwrite64(fd=999): EBADF"), e.getMessage());
            e = assertThrows(ErrnoException.class, o::get);
            assertTrue(e.getMessage().startsWith("openat(path=/no/such): ENOENT"), e.getMessage());
            e = assertThrows(ErrnoException.class, m::get);
            assertTrue(e.getMessage().startsWith("madvise(addr=0x" + Long.toHexString(buf.address()) + "): EINVAL"),
                    e.getMessage());
            assertEquals(-9, raw.get(), "syscall() returns -errno raw");
            assertEquals("pwrite64()", raw.describe());
            assertEquals(SyscallTable.LSEEK, ok.get());
            assertEquals("lseek(fd=3)", ok.describe());
            assertTrue(ok.future().isDone());
        }
    }

    @Test
    @SuppressWarnings("deprecation")
    void theDeprecatedSubmitIsSubmitAndWait() throws IOException {
        try (SyscallBatch b = new SyscallBatch(SCRIPTED)) {
            SyscallBatch.Result pid = b.getpid();
            b.submit();
            assertTrue(pid.isDone(), "submit() returned before the call had its result");
            assertEquals(SyscallTable.GETPID, pid.get());
            b.close();
            assertThrows(IllegalStateException.class, b::submit);
        }
    }

    @Test
    void handlesKeepTheirResultsAcrossLaterBatchesOfAnySize() throws IOException {
        try (SyscallBatch b = new SyscallBatch(SCRIPTED)) {
            List<SyscallBatch.Result> first = new ArrayList<>();
            for (int i = 0; i < 40; i++) first.add(b.lseek(i, 0, 0)); // grows past the initial 16
            CompletableFuture<Long> f = first.get(39).future();
            b.submitAndWait();
            assertEquals(SyscallTable.LSEEK, f.join());
            List<SyscallBatch.Result> second = new ArrayList<>();
            for (int i = 0; i < 3; i++) second.add(b.fsync(999));
            b.submitAndWait();
            for (SyscallBatch.Result r : first) assertEquals(SyscallTable.LSEEK, r.get());
            for (SyscallBatch.Result r : second) assertThrows(ErrnoException.class, r::get);
            SyscallBatch.Result never = b.getpid();
            CompletableFuture<Long> nf = never.future();
            b.close();
            assertThrows(CancellationException.class, never::get);
            assertTrue(nf.isCancelled());
            assertEquals(SyscallTable.LSEEK, first.get(0).get());
        }
    }

    @Test
    void reusedHandlesAreTheSameObjectsWithEachSubmitsOutcome() throws IOException {
        try (SyscallBatch b = new SyscallBatch(SCRIPTED).reuseHandles()) {
            SyscallBatch.Result a = b.lseek(3, 0, 0), c = b.fsync(999);
            CompletableFuture<Long> af = a.future();
            b.submitAndWait();
            assertEquals(SyscallTable.LSEEK, a.get());
            assertThrows(ErrnoException.class, c::get);
            assertSame(a, b.getpid(), "position 0 did not return its handle again");
            assertFalse(a.isDone(), "a reused handle stays done with its old outcome");
            assertThrows(IllegalStateException.class, a::get);
            assertEquals("getpid()", a.describe());
            assertSame(c, b.lseek(4, 0, 0));
            SyscallBatch.Result d = b.fsync(999); // a position no submit reached: a new handle
            CompletableFuture<Long> cf = c.future();
            b.submitAndWait();
            assertEquals(SyscallTable.LSEEK, af.join(), "the first submit's future changed");
            assertEquals(SyscallTable.GETPID, a.get());
            assertEquals(SyscallTable.LSEEK, c.get(), "the old error outlived the reuse");
            assertEquals(SyscallTable.LSEEK, cf.join());
            ErrnoException e = assertThrows(ErrnoException.class, d::get);
            assertTrue(e.getMessage().startsWith("fsync(fd=999): EBADF"), e.getMessage());
            assertSame(a, b.getpid());
            b.close();
            assertThrows(CancellationException.class, a::get);
        }
    }

    @Test
    void aSteadyLoopOfReusedHandlesAllocatesNothingPerCall() throws IOException {
        com.sun.management.ThreadMXBean tm =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (SyscallBatch b = new SyscallBatch(SCRIPTED).reuseHandles()) {
            int batch = 64, rounds = 2_000;
            for (int i = 0; i < batch; i++) b.getpid();
            b.submitAndWait(); // the first round creates the handles and the batch's arrays
            long a0 = tm.getCurrentThreadAllocatedBytes();
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < batch; i++) b.getpid();
                b.submitAndWait();
            }
            double perCall = (double) (tm.getCurrentThreadAllocatedBytes() - a0) / ((long) batch * rounds);
            // A fresh handle per call is 48 bytes; JIT and bookkeeping noise stays far below 1 byte a call.
            assertTrue(perCall < 1.0, perCall + " bytes allocated per call");
        }
    }
}
