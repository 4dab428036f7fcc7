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
                // The syscall side runs every posted call on the page engines, and SQPOLL's
                // polling thread submits its ring calls; IO_URING runs /dev/null writes inline in
                // the caller's io_uring_enter, and both io_uring engines make getpid directly (no
                // ring operation), so their syscall side may be idle. Only when every call is
                // posted: under ADAPTIVE a lone green thread calls directly.
                boolean offCore = v.policy == dev.flexsc.CallPolicy.EXCEPTIONLESS && (v.engine == Engine.SYSCALL_THREADS
                        || v.engine == Engine.KERNEL_MODULE || (v.engine == Engine.IO_URING_SQPOLL && c != CallKind.GETPID));
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
        // header, rows, a skip line per skipped variant, a note per engine measured, the policy note
        assertEquals(rows.size() + 1 + skipped + notes + 1, table.lines().count(), table);
        for (Harness.Result r : rows) {
            if (r.skipped()) assertTrue(table.contains("skipped: " + r.variant().label + ": " + r.skipReason()), table);
        }
        System.out.println(table);
    }

    @Test
    void quickTableShowsAdaptiveBesideExceptionlessWithTheRatioToDirect() throws Exception {
        List<Harness.Result> rows = new ArrayList<>();
        for (Variant v : Variant.QUICK) rows.add(measure(v, CallKind.WRITE64, 4));
        String table = Main.table(rows);
        System.out.println(table);
        for (Variant v : Variant.QUICK) {
            if (v.flexsc) assertTrue(v.policy == dev.flexsc.CallPolicy.ADAPTIVE || v.policy == dev.flexsc.CallPolicy.EXCEPTIONLESS, v.name());
            String line = table.lines().filter(l -> l.contains(v.label + " ") && !l.startsWith("skipped")).findFirst().orElseThrow();
            if (v.unavailabilityCause() != null) {
                assertTrue(line.contains("skipped"), line);
            } else if (v == Variant.DIRECT_FFM) {
                assertTrue(line.contains(" 1.00x "), "direct FFM is the ratio's base: " + line);
            } else {
                assertTrue(line.matches(".*\\s\\d+\\.\\d\\dx\\s.*"), "no ratio to direct: " + line);
            }
        }
        // every engine here has both policies' rows
        for (Variant v : Variant.QUICK) {
            if (v.flexsc && v.unavailabilityCause() == null) {
                assertTrue(Variant.QUICK.stream().anyMatch(o -> o.engine == v.engine && o.policy != v.policy), v.name());
            }
        }
        assertEquals(dev.flexsc.CallPolicy.ADAPTIVE, Variant.IO_URING_GREEN_ADAPTIVE.config().policy());
        assertEquals(dev.flexsc.CallPolicy.EXCEPTIONLESS, Variant.IO_URING_GREEN.config().policy());
    }

    @Test
    void multiCoreTableMeasuresPostedWritesAndTheParkUnparkFloor() throws Exception {
        List<MultiCoreTable.Row> rows = MultiCoreTable.run(0.05, 0.1);
        assertEquals(6, rows.size(), rows::toString);
        MultiCoreTable.Row park = rows.getLast();
        assertEquals(MultiCoreTable.PARK_UNPARK, park.what());
        boolean spareCpu = dev.flexsc.FlexscConfig.defaults().userCpus().length >= 2;
        if (spareCpu) {
            // The multi-core rows give the syscall side a CPU no carrier runs on.
            dev.flexsc.FlexscConfig mc = MultiCoreTable.multiCore(Variant.FLEXSC_GREEN);
            assertTrue(mc.syscallCpusSetAside(), java.util.Arrays.toString(mc.userCpus()) + " / "
                    + java.util.Arrays.toString(mc.syscallCpus()));
        }
        assertTrue(rows.get(4).what().endsWith(MultiCoreTable.CARRIER_LOCAL), rows.get(4).what());
        for (MultiCoreTable.Row r : rows) {
            if (r.skip() != null) {
                assertTrue(r.what().contains("KERNEL_MODULE") || r.what().contains("SQPOLL")
                        || (!spareCpu && r.what().endsWith(MultiCoreTable.SET_ASIDE))
                        || (r.what().contains("IO_URING") && Variant.IO_URING_GREEN.unavailabilityCause() != null),
                        r.toString());
                continue;
            }
            if (r.callsPerSecond() == 0 && r.what().startsWith("FlexSC")) {
                // 256 green threads on one carrier (the syscall CPU set aside), or posted writes
                // through a polling thread, can complete nothing in 0.1 s on a loaded 2-CPU machine
                System.out.println("no call completed in the tiny window: " + r);
                continue;
            }
            assertTrue(r.callsPerSecond() > 0 && Double.isFinite(r.appCpuNsPerCall()), r.toString());
        }
        assertTrue(rows.getFirst().callsPerSecond() > 0, "direct writes: " + rows.getFirst());
        String t = MultiCoreTable.table(rows);
        assertTrue(t.contains("app vs direct") && t.contains("park + unpark"), t);
        System.out.println(t);
    }

    /**
     * The park/unpark floor's stop leaves no worker parked, even when the window ends before
     * most workers ran once (an empty window): a worker that publishes itself after the stop
     * handed out its permits sees the stop flag instead (parkUnpark throws if any did not stop).
     */
    @Test
    void parkUnparkStopsEveryWorkerEvenWithAnEmptyWindow() throws Exception {
        assumeTrue(Variant.FLEXSC_GREEN.unavailabilityCause() == null,
                () -> "skipped: " + Variant.FLEXSC_GREEN.unavailabilityCause());
        for (int i = 0; i < 3; i++) {
            MultiCoreTable.Row r = MultiCoreTable.parkUnpark(dev.flexsc.FlexscConfig.defaults(), 0, 0);
            assertEquals(MultiCoreTable.PARK_UNPARK, r.what());
        }
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
