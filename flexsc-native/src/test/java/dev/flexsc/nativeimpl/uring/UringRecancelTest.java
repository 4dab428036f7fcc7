package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static dev.flexsc.abi.SyscallTable.IO_URING_REGISTER;
import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A waiter cancels its call again every {@link RingWaits#RECANCEL_NANOS} until the call ends.
 * While its last cancel still waits in the SQ (an SQPOLL polling thread that a loaded CPU
 * does not run: docs/engines.md, "SQPOLL on a loaded machine"), another one adds nothing but
 * an SQ slot taken from every caller of the ring. The polling thread is kept from running
 * the ring deterministically: the ring is set up disabled (IORING_SETUP_R_DISABLED), so the
 * thread takes none of its SQEs until IORING_REGISTER_ENABLE_RINGS.
 */
class UringRecancelTest {
    @Test
    @Timeout(120)
    void aCancelThatStillWaitsInTheSqIsNotWrittenAgain() throws Exception {
        TestSupport.assumeAvailable(Engine.IO_URING_SQPOLL);
        int[] p = TestSupport.pipe();
        ConfinedRing ring = new ConfinedRing(IoUring.setup(16, 0, SETUP_SQPOLL | SETUP_R_DISABLED, 0, 10),
                true, false, new UringCounters());
        try (Arena a = Arena.ofShared()) {
            MemorySegment buf = a.allocate(16);
            UringCall read = new UringCall(null, null, Thread.currentThread(), 0, 0, 0, 0, 0, 0);
            read.opcode = (byte) OP_READ;
            read.fd = p[0];
            read.off = -1; // the pipe's current position
            read.addr = buf.address();
            read.len = 16;
            assertTrue(ring.post(read));
            for (int i = 0; i < 10; i++) assertTrue(ring.tryCancel(read), "cancel " + i);
            // Before: the read and ten cancels (an SQ of 16 full after fifteen such waits).
            assertEquals(2, ring.sq.unconsumed(), "SQEs waiting for the polling thread: the read and one cancel");

            assertEquals(0, DirectSyscalls.raw(IO_URING_REGISTER, ring.ring.fd, REGISTER_ENABLE_RINGS, 0, 0, 0, 0));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); // liveness on a loaded host
            while (!read.isDone() && System.nanoTime() < deadline) {
                ring.submitAndWait(10_000_000L);
                ring.reap();
            }
            assertTrue(read.isDone(), "the one cancel did not end the read");
            assertEquals(-Errno.ECANCELED, read.result());
            // The cancelled read took nothing from the pipe.
            assertEquals(1, DirectSyscalls.syscalls().write(p[1], new byte[] {42}));
            byte[] one = new byte[1];
            assertEquals(1, DirectSyscalls.syscalls().read(p[0], one));
            assertEquals(42, one[0]);
        } finally {
            ring.release();
            TestSupport.closeDirect(p);
        }
    }
}
