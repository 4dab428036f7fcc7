package dev.flexsc;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** AUTO's order: the module first, io_uring's poller left behind plain io_uring on two CPUs or fewer. */
class EngineOrderTest {
    @Test
    void fewCpusPutIoUringBeforeTheSqPoller() {
        List<Engine> few = List.of(Engine.KERNEL_MODULE, Engine.IO_URING, Engine.IO_URING_SQPOLL, Engine.SYSCALL_THREADS);
        assertEquals(few, Engine.autoOrder(1));
        assertEquals(few, Engine.autoOrder(Engine.FEW_CPUS));
        assertEquals(Engine.AUTO_ORDER, Engine.autoOrder(Engine.FEW_CPUS + 1));
        assertEquals(Engine.AUTO_ORDER, Engine.autoOrder(64));
        assertEquals(List.of(Engine.KERNEL_MODULE, Engine.IO_URING_SQPOLL, Engine.IO_URING, Engine.SYSCALL_THREADS),
                Engine.AUTO_ORDER);
        // Every order holds every engine but AUTO, once.
        for (int cpus : new int[] {1, 2, 3, 16}) {
            assertEquals(Engine.values().length - 1, Engine.autoOrder(cpus).stream().distinct().count());
            assertFalse(Engine.autoOrder(cpus).contains(Engine.AUTO));
        }
    }
}
