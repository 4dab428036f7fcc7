package dev.flexsc.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Runs {@link CostStudyBenchmark} with JMH and tabulates ns per call against getpid. */
public final class CostStudy {
    private CostStudy() {}

    /** One row: what was called, ns per call, and the JMH error. */
    public record Row(String what, double nsPerCall, double error) {}

    public static List<Row> run() throws RunnerException {
        Options opt = new OptionsBuilder().include(CostStudyBenchmark.class.getName() + ".*")
                .verbosity(VerboseMode.SILENT).build();
        Collection<RunResult> results = new Runner(opt).run();
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            rows.add(new Row(name.substring(name.lastIndexOf('.') + 1), r.getPrimaryResult().getScore(),
                    r.getPrimaryResult().getScoreError()));
        }
        return rows;
    }

    public static String table(List<Row> rows) {
        double getpid = rows.stream().filter(r -> r.what().equals("getpidViaSyscall")).mapToDouble(Row::nsPerCall)
                .findFirst().orElse(Double.NaN);
        StringBuilder sb = new StringBuilder();
        String fmt = "%-32s %12s %10s %12s%n";
        sb.append(String.format(Locale.ROOT, fmt, "call (1 in flight)", "ns/call", "+-", "vs getpid"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.what(), String.format(Locale.ROOT, "%.1f", r.nsPerCall()),
                    String.format(Locale.ROOT, "%.1f", r.error()), String.format(Locale.ROOT, "%.2fx", r.nsPerCall() / getpid)));
        }
        return sb.toString();
    }
}
