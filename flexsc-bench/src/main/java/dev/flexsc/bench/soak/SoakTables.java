package dev.flexsc.bench.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The soak's report: the invariants per engine and phase (calls, how they ended, every kind
 * of violation, how the child JVM exited), the faults injected, the engines skipped, the
 * violations, and the line that reruns the same seed.
 */
final class SoakTables {
    private SoakTables() {}

    private static final Ledger.Count[] COUNTS = Ledger.Count.values();

    static String render(SoakStudy.Result r) {
        StringBuilder b = new StringBuilder();
        b.append("Invariants (a violation is any non-zero count from 'lost' on, or an exit other than 0)\n");
        List<String> head = new ArrayList<>(List.of("engine", "phase"));
        for (Ledger.Count c : COUNTS) head.add(c.label);
        head.add("JVM exit");
        List<List<String>> rows = new ArrayList<>();
        for (SoakStudy.Row row : r.rows()) {
            List<String> cells = new ArrayList<>(List.of(row.engine().name(), row.phase()));
            for (Ledger.Count c : COUNTS) cells.add(String.format(Locale.ROOT, "%,d", row.count(c)));
            cells.add(row.exit());
            rows.add(cells);
        }
        table(b, head, rows);

        b.append("\nFaults injected\n");
        List<Ledger.Fault> faults = new ArrayList<>();
        for (Ledger.Fault f : Ledger.Fault.values()) {
            if (r.rows().stream().anyMatch(row -> row.fault(f) != 0)) faults.add(f);
        }
        head = new ArrayList<>(List.of("engine", "phase"));
        for (Ledger.Fault f : faults) head.add(f.label);
        rows = new ArrayList<>();
        for (SoakStudy.Row row : r.rows()) {
            List<String> cells = new ArrayList<>(List.of(row.engine().name(), row.phase()));
            for (Ledger.Fault f : faults) cells.add(String.format(Locale.ROOT, "%,d", row.fault(f)));
            rows.add(cells);
        }
        table(b, head, rows);
        for (Ledger.Fault f : faults) b.append("  ").append(f.label).append(": ").append(f.meaning).append('\n');

        for (String s : r.skipped()) b.append("skipped: ").append(s).append('\n');
        java.util.Set<String> once = new java.util.HashSet<>();
        for (SoakStudy.Row row : r.rows()) {
            for (String i : row.info()) {
                // Lines every phase prints alike (the stuck-call mechanism, the known issues) once per engine.
                boolean perEngine = i.startsWith("KNOWN ISSUE") || i.startsWith("stuck calls:");
                if (perEngine && !once.add(row.engine() + i)) continue;
                b.append(row.engine()).append(perEngine ? "" : " " + row.phase()).append(": ").append(i).append('\n');
            }
        }
        for (SoakStudy.Row row : r.rows()) {
            for (String v : row.violations()) {
                b.append("VIOLATION ").append(row.engine()).append(' ').append(row.phase()).append(": ")
                        .append(v.length() > 600 ? v.substring(0, 600) + " ..." : v).append('\n');
            }
        }
        b.append(r.clean() ? "soak: no violation" : "soak: VIOLATIONS (see above)").append("; seed ").append(r.seed())
                .append(" (rerun: ./flexsc bench --study soak --seed ").append(r.seed()).append(" ...)\n");
        return b.toString();
    }

    /** Columns as wide as their widest cell; the first two left-aligned, the rest right-aligned. */
    private static void table(StringBuilder b, List<String> head, List<List<String>> rows) {
        int[] w = new int[head.size()];
        for (int i = 0; i < w.length; i++) w[i] = head.get(i).length();
        for (List<String> r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
        line(b, head, w);
        for (List<String> r : rows) line(b, r, w);
    }

    private static void line(StringBuilder b, List<String> cells, int[] w) {
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            String pad = " ".repeat(w[i] - c.length());
            b.append(i < 2 ? c + pad : pad + c).append(i == cells.size() - 1 ? "\n" : "  ");
        }
    }
}
