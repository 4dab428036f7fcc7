package dev.flexsc.jcstress;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs FlexSC's jcstress tests and fails (exit 1) when jcstress reports a test FAILED (a
 * FORBIDDEN outcome seen) or in ERROR, and also when a test could not run at all: jcstress
 * then marks it SKIPPED, counts it as a soft or hard error in its progress line, and leaves it
 * out of its failure summary.
 *
 * <p>{@code short} (what {@code ./flexsc test} runs): one second of one JVM configuration per
 * test, about half a minute in all on two CPUs; it catches a missing fence or a lost
 * compare-and-set (each test was seen to fail so), not a rare reordering that needs the JIT's
 * stress modes. {@code long} ({@code ./flexsc test --jcstress-long}): jcstress's default mode,
 * every JVM configuration. Further arguments go to jcstress as they are (for example
 * {@code -t NeedWakeup}).
 */
public final class Run {
    private Run() {}

    /** jcstress's summary lines: "Failed tests: No matches." or "Error tests: 2 matching test results." */
    private static final Pattern SUMMARY =
            Pattern.compile("^\\s*(Failed|Error) tests: (?:No matches|(\\d+) matching)", Pattern.MULTILINE);
    /**
     * jcstress's progress line, the last one with the final counts: a test whose fork could
     * not run (a soft or hard error) is SKIPPED, and the summary above does not count it.
     */
    private static final Pattern PROGRESS = Pattern.compile(
            "\\(Results: (\\d+) planned; (\\d+) passed, (\\d+) failed, (\\d+) soft errs, (\\d+) hard errs\\)");

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "short";
        List<String> jcstress = new ArrayList<>(List.of("-t", "dev\\.flexsc\\..*", "-r", "results"));
        switch (mode) {
            // One JVM configuration (C2, no split compilation), one fork, one iteration of 1 s:
            // about 400,000 samples per test, 6-7 s each with the fork's start.
            case "short" -> jcstress.addAll(List.of("-jvmArgs", "--enable-native-access=ALL-UNNAMED",
                    "-sc", "false", "-f", "1", "-iters", "1", "-time", "1000"));
            // jcstress's default mode: every JVM configuration (interpreter, C1, C2, the C2
            // stress randomizers, split compilation), several forks and iterations.
            case "long" -> jcstress.addAll(List.of("-m", "default"));
            default -> {
                System.err.println("flexsc-jcstress: unknown mode '" + mode + "' (short or long)");
                System.exit(2);
            }
        }
        List<String> extra = List.of(args).subList(Math.min(1, args.length), args.length);
        if (extra.contains("-t")) jcstress.subList(0, 2).clear(); // the caller's selection instead of ours
        jcstress.addAll(extra);
        PrintStream console = System.out;
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(console, copy), true, StandardCharsets.UTF_8));
        String thrown = null;
        try {
            org.openjdk.jcstress.Main.main(jcstress.toArray(String[]::new));
        } catch (Exception | AssertionError e) { // jcstress throws AssertionError("TEST FAILURES: ...")
            thrown = e.toString();
        } finally {
            System.setOut(console);
        }
        String verdict = thrown != null ? thrown : verdict(copy.toString(StandardCharsets.UTF_8));
        if (verdict != null) {
            System.err.println("flexsc-jcstress: " + verdict + " (details: flexsc-jcstress/target/results/index.html)");
            System.exit(1);
        }
        System.out.println("flexsc-jcstress: every test passed (" + mode + " mode)");
        System.exit(0); // jcstress leaves non-daemon threads behind
    }

    /** Null if jcstress's output says every test ran and passed; else what went wrong. */
    static String verdict(String out) {
        Matcher s = SUMMARY.matcher(out);
        int summaries = 0;
        long bad = 0;
        while (s.find()) {
            summaries++;
            if (s.group(2) != null) bad += Long.parseLong(s.group(2));
        }
        Matcher p = PROGRESS.matcher(out);
        long[] last = null;
        while (p.find()) {
            last = new long[5];
            for (int i = 0; i < 5; i++) last[i] = Long.parseLong(p.group(i + 1));
        }
        if (summaries != 2 || last == null) return "jcstress printed no results: it did not run";
        if (bad != 0) return bad + " jcstress test(s) FAILED (a forbidden outcome seen) or in ERROR";
        if (last[0] == 0) return "no jcstress test ran";
        if (last[2] != 0 || last[3] != 0 || last[4] != 0 || last[1] != last[0]) {
            return "of " + last[0] + " planned runs " + last[1] + " passed, " + last[2] + " failed, " + last[3]
                    + " had soft errors and " + last[4] + " hard errors (a run that could not start is SKIPPED)";
        }
        return null;
    }

    /** Writes to the console and keeps a copy. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a, b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }
    }
}
