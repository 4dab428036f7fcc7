package dev.flexsc.bench.soak;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One phase of the soak for one engine, in a JVM of its own (started by {@link SoakStudy},
 * which checks how it exits): {@code mixed} ({@link MixedPhase}), {@code fds} or
 * {@code threads} ({@link LimitPhases}), or {@code exhaustion} (the entry-exhaustion round
 * alone, for a large crowd). Prints {@code SOAK-INFO} lines, then the ledger
 * ({@link Ledger#encode()}) and one {@code SOAK-VIOLATION} line per violation kept; what the
 * phases saw goes to the same stream as {@code soak: } lines. Exits 0 if there was no
 * violation, 1 otherwise.
 *
 * <pre>
 * SoakChild ENGINE PHASE SECONDS SEED DIR KNOWN CROWD
 * </pre>
 */
public final class SoakChild {
    private SoakChild() {}

    public static void main(String[] args) throws Exception {
        Engine kind = Engine.valueOf(args[0]);
        String phase = args[1];
        double seconds = Double.parseDouble(args[2]);
        long seed = Long.parseLong(args[3]);
        Path dir = Path.of(args[4]);
        Known known = new Known(args[5].equals("skip"));
        int crowd = Integer.parseInt(args[6]);
        PrintStream out = System.out;
        FlexscConfig base = FlexscConfig.fromSystemProperties();
        Run run = new Run(dir, seed, known);
        out.println("SOAK-INFO stuck calls: " + run.stuck.mechanism());
        for (String s : known.skipped(kind)) out.println("SOAK-INFO " + s);
        long t0 = System.nanoTime();
        try {
            switch (phase) {
                case "mixed" -> MixedPhase.run(run, kind, base, seconds, crowd, out);
                case "fds" -> LimitPhases.fds(run, kind, base, out);
                case "threads" -> LimitPhases.threads(run, kind, base, out);
                case "exhaustion" -> MixedPhase.exhaustionOnly(run, kind, base, crowd, out);
                default -> throw new IllegalArgumentException("unknown phase " + phase);
            }
        } catch (Throwable t) {
            t.printStackTrace();
            run.ledger.violation(Ledger.Count.ERRORS, "the " + phase + " phase failed: " + t);
        }
        // Whatever still sleeps on a page or a pipe goes on now; give it its chance to
        // return (and to write late), then audit every buffer and close the books.
        run.stuck.releaseAll();
        Thread.sleep(200);
        run.watchdog.check();
        int audited = run.buffers.auditAll();
        run.ledger.closeBooks();
        out.printf(Locale.ROOT, "SOAK-INFO %s %s: %.1f s, %d buffers audited%n", kind, phase, (System.nanoTime() - t0) / 1e9,
                audited);
        out.println(run.ledger.encode());
        for (String v : run.ledger.violations()) out.println(Ledger.VIOLATION + " " + v.replace('\n', ' '));
        out.flush();
        run.close();
        System.exit(run.ledger.violationCount() == 0 ? 0 : 1);
    }
}
