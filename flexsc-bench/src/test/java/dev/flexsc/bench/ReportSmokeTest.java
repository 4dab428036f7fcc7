package dev.flexsc.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** --full's report, with tiny parameters: every section, a summary row per benchmark, real PNGs. */
class ReportSmokeTest {
    @Test
    void writesTheReportWithPlots(@TempDir Path docs) throws Exception {
        List<String> progress = new ArrayList<>();
        // HTTP: the two baselines and one real server on FlexscExecutors (each server JVM takes seconds to start)
        List<dev.flexsc.bench.http.HttpBench.Kind> http = new ArrayList<>(dev.flexsc.bench.http.HttpServers.baselines());
        http.add(dev.flexsc.bench.http.HttpServers.realServers().get(3));
        Report.Plan tiny = new Report.Plan(new int[] {1, 4}, 0.02, 0.05, 4L << 20, new int[] {8}, new double[] {1},
                0.1, false, new int[] {1, 4}, 1, 0, http);
        Report.run(docs, tiny, "test", progress::add);
        String md = Files.readString(docs.resolve("benchmarks.md"));
        assertTrue(md.startsWith("# Benchmarks"));
        for (String s : new String[] {"## Summary", "getpid (calls/s)", "pwrite 4 KiB file (calls/s)", "sequential first touch",
                "user work between calls", "Mitigations", "## Locality"}) {
            assertTrue(md.contains(s), "missing " + s);
        }
        // Every engine appears: measured, or skipped with probe()'s reason.
        for (Variant v : Variant.values()) {
            if (!v.flexsc) continue;
            String why = v.unavailabilityCause();
            if (why == null) assertTrue(md.contains(v.label), "no row for " + v.label);
            else assertTrue(md.contains("skipped: " + v.label + ": " + why), "no skip line for " + v.label);
        }
        assertTrue(md.contains("note: IO_URING: the calling thread does the work itself")
                || Variant.IO_URING.unavailabilityCause() != null, "the IO_URING syscall-CPU note is missing");
        assertTrue(md.contains("best baseline measured in the same run"));
        assertTrue(md.contains(Report.STUDIES), "the section on the studies and how to run them is missing");
        for (String png : new String[] {"bench-getpid.png", "bench-write64.png", "bench-pwrite4k.png", "bench-pagefault.png",
                "bench-getpid-cpu.png", "bench-write64-cpu.png", "bench-pwrite4k-cpu.png"}) {
            byte[] b = Files.readAllBytes(docs.resolve(png));
            assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is not a PNG");
        }
        assertTrue(progress.size() > 10, "progress was not reported as it went");
        String noWrk = dev.flexsc.bench.http.HttpBench.unavailabilityCause();
        if (noWrk == null) {
            assertTrue(md.contains("HTTP 16 KiB (requests/s)"), "no HTTP summary row");
            assertTrue(md.contains("switches/req") && md.contains("JDK HttpServer, FlexscExecutors, FlexscFiles"), md);
            assertTrue(Files.size(docs.resolve("bench-http.png")) > 1000);
        } else {
            assertTrue(md.contains("Skipped: " + noWrk), "the HTTP skip does not say why");
            System.out.println("HTTP part of the report skipped: " + noWrk);
        }
    }
}
