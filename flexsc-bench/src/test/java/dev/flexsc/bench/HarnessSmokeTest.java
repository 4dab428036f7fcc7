package dev.flexsc.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The harness runs every variant and call with tiny parameters and produces sane figures (never timing checks). */
class HarnessSmokeTest {
    @Test
    void everyVariantAndCallProducesSaneFigures() throws Exception {
        List<Harness.Result> rows = new ArrayList<>();
        for (CallKind c : CallKind.values()) {
            for (Variant v : Variant.values()) {
                if (!v.supports(c)) continue;
                Harness.Result r = Harness.measure(v, c, 1, 0.05, 0.1);
                assertTrue(r.calls() > 0, "no calls counted: " + r);
                assertTrue(r.callsPerSecond() > 0 && Double.isFinite(r.callsPerSecond()), r.toString());
                assertTrue(Double.isFinite(r.appCpuNsPerCall()), r.toString()); // process CPU minus syscall threads: noisy, may dip below 0 on a tiny window
                if (v.flexsc) assertTrue(r.syscallCpuNsPerCall() > 0, "syscall threads' CPU not seen: " + r);
                rows.add(r);
            }
        }
        String table = Main.table(rows);
        assertTrue(table.contains("FlexSC SYSCALL_THREADS") && table.contains("direct FFM"), table);
        assertEquals(rows.size() + 1, table.lines().count());
    }
}
