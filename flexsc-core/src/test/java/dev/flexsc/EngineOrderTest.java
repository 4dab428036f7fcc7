package dev.flexsc;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * AUTO's order: the module first; io_uring's SQ poller before plain io_uring only where the
 * configuration sets more than {@link Engine#FEW_CPUS} CPUs aside for the syscall side.
 */
class EngineOrderTest {
    private static final List<Engine> CARRIER_LOCAL =
            List.of(Engine.KERNEL_MODULE, Engine.IO_URING, Engine.IO_URING_SQPOLL, Engine.SYSCALL_THREADS);

    @Test
    void theDefaultConfigurationPutsIoUringBeforeTheSqPoller() {
        FlexscConfig d = FlexscConfig.defaults();
        assertFalse(d.syscallCpusSetAside(), "every CPU carries green threads by default");
        assertEquals(CARRIER_LOCAL, Engine.autoOrder(d));
        // Sixteen CPUs, all of them carriers: the poller would still take a carrier's CPU.
        FlexscConfig all = FlexscConfig.builder().userCpus(range(0, 16)).syscallCpus(15).build();
        assertFalse(all.syscallCpusSetAside());
        assertEquals(CARRIER_LOCAL, Engine.autoOrder(all));
    }

    @Test
    void syscallCpusSetAsideOnMoreThanFewCpusPutTheSqPollerFirst() {
        FlexscConfig many = FlexscConfig.builder().userCpus(range(0, 12)).syscallCpus(12, 13, 14, 15).build();
        assertTrue(many.syscallCpusSetAside());
        assertEquals(Engine.AUTO_ORDER, Engine.autoOrder(many));
        assertEquals(List.of(Engine.KERNEL_MODULE, Engine.IO_URING_SQPOLL, Engine.IO_URING, Engine.SYSCALL_THREADS),
                Engine.AUTO_ORDER);
        // Two CPUs, one set aside: the poller would share the only syscall CPU with everything else.
        FlexscConfig two = FlexscConfig.builder().userCpus(0).syscallCpus(1).build();
        assertTrue(two.syscallCpusSetAside());
        assertEquals(CARRIER_LOCAL, Engine.autoOrder(two));
    }

    @Test
    void everyOrderHoldsEveryEngineButAutoOnce() {
        for (FlexscConfig c : List.of(FlexscConfig.defaults(),
                FlexscConfig.builder().userCpus(range(0, 12)).syscallCpus(12, 13).build())) {
            assertEquals(Engine.values().length - 1, Engine.autoOrder(c).stream().distinct().count());
            assertFalse(Engine.autoOrder(c).contains(Engine.AUTO));
        }
    }

    private static int[] range(int from, int to) {
        return java.util.stream.IntStream.range(from, to).toArray();
    }
}
