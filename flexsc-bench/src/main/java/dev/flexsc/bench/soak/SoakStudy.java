package dev.flexsc.bench.soak;

import dev.flexsc.Engine;
import dev.flexsc.EngineAvailability;
import dev.flexsc.Flexsc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The fault-injection soak ({@code ./flexsc bench --study soak}, and bounded in
 * {@code ./flexsc test} through {@code SoakTest}): for every engine this machine runs, each
 * phase ({@code mixed}, {@code fds}, {@code threads}) in a child JVM of its own
 * ({@link SoakChild}), whose exit is checked (a crash, a non-zero status, or a child still
 * running past its bound, then killed after a thread dump, are violations), and whose
 * ledger is gathered into the tables printed at the end.
 *
 * <pre>
 * ./flexsc bench --study soak [--seconds 10] [--engines SYSCALL_THREADS,IO_URING,...] [--phases mixed,fds,threads]
 *                             [--seed N] [--known run|skip] [--crowd 2000] [--slow N]
 *     --seconds  the mixed phase per engine (its rounds run at least once each, whatever the time)
 *     --known    run (default) or leave out the scenarios of the known issues of {@link Known}
 *     --crowd    green threads in the entry-exhaustion round (--phases exhaustion runs that round alone)
 *     --slow     every liveness bound N times longer (a machine N times slower: the QEMU guest under TCG)
 * </pre>
 *
 * Exit status 0 if every child exited 0 with no violation.
 */
public final class SoakStudy {
    private SoakStudy() {}

    /** The phases, in the order they run. */
    static final List<String> PHASES = List.of("mixed", "fds", "threads");
    /** Phases run only when named: {@code exhaustion}, the entry-exhaustion round alone (for {@code --crowd 100000}). */
    static final List<String> EXTRA_PHASES = List.of("exhaustion");
    /** A child's bound beyond its soak time: JVM start, rounds, teardown on a loaded machine. */
    static final long CHILD_SLACK_SECONDS = 120;

    /** What to run. */
    record Options(double seconds, List<Engine> engines, List<String> phases, long seed, boolean skipKnown, int crowd,
                   int slow) {
        static Options parse(String[] args) {
            double seconds = 10;
            List<Engine> engines = null;
            List<String> phases = PHASES;
            long seed = System.nanoTime();
            boolean skipKnown = false;
            int crowd = 2000;
            int slow = 1;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                    case "--engines" -> engines = java.util.Arrays.stream(args[++i].split(","))
                            .map(s -> Engine.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                    case "--phases" -> phases = List.of(args[++i].split(","));
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--known" -> skipKnown = switch (args[++i]) {
                        case "skip" -> true;
                        case "run" -> false;
                        default -> throw new IllegalArgumentException("--known run|skip, was " + args[i]);
                    };
                    case "--crowd" -> crowd = Integer.parseInt(args[++i]);
                    case "--slow" -> slow = Integer.parseInt(args[++i]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--seconds S,"
                            + " --engines E1,E2, --phases mixed,fds,threads, --seed N, --known run|skip, --crowd N, --slow N)");
                }
            }
            for (String p : phases) {
                if (!PHASES.contains(p) && !EXTRA_PHASES.contains(p)) throw new IllegalArgumentException("unknown phase " + p);
            }
            return new Options(seconds, engines == null ? Engine.AUTO_ORDER : engines, phases, seed, skipKnown, crowd, slow);
        }
    }

    /** One child's outcome: its ledger counts, its violations, how it exited. */
    record Row(Engine engine, String phase, Map<String, Long> counts, List<String> violations, String exit,
               List<String> info) {
        long count(Ledger.Count c) {
            return counts.getOrDefault(c.name(), 0L);
        }

        long fault(Ledger.Fault f) {
            return counts.getOrDefault(f.name(), 0L);
        }

        boolean clean() {
            return exit.equals("0") && violations.isEmpty()
                    && java.util.Arrays.stream(Ledger.Count.values()).filter(Ledger.Count::isViolation).allMatch(c -> count(c) == 0);
        }
    }

    /** The whole run: rows, and the engines skipped with their reasons. */
    record Result(List<Row> rows, List<String> skipped, long seed) {
        boolean clean() {
            return !rows.isEmpty() && rows.stream().allMatch(Row::clean);
        }
    }

    public static void main(String[] args) throws Exception {
        Result r = run(Options.parse(args), System.out);
        System.exit(r.clean() ? 0 : 1);
    }

    /** Runs the soak and prints its progress and tables to {@code out}. */
    static Result run(Options o, PrintStream out) throws IOException, InterruptedException {
        out.printf(Locale.ROOT, "fault-injection soak: %d CPUs, %s %s, JDK %s; seed %d; %.1f s mixed per engine; known"
                        + " issues: %s%n", Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
                System.getProperty("os.version"), Runtime.version(), o.seed, o.seconds, o.skipKnown ? "left out" : "run");
        List<Row> rows = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Map<Engine, EngineAvailability> probe = new LinkedHashMap<>();
        for (EngineAvailability a : Flexsc.probe()) probe.put(a.engine(), a);
        Path dir = Files.createTempDirectory("flexsc-soak");
        try {
            for (Engine e : o.engines) {
                EngineAvailability a = probe.get(e);
                if (a == null || !a.available()) {
                    String why = a == null ? "not probed" : a.reason();
                    skipped.add(e + ": " + why);
                    out.println("SKIP " + e + ": " + why);
                    continue;
                }
                for (String phase : o.phases) {
                    Path d = Files.createDirectories(dir.resolve(e + "-" + phase));
                    rows.add(child(o, e, phase, d, out));
                }
            }
        } finally {
            deleteTree(dir);
        }
        Result r = new Result(rows, skipped, o.seed);
        out.println();
        out.print(SoakTables.render(r));
        return r;
    }

    /** The command line of one child. */
    static List<String> command(Options o, Engine e, String phase, Path dir) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Xss1m",
                "-XX:+UseSerialGC", "-Dflexsc.engine=" + e, "-Dflexsc.soak.boundScale=" + o.slow, "-cp", System.getProperty("java.class.path"),
                SoakChild.class.getName(), e.name(), phase, Double.toString(phase.equals("mixed") ? o.seconds : 1),
                Long.toString(o.seed ^ (e.ordinal() * 31L + phase.hashCode())), dir.toString(), o.skipKnown ? "skip" : "run",
                Integer.toString(o.crowd)));
        return cmd;
    }

    private static Row child(Options o, Engine e, String phase, Path dir, PrintStream out) throws IOException, InterruptedException {
        out.printf("== %s %s%n", e, phase);
        Process p = new ProcessBuilder(command(o, e, phase, dir)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, Long> counts = new LinkedHashMap<>();
        List<String> violations = new ArrayList<>();
        List<String> info = new ArrayList<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (counts) {
                        if (line.startsWith(Ledger.LINE)) counts.putAll(Ledger.decode(line));
                        else if (line.startsWith(Ledger.VIOLATION)) violations.add(line.substring(Ledger.VIOLATION.length() + 1));
                        else if (line.startsWith("SOAK-INFO ")) info.add(line.substring(10));
                        else if (line.startsWith("soak: ")) info.add(line.substring(6));
                    }
                    out.println("  " + line);
                }
            } catch (IOException ignored) {
                // the child is gone: its exit status says how
            }
        });
        long bound = (long) (phase.equals("mixed") ? o.seconds : 0) + CHILD_SLACK_SECONDS * o.slow
                + (phase.equals("exhaustion") ? o.crowd * 3L / 1000 * o.slow : 0);
        String exit;
        if (p.waitFor(bound, TimeUnit.SECONDS)) {
            int s = p.exitValue();
            exit = s > 128 ? "crash (signal " + (s - 128) + ")" : Integer.toString(s);
        } else {
            out.printf("  the %s %s child is still running after %d s: its threads, then kill%n", e, phase, bound);
            dumpThreads(p.pid(), out);
            p.destroyForcibly().waitFor();
            exit = "hung (killed after " + bound + " s)";
        }
        reader.join(5000);
        synchronized (counts) {
            if (counts.isEmpty() && exit.equals("0")) exit = "no ledger";
            if (!exit.equals("0") && !exit.equals("1")) violations.add("the child JVM: " + exit);
            return new Row(e, phase, Map.copyOf(counts), List.copyOf(violations), exit, List.copyOf(info));
        }
    }

    /** jcmd PID Thread.print, bounded: where a hung child hangs. */
    private static void dumpThreads(long pid, PrintStream out) {
        try {
            Process j = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(pid), "Thread.print").redirectErrorStream(true).start();
            byte[] dump = j.getInputStream().readAllBytes();
            j.waitFor(20, TimeUnit.SECONDS);
            out.println(new String(dump, StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException ex) {
            out.println("  (no thread dump: " + ex + ")");
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
