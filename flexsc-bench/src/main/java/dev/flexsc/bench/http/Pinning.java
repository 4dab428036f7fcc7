package dev.flexsc.bench.http;

import dev.flexsc.FlexscConfig;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Where the HTTP study runs the server JVM and wrk, as the published measurements of the
 * same problem do (openjdk/loom's per-carrier scheduler, Netty's virtual-thread scheduler,
 * monoio): the server on its own CPUs, the load generator on others, each pinned with
 * {@code taskset}, so a row's CPU figures are the server's alone and the two never steal
 * each other's core. The JDK's virtual-thread scheduler in the server then gets one
 * carrier per server CPU ({@code jdk.virtualThreadScheduler.parallelism} and
 * {@code maxPoolSize}), and FlexSC's defaults, which divide the CPUs the process may run on
 * ({@code FlexscConfig}), see only the server CPUs: on one server CPU, one carrier, with
 * the syscall side on the same CPU.
 *
 * @param serverCpus the server JVM's CPUs, or null for no pinning
 * @param clientCpus wrk's CPUs, or null for no pinning
 */
public record Pinning(int[] serverCpus, int[] clientCpus) {
    public Pinning {
        if ((serverCpus == null) != (clientCpus == null)) {
            throw new IllegalArgumentException("pin both the server and the client, or neither");
        }
        if (serverCpus != null && (serverCpus.length == 0 || clientCpus.length == 0)) {
            throw new IllegalArgumentException("an empty CPU list");
        }
        serverCpus = serverCpus == null ? null : serverCpus.clone();
        clientCpus = clientCpus == null ? null : clientCpus.clone();
    }

    /** No pinning: both run where the kernel puts them (the study before pinning; one-CPU machines). */
    public static final Pinning NONE = new Pinning(null, null);

    /**
     * The default: the first CPU this process may use for the server, the second for wrk
     * (on the 2-CPU VM: server on CPU 0, the load generator on CPU 1); no pinning where only one CPU is usable.
     */
    public static Pinning defaults() {
        int[] cpus = usableCpus();
        return cpus.length < 2 ? NONE : new Pinning(new int[] {cpus[0]}, new int[] {cpus[1]});
    }

    /** The CPUs FlexSC's defaults divide (the process's affinity, bounded by availableProcessors), ascending. */
    static int[] usableCpus() {
        FlexscConfig d = FlexscConfig.defaults();
        return IntStream.concat(Arrays.stream(d.userCpus()), Arrays.stream(d.syscallCpus())).distinct().sorted().toArray();
    }

    /** Whether the server and wrk are pinned. */
    public boolean pinned() {
        return serverCpus != null;
    }

    /** {@code taskset -c LIST} before the server's command line, or nothing. */
    public List<String> serverPrefix() {
        return prefix(serverCpus);
    }

    /** {@code taskset -c LIST} before wrk's command line, or nothing. */
    public List<String> clientPrefix() {
        return prefix(clientCpus);
    }

    private static List<String> prefix(int[] cpus) {
        return cpus == null ? List.of() : List.of("taskset", "-c", list(cpus));
    }

    /**
     * JVM arguments every server JVM gets: one JDK virtual-thread carrier per server CPU
     * (parallelism and maxPoolSize alike, so the JDK does not add carriers to compensate
     * for blocked ones beyond the server's CPUs); nothing when not pinned.
     */
    public List<String> serverJvmArgs() {
        if (serverCpus == null) return List.of();
        int n = serverCpus.length;
        return List.of("-Djdk.virtualThreadScheduler.parallelism=" + n, "-Djdk.virtualThreadScheduler.maxPoolSize=" + n);
    }

    /** wrk's threads for {@code connections}: one per client CPU (two when not pinned), at most one per connection. */
    public int wrkThreads(int connections) {
        return Math.max(1, Math.min(clientCpus == null ? 2 : clientCpus.length, connections));
    }

    /** "server on CPU 0, client on CPU 1", or "not pinned". */
    public String describe() {
        return serverCpus == null ? "not pinned" : "server on CPU " + list(serverCpus) + ", client on CPU " + list(clientCpus);
    }

    /** A CPU list as taskset and /proc write it: "0,2,3". */
    public static String list(int[] cpus) {
        return Arrays.stream(cpus).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
