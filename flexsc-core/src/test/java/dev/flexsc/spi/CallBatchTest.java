package dev.flexsc.spi;

import dev.flexsc.EngineClosedException;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** The staging of a batch as engines see it: positions, arguments, settling exactly once. */
class CallBatchTest {
    private static final SyscallTable.Call PWRITE = SyscallTable.lookup(SyscallTable.PWRITE64);
    private static final SyscallTable.Call GETPID = SyscallTable.lookup(SyscallTable.GETPID);

    @Test
    void keepsEveryCallAndArgumentAcrossGrowth() {
        CallBatch b = new CallBatch(1);
        for (int i = 0; i < 100; i++) {
            assertEquals(i, b.add(i % 2 == 0 ? PWRITE : GETPID, i, i + 1, i + 2, i + 3, i + 4, -i - 5));
        }
        assertEquals(100, b.size());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(48);
            for (int i = 0; i < 100; i++) {
                SyscallTable.Call c = i % 2 == 0 ? PWRITE : GETPID;
                assertSame(c, b.call(i));
                assertEquals(c.nr(), b.nr(i));
                for (int k = 0; k < 5; k++) assertEquals(i + k, b.arg(i, k));
                assertEquals(-i - 5, b.arg(i, 5));
                b.copyArgs(i, dst, 0);
                for (int k = 0; k < 6; k++) assertEquals(b.arg(i, k), dst.get(ValueLayout.JAVA_LONG, 8L * k));
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> b.arg(0, 6));
        assertThrows(IndexOutOfBoundsException.class, () -> b.arg(0, -1));
    }

    @Test
    void refusesACallThatIsNotTheTablesEntry() {
        CallBatch b = new CallBatch(4);
        SyscallTable.Call copy = new SyscallTable.Call(PWRITE.nr(), PWRITE.name(), PWRITE.flags() ^ 1);
        assertThrows(IllegalArgumentException.class, () -> b.add(copy, 0, 0, 0, 0, 0, 0));
        assertEquals(0, b.size());
    }

    @Test
    void settlesEachPositionOnce() {
        CallBatch b = new CallBatch(2);
        b.add(GETPID, 0, 0, 0, 0, 0, 0);
        b.add(PWRITE, 7, 0, 0, 0, 0, 0);
        b.add(PWRITE, 8, 0, 0, 0, 0, 0);
        assertFalse(b.isSettled(0));
        b.complete(0, 42);
        assertFalse(b.anyFailed());
        EngineClosedException closed = new EngineClosedException("pwrite64: closed");
        b.fail(2, closed);
        assertTrue(b.anyFailed());
        assertEquals(2, b.settledCount());
        assertEquals(42, b.result(0));
        assertNull(b.failure(0));
        assertSame(closed, b.failure(2));
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> b.complete(0, 1));
        assertTrue(twice.getMessage().contains("getpid"), twice.getMessage());
        assertThrows(IllegalStateException.class, () -> b.fail(0, closed));
        assertThrows(IllegalStateException.class, () -> b.complete(2, 1));
        assertEquals(42, b.result(0), "a refused second settlement changes nothing");
        assertThrows(IndexOutOfBoundsException.class, () -> b.complete(3, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> b.complete(-1, 0));
        b.complete(1, -9);
        assertEquals(3, b.settledCount());

        b.clear();
        assertEquals(0, b.size());
        assertEquals(0, b.settledCount());
        assertFalse(b.anyFailed());
        b.add(PWRITE, 1, 0, 0, 0, 0, 0);
        assertFalse(b.isSettled(0));
        assertNull(b.failure(0), "failures are cleared with the batch");
        b.complete(0, 5);
        assertEquals(5, b.result(0));
    }
}
