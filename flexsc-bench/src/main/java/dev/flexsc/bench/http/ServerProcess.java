package dev.flexsc.bench.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server of the HTTP study in a JVM of its own ({@link ServerMain}), started under
 * {@link Pinning#serverPrefix()} with the pinning's and the kind's JVM arguments: the
 * server's CPU time and context switches are then the child's alone, and its threads can
 * run only on the server CPUs. {@link #sample()} asks the child for its getrusage figures
 * and request count.
 */
public final class ServerProcess implements AutoCloseable {
    /** How long the child may take to listen (JVM start, engine open) and to exit after quit. */
    static final long START_SECONDS = 60, STOP_SECONDS = 20;

    /**
     * The child's usage, the requests it has answered and the milliseconds its JIT compilers
     * have spent ({@code jitMillis}, -1 if its JVM does not say), at one instant.
     */
    public record Sample(ProcessUsage usage, long requests, long jitMillis) {}

    private final Process process;
    private final BufferedReader out;
    private final OutputStream in;
    private final int port;
    private final String where;

    private ServerProcess(Process process, BufferedReader out, int port, String where) {
        this.process = process;
        this.out = out;
        this.in = process.getOutputStream();
        this.port = port;
        this.where = where;
    }

    /** The command line that starts {@code kind}'s server JVM on {@code root} under {@code pinning}. */
    static List<String> command(HttpBench.Kind kind, Path root, int maxConnections, Pinning pinning) {
        List<String> cmd = new ArrayList<>(pinning.serverPrefix());
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED"));
        cmd.addAll(pinning.serverJvmArgs());
        cmd.addAll(kind.jvmArgs());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ServerMain.class.getName(), kind.spec(),
                root.toAbsolutePath().toString(), Integer.toString(maxConnections)));
        return cmd;
    }

    /**
     * Starts {@code kind}'s server JVM and waits until it listens.
     *
     * @throws IOException if it exits or stays silent for {@value #START_SECONDS} s first (its stderr says why)
     */
    public static ServerProcess start(HttpBench.Kind kind, Path root, int maxConnections, Pinning pinning) throws IOException {
        Process p = new ProcessBuilder(command(kind, root, maxConnections, pinning))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        // A child that hangs before it listens would block readLine for ever: a watchdog ends it.
        Thread killer = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(START_SECONDS));
                p.destroyForcibly();
            } catch (InterruptedException ready) {
                // it listens
            }
        });
        try {
            String[] f = reply(out, "ready", kind.label());
            return new ServerProcess(p, out, Integer.parseInt(f[2]), f[3] + " " + f[4]);
        } catch (IOException | RuntimeException e) {
            p.destroyForcibly();
            throw e;
        } finally {
            killer.interrupt();
        }
    }

    /** The next protocol line, split; it must be {@code PREFIX what ...}. */
    private static String[] reply(BufferedReader out, String what, String who) throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (!line.startsWith(ServerMain.PREFIX)) continue; // not ours: ServerMain sends the JVM's prints to stderr
            String[] f = line.split(" ");
            if (f[1].equals(what)) return f;
            throw new IOException(who + ": expected '" + what + "' from the server JVM, got: " + line);
        }
        throw new IOException(who + ": the server JVM ended before '" + what + "' (its stderr above says why)");
    }

    /** The child's process id (taskset execs the JVM, so it is the JVM's). */
    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    /** "cpus=0 flexsc=0/0": the CPUs the child may use and FlexSC's default carriers/syscall CPUs there. */
    public String where() {
        return where;
    }

    /** The child's getrusage figures and request count now. */
    public synchronized Sample sample() throws IOException {
        in.write("usage\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
        String[] f = reply(out, "usage", "server " + pid());
        return new Sample(ProcessUsage.decode(f, 2), Long.parseLong(f[6]), Long.parseLong(f[7]));
    }

    /**
     * Asks the child to close its server and exit, and waits {@value #STOP_SECONDS} s.
     *
     * @throws IOException if it had to be killed (a server that does not stop is a finding), or
     *         exited with a status other than 0 (its server failed to close)
     */
    @Override
    public void close() throws IOException {
        try {
            in.write("quit\n".getBytes(StandardCharsets.US_ASCII));
            in.close();
        } catch (IOException gone) {
            // it already exited: waitFor below says how
        }
        try {
            if (!process.waitFor(STOP_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IOException("the server JVM " + pid() + " did not exit " + STOP_SECONDS + " s after quit: killed");
            }
            if (process.exitValue() != 0) {
                throw new IOException("the server JVM " + pid() + " exited with status " + process.exitValue()
                        + " (its stderr above says why)");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while stopping the server JVM");
        }
    }
}
