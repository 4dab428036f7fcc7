package dev.flexsc.bench;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the external tools the studies drive (wrk, fio, perf, taskset, mount): output and exit status. */
public final class ExternalTool {
    private ExternalTool() {}

    /** What a finished command printed (stdout and stderr together) and its exit status. */
    public record Outcome(int status, String output) {}

    /**
     * Runs {@code cmd} to its end, at most {@code timeoutSeconds}.
     *
     * @throws IOException if it cannot be started, or is still running after the timeout (then killed)
     */
    public static Outcome run(List<String> cmd, long timeoutSeconds) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.getFirst() + " did not finish within " + timeoutSeconds + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while " + cmd.getFirst() + " ran");
        }
        return new Outcome(p.exitValue(), out);
    }

    /**
     * Runs {@code cmd} and returns its output.
     *
     * @throws IOException as {@link #run}, and if it exits with a status other than 0 (the message has its output)
     */
    public static String output(List<String> cmd, long timeoutSeconds) throws IOException {
        Outcome o = run(cmd, timeoutSeconds);
        if (o.status() != 0) throw new IOException(String.join(" ", cmd) + " failed (status " + o.status() + "): " + o.output());
        return o.output();
    }

    /** The exit status of {@code cmd} (10 s at most), or Integer.MIN_VALUE if it cannot be started or does not end. */
    public static int status(String... cmd) {
        try {
            return run(List.of(cmd), 10).status();
        } catch (IOException e) {
            return Integer.MIN_VALUE;
        }
    }
}
