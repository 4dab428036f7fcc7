package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The harness runs every variant (every engine, from platform and FlexSC green threads) and
 * call with tiny parameters and produces sane figures (never timing checks); an engine the
 * machine lacks gives a skip row with probe()'s reason.
 */
class HarnessSmokeTest {
    /**
     * A tiny window; on a machine so loaded that no call completed in it (seen at load
     * average 160 on 2 cores), longer ones: this checks that calls complete, not how fast.
     */
    private static Harness.Result measure(Variant v, CallKind c, int threads) throws Exception {
        Harness.Result r = Harness.measure(v, c, threads, 0.05, 0.1);
        for (double s : new double[] {1, 3}) {
            if (r.skipped() || r.calls() > 0) break;
            System.out.println("no call completed in the window, measuring longer: " + r);
            r = Harness.measure(v, c, threads, 0.1, s);
        }
        return r;
    }

    @Test
    void everyVariantAndCallProducesSaneFiguresOrSaysWhyNot() throws Exception {
        List<Harness.Result> rows = new ArrayList<>();
        for (CallKind c : CallKind.values()) {
            for (Variant v : Variant.values()) {
                if (!v.supports(c)) continue;
                Harness.Result r = measure(v, c, 1);
                rows.add(r);
                if (r.skipped()) {
                    String probe = Flexsc.probe().stream().filter(a -> a.engine() == v.engine).findFirst()
                            .map(EngineAvailability::reason).orElse(null);
                    assertNotNull(probe, v + " skipped although probe() says its engine is available: " + r.skipReason());
                    assertTrue(r.skipReason().contains(probe), r.skipReason());
                    System.out.println("skipped " + v + ": " + r.skipReason());
                    continue;
                }
                assertTrue(r.calls() > 0, "no calls counted: " + r);
                assertTrue(r.callsPerSecond() > 0 && Double.isFinite(r.callsPerSecond()), r.toString());
                assertTrue(Double.isFinite(r.appCpuNsPerCall()), r.toString()); // process CPU minus syscall side: noisy, may dip below 0 on a tiny window
                assertTrue(r.maxStallMillis() >= 0 && r.maxStallMillis() <= r.seconds() * 1000 + 1, r.toString());
                // The syscall side runs every call on the page engines, and SQPOLL's polling thread
                // submits its ring calls; IO_URING runs /dev/null writes inline in the caller's
                // io_uring_enter, and both io_uring engines make getpid directly (no ring
                // operation), so their syscall side may be idle.
                boolean offCore = v.engine == Engine.SYSCALL_THREADS || v.engine == Engine.KERNEL_MODULE
                        || (v.engine == Engine.IO_URING_SQPOLL && c != CallKind.GETPID);
                if (offCore) assertTrue(r.syscallCpuNsPerCall() > 0, "syscall side's CPU not seen: " + r);
                if (v.flexsc) {
                    assertNotNull(r.engineDelta(), r.toString());
                    assertEquals(v.engine, r.engineDelta().engine());
                }
            }
        }
        String table = Main.table(rows);
        assertTrue(table.contains("FlexSC SYSCALL_THREADS") && table.contains("direct FFM")
                && table.contains("FlexSC IO_URING_SQPOLL, FlexSC green threads"), table);
        long skipped = rows.stream().filter(Harness.Result::skipped).map(Harness.Result::variant).distinct().count();
        long notes = rows.stream().filter(r -> r.variant().flexsc && !r.skipped()).map(r -> r.variant().engine).distinct().count();
        assertEquals(rows.size() + 1 + skipped + notes, table.lines().count(), table);
        for (Harness.Result r : rows) {
            if (r.skipped()) assertTrue(table.contains("skipped: " + r.variant().label + ": " + r.skipReason()), table);
        }
        System.out.println(table);
    }

    @Test
    void ioUringFromGreenThreadsAt256() throws Exception {
        assumeTrue(Variant.IO_URING_GREEN.unavailabilityCause() == null,
                () -> "skipped: " + Variant.IO_URING_GREEN.unavailabilityCause());
        for (Variant v : new Variant[] {Variant.IO_URING_GREEN, Variant.IO_URING_SQPOLL_GREEN}) {
            if (v.unavailabilityCause() != null) {
                System.out.println("skipped " + v + ": " + v.unavailabilityCause());
                continue;
            }
            Harness.Result r = measure(v, CallKind.WRITE64, 256);
            assertTrue(r.calls() > 0, r.toString());
        }
    }

    @Test
    void kernelModuleIsMeasuredOrSkippedWithTheProbeReason() throws Exception {
        Harness.Result r = Harness.measure(Variant.KERNEL_MODULE, CallKind.GETPID, 1, 0.05, 0.1);
        boolean present = java.nio.file.Files.exists(java.nio.file.Path.of("/dev/flexsc"));
        if (!present) {
            assertTrue(r.skipped(), "no /dev/flexsc but not skipped: " + r);
            assertTrue(r.skipReason().contains("/dev/flexsc"), r.skipReason());
        } else if (!r.skipped()) {
            assertTrue(r.calls() > 0, r.toString());
        }
    }
}
