package dev.flexsc.bench.http;

import dev.flexsc.FlexscConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server JVM of the HTTP study ({@link ServerProcess} starts it, pinned): runs one
 * server of {@link HttpServers} and answers its parent on stdin/stdout, one line each way:
 *
 * <pre>
 * -> flexsc-server ready PORT cpus=ALLOWED flexsc=USER_CPUS/SYSCALL_CPUS   once, when it listens
 * <- usage                      -> flexsc-server usage USER_NS SYS_NS VOLUNTARY INVOLUNTARY REQUESTS JIT_MS
 * <- quit (or end of input)     -> closes the server and exits 0
 * </pre>
 *
 * Anything else the JVM prints goes to stderr, so stdout carries only these lines. The
 * control thread is a platform thread blocked in read(2) on stdin: two context switches
 * per sample, two samples per measured window.
 */
public final class ServerMain {
    private ServerMain() {}

    /** The prefix of every protocol line. */
    static final String PREFIX = "flexsc-server ";

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: ServerMain SPEC ROOT MAX_CONNECTIONS");
            System.exit(2);
        }
        PrintStream control = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.setOut(System.err);
        try (HttpBench.Server server = HttpServers.start(args[0], Path.of(args[1]), Integer.parseInt(args[2]))) {
            FlexscConfig flexsc = FlexscConfig.defaults();
            control.println(PREFIX + "ready " + server.port() + " cpus=" + allowedCpus() + " flexsc="
                    + Pinning.list(flexsc.userCpus()) + "/" + Pinning.list(flexsc.syscallCpus()));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.equals("quit")) {
                if (line.equals("usage")) {
                    control.println(PREFIX + "usage " + ProcessUsage.self().encode() + " " + server.requests() + " " + jitMillis());
                } else {
                    control.println(PREFIX + "error unknown command " + line);
                }
            }
        }
        System.exit(0); // JDK timer and pool threads must not keep a finished server alive
    }

    /** Milliseconds the JIT compilers have spent so far, -1 where the JVM does not say. */
    private static long jitMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    /** Cpus_allowed_list of this process, as the kernel prints it. */
    private static String allowedCpus() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Cpus_allowed_list:"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
