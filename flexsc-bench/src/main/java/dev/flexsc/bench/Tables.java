package dev.flexsc.bench;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Fixed-width text tables of harness results, for the console and docs/benchmarks.md. */
final class Tables {
    private Tables() {}

    /** The best baseline (non-FlexSC, measured) for {@code r}'s call and threads in {@code rows}, or null. */
    static Harness.Result bestBaseline(List<Harness.Result> rows, CallKind call, int threads) {
        Harness.Result best = null;
        for (Harness.Result b : rows) {
            if (b.variant().flexsc || b.skipped() || b.call() != call || b.threads() != threads) continue;
            if (best == null || b.callsPerSecond() > best.callsPerSecond()) best = b;
        }
        return best;
    }

    /** Direct FFM from platform threads for {@code call} at {@code threads} in {@code rows}, or null. */
    static Harness.Result direct(List<Harness.Result> rows, CallKind call, int threads) {
        for (Harness.Result b : rows) {
            if (b.variant() == Variant.DIRECT_FFM && !b.skipped() && b.call() == call && b.threads() == threads) return b;
        }
        return null;
    }

    private static String ratio(Harness.Result r, Harness.Result base) {
        return base == null ? "-" : String.format(Locale.ROOT, "%.2fx", r.callsPerSecond() / base.callsPerSecond());
    }

    static String micro(List<Harness.Result> rows) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-22s %-55s %7s %14s %9s %13s %16s %20s %10s%n";
        sb.append(String.format(Locale.ROOT, fmt, "call", "variant", "threads", "calls/s", "vs direct", "vs best base",
                "app CPU ns/call", "syscall CPU ns/call", "stall ms"));
        Map<Variant, String> skips = new LinkedHashMap<>();
        Set<String> notes = new LinkedHashSet<>();
        for (Harness.Result r : rows) {
            if (r.skipped()) {
                skips.putIfAbsent(r.variant(), r.skipReason());
                sb.append(String.format(Locale.ROOT, fmt, r.call().label, r.variant().label, r.threads(),
                        "skipped", "-", "-", "-", "-", "-"));
                continue;
            }
            if (r.variant().flexsc) notes.add(r.variant().syscallCpuNote());
            sb.append(String.format(Locale.ROOT, fmt, r.call().label, r.variant().label, r.threads(),
                    String.format(Locale.ROOT, "%,.0f", r.callsPerSecond()),
                    ratio(r, direct(rows, r.call(), r.threads())), ratio(r, bestBaseline(rows, r.call(), r.threads())),
                    String.format(Locale.ROOT, "%.0f", r.appCpuNsPerCall()),
                    r.variant().flexsc ? String.format(Locale.ROOT, "%.0f", r.syscallCpuNsPerCall()) : "-",
                    String.format(Locale.ROOT, "%.0f", r.maxStallMillis())));
        }
        for (Map.Entry<Variant, String> s : skips.entrySet()) {
            sb.append("skipped: ").append(s.getKey().label).append(": ").append(s.getValue()).append('\n');
        }
        for (String n : notes) sb.append("note: ").append(n).append('\n');
        if (rows.stream().anyMatch(r -> r.variant().flexsc && !r.skipped())) {
            sb.append("note: FlexSC rows post every call (EXCEPTIONLESS) unless their label names ADAPTIVE, the default policy;"
                    + " \"vs direct\" is against direct FFM from as many platform threads in this run.\n");
        }
        return sb.toString();
    }
}
