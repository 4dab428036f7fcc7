package dev.flexsc.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The cost and page-fault studies run with tiny parameters and give sane figures (no timing checks). */
class StudiesSmokeTest {
    @Test
    void pageFaultStudyCoversEveryMethod() throws Exception {
        List<PageFaultStudy.Row> rows = PageFaultStudy.run(8L << 20);
        assertEquals(7, rows.size()); // 2 without pre-allocation, MAP_POPULATE, 2 inline madvise, 2 offloaded
        for (PageFaultStudy.Row r : rows) {
            assertEquals(2048, r.pages());
            if (r.note().contains("lacks")) continue; // a kernel without MADV_POPULATE_WRITE: printed as n/a
            assertTrue(r.nsPerPage() > 0 && r.nsPerPage() < 1e7, r.toString());
        }
        assertTrue(PageFaultStudy.table(rows).contains("FlexSC offloaded"));
    }

    @Test
    void permutationVisitsEveryPageOnce() {
        int[] p = PageFaultStudy.permutation(10_000, 5);
        boolean[] seen = new boolean[p.length];
        for (int i : p) {
            assertFalse(seen[i]);
            seen[i] = true;
        }
    }

    @Test
    void costStudyBenchmarksReturnTheRightThings() throws Exception {
        CostStudyBenchmark b = new CostStudyBenchmark();
        b.setup();
        try {
            long pid = ProcessHandle.current().pid();
            assertEquals(pid, b.getpidViaSyscall());
            assertEquals(pid, b.getpidViaFlexscSyscallThreads());
            assertEquals(-38, b.enosysSyscall(), "ENOSYS expected");
            assertEquals(1, b.javaMethodCall());
            assertEquals(2, b.nativeFunctionCall());
            assertEquals(64, b.write64DevNull());
            long nowait = b.pwritev2NowaitDevNull();
            assertTrue(nowait == 64 || nowait == -dev.flexsc.Errno.EOPNOTSUPP, "pwritev2(RWF_NOWAIT) of /dev/null: " + nowait);
            assertEquals(0, b.fstatDevNull());
            assertEquals(dev.flexsc.OpenFlags.O_WRONLY, b.fcntlGetflDevNull() & 3, "access mode of /dev/null");
        } finally {
            b.tearDown();
        }
    }

    @Test
    void batchStudyMeasuresEveryBatchSizeAgainstDirect() throws Exception {
        List<BatchStudy.Row> rows = BatchStudy.run(0.05, 0.1, List.of(dev.flexsc.Engine.SYSCALL_THREADS),
                List.of(CallKind.GETPID), null);
        for (int batch : BatchStudy.BATCHES) {
            assertTrue(rows.stream().anyMatch(r -> r.batch() == batch && r.variant().startsWith("direct FFM")));
            assertTrue(rows.stream().anyMatch(r -> r.batch() == batch && r.variant().contains("SYSCALL_THREADS, platform")));
            assertTrue(rows.stream().anyMatch(r -> r.batch() == batch && r.variant().contains("green")));
        }
        for (BatchStudy.Row r : rows) assertTrue(r.calls() > 0, r.toString());
        assertTrue(BatchStudy.table(rows).contains("app CPU ns/call"));
        for (int batch : BatchStudy.BATCHES) {
            BatchStudy.Row all = rows.stream().filter(r -> r.batch() == batch && r.variant().contains("(mechanism)"))
                    .findFirst().orElseThrow();
            BatchStudy.Row app = rows.stream().filter(r -> r.batch() == batch && r.variant().contains("executor part subtracted"))
                    .findFirst().orElseThrow();
            // The executor's part is measured (not zero) and the application side is the rest.
            assertTrue(all.syscallSideCpuNsPerCall() > 0, all.toString());
            assertEquals(all.appCpuNsPerCall() - all.syscallSideCpuNsPerCall(), app.appCpuNsPerCall(), 1e-9);
        }
    }

    @Test
    void batchLoopReportsEveryWindowAndTheMinimum() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        BatchStudy.mechanismLoop(8, 2, 0.05, 0.05, out::add);
        assertEquals(3, out.size(), out::toString);
        assertTrue(out.get(0).startsWith("window 1: ") && out.get(0).contains("application side"), out.get(0));
        assertTrue(out.get(2).contains("minimum over 2 windows"), out.get(2));
    }

    @Test
    void policyStudyMeasuresEveryPolicyPerCell() throws Exception {
        List<PolicyStudy.Row> rows = PolicyStudy.run(List.of(CallKind.GETPID, CallKind.WRITE64), new int[] {1, 4},
                0.05, 0.1, 1, null);
        // As HarnessSmokeTest does: on a machine so loaded that a policy completed no call in the
        // 0.1 s window (seen at load average 11 on 2 CPUs), longer windows; this checks that calls
        // complete under every policy, not how fast.
        for (double secs : new double[] {0.5, 2}) {
            if (rows.stream().allMatch(r -> r.callsPerSecond().values().stream().allMatch(v -> v > 0))) break;
            System.out.println("a policy completed no call in the window, measuring longer: " + rows);
            rows = PolicyStudy.run(List.of(CallKind.GETPID, CallKind.WRITE64), new int[] {1, 4}, 0.1, secs, 1, null);
        }
        assertEquals(4, rows.size());
        for (PolicyStudy.Row r : rows) {
            for (dev.flexsc.CallPolicy p : dev.flexsc.CallPolicy.values()) {
                assertTrue(r.rate(p) > 0, r::toString);
            }
            // One green thread: nothing else to run on the carrier, so ADAPTIVE calls directly.
            if (r.threads() == 1) assertEquals(0.0, r.adaptivePosted(), r::toString);
            assertTrue(r.adaptivePosted() >= 0 && r.adaptivePosted() <= 1, r::toString);
        }
        String t = PolicyStudy.table(rows);
        assertTrue(t.contains("A/best") && t.contains("goal ("), t);
    }

    @Test
    void policyStudyRunsOnTheEngineItIsGiven() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Variant.IO_URING_GREEN.unavailabilityCause() == null,
                () -> "skipped: " + Variant.IO_URING_GREEN.unavailabilityCause());
        assertEquals(dev.flexsc.Engine.IO_URING, PolicyStudy.config(dev.flexsc.Engine.IO_URING,
                dev.flexsc.CallPolicy.ADAPTIVE).engine());
        assertEquals(PolicyStudy.DEFAULT_ENGINE, PolicyStudy.config(dev.flexsc.CallPolicy.DIRECT).engine());
        List<PolicyStudy.Row> rows = PolicyStudy.run(dev.flexsc.Engine.IO_URING, List.of(CallKind.PWRITE4K),
                new int[] {1, 16}, 0.05, 0.1, 1, null);
        // As above: DIRECT completed no call in the 0.1 s window at load average 30; longer windows.
        for (double secs : new double[] {0.5, 2}) {
            if (rows.stream().allMatch(r -> r.callsPerSecond().values().stream().allMatch(v -> v > 0))) break;
            System.out.println("a policy completed no call in the window, measuring longer: " + rows);
            rows = PolicyStudy.run(dev.flexsc.Engine.IO_URING, List.of(CallKind.PWRITE4K), new int[] {1, 16}, 0.1, secs, 1, null);
        }
        assertEquals(2, rows.size());
        for (PolicyStudy.Row r : rows) {
            for (dev.flexsc.CallPolicy p : dev.flexsc.CallPolicy.values()) assertTrue(r.rate(p) > 0, r::toString);
            if (r.threads() == 1) assertEquals(0.0, r.adaptivePosted(), r::toString);
        }
    }
}
