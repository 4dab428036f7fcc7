package dev.flexsc.bench.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The HTTP study's measuring side with tiny windows: the server in a pinned JVM of its own,
 * its CPU and context switches from getrusage, the CPUs' busy shares, the perf trace (never
 * timing checks).
 */
class HttpStudySmokeTest {
    @TempDir
    Path dir;

    @Test
    void processUsageCountsThisProcessesSwitchesAndCpu() throws Exception {
        ProcessUsage u0 = ProcessUsage.self();
        for (int i = 0; i < 20; i++) Thread.sleep(1); // each sleep blocks: a voluntary switch
        // 20 ms of this thread's CPU (not wall time: on a loaded machine the thread may wait for a CPU)
        java.lang.management.ThreadMXBean tm = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = tm.getCurrentThreadCpuTime(), x = 0;
        while (tm.getCurrentThreadCpuTime() - c0 < 20_000_000) x += System.nanoTime() ^ x;
        long spun = tm.getCurrentThreadCpuTime() - c0;
        ProcessUsage d = ProcessUsage.self().minus(u0);
        assertTrue(d.voluntarySwitches() >= 20, d + " " + x);
        // the process's CPU includes this thread's (getrusage and the thread clock round differently: 10% slack)
        assertTrue(d.cpuNanos() >= spun * 0.9, d + " against " + spun + " ns spun");
        assertEquals(d, ProcessUsage.decode(("usage " + d.encode()).split(" "), 1));
    }

    @Test
    void cpuTimesGivesEveryCpuABusyShare() throws Exception {
        CpuTimes t0 = CpuTimes.read();
        Thread.sleep(50);
        double[] busy = t0.busyShareUntil(CpuTimes.read());
        assertTrue(busy.length >= Runtime.getRuntime().availableProcessors(), "cpus: " + busy.length);
        for (double b : busy) assertTrue(Double.isNaN(b) || (b >= 0 && b <= 1), java.util.Arrays.toString(busy));
    }

    @Test
    void theServerJvmIsPinnedAndGetsItsKindsArguments() {
        Pinning p = new Pinning(new int[] {0}, new int[] {1});
        HttpBench.Kind k = HttpServers.realServers().getFirst().with("providers on", List.of("-Dx.y=z"));
        List<String> cmd = ServerProcess.command(k, dir, 10, p);
        assertEquals(List.of("taskset", "-c", "0"), cmd.subList(0, 3));
        assertTrue(cmd.contains("-Djdk.virtualThreadScheduler.parallelism=1"), cmd.toString());
        assertTrue(cmd.contains("-Djdk.virtualThreadScheduler.maxPoolSize=1"), cmd.toString());
        assertTrue(cmd.contains("-Dsun.net.httpserver.nodelay=true") && cmd.contains("-Dx.y=z"), cmd.toString());
        assertTrue(k.label().endsWith(", providers on"), k.label());
        assertEquals(List.of("taskset", "-c", "1"), p.clientPrefix());
        assertTrue(Pinning.NONE.serverPrefix().isEmpty() && Pinning.NONE.serverJvmArgs().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> new Pinning(new int[] {0}, null));
    }

    @Test
    void theJitHasSettledWhenItCompiledForAtMostOneTwentiethOfARound() {
        assertTrue(HttpBench.jitSettled(0, 1000));
        assertTrue(HttpBench.jitSettled(50, 1000));
        assertFalse(HttpBench.jitSettled(51, 1000));
        assertFalse(HttpBench.jitSettled(550, 1000), "half the round compiling, as after a 2 s warm-up with the providers on");
    }

    @Test
    void perfTraceSummaryIsSummedOverThreads() {
        String summary = """

                 Summary of events:

                 java (100), 10 events, 50.0%

                   syscall            calls  errors  total       min       avg       max       stddev
                                                     (msec)    (msec)    (msec)    (msec)        (%)
                   --------------- --------  ------ -------- --------- --------- ---------     ------
                   read                   3      0     0.024     0.011     0.012     0.013     11.50%
                   futex                  2      1     0.000     0.000     0.000     0.000      0.00%

                 java (101), 6 events, 50.0%

                   syscall            calls  errors  total       min       avg       max       stddev
                   --------------- --------  ------ -------- --------- --------- ---------     ------
                   futex                  5      0     0.100     0.011     0.012     0.013     11.50%
                   epoll_ctl              1      0     0.024     0.011     0.012     0.013     11.50%
                """;
        Map<String, Long> calls = SyscallTrace.parse(summary);
        assertEquals(Map.of("futex", 7L, "read", 3L, "epoll_ctl", 1L), calls);
        assertEquals("futex", calls.keySet().iterator().next(), "most frequent first");
        HttpBench.Trace t = new HttpBench.Trace(2, calls);
        assertEquals(3.5, t.perRequest("futex"));
        assertEquals(5.5, t.totalPerRequest());
    }

    @ParameterizedTest
    @EnumSource(LoadClient.class)
    @Timeout(240)
    void measuresAServerInItsOwnPinnedJvm(LoadClient client) throws Exception {
        Pinning pin = Pinning.defaults();
        String why = HttpBench.unavailabilityCause(pin, client);
        assumeTrue(why == null, () -> "skipped: " + why);
        StaticFiles.create(dir);
        String trace = SyscallTrace.unavailabilityCause();
        if (trace != null) System.out.println("SKIP the traced window: " + trace);
        List<HttpBench.Kind> kinds = List.of(HttpServers.baselines().getFirst(), HttpServers.realServers().get(2));
        List<String> progress = new java.util.ArrayList<>();
        List<HttpBench.Row> rows = HttpBench.run(kinds, new int[] {4}, 1, "16k.bin", dir,
                new HttpBench.Options(pin, 0, 1, trace == null, client), progress::add);
        assertEquals(2, rows.size());
        for (HttpBench.Row r : rows) {
            assertTrue(r.requestsPerSec() > 0 && r.requests() > 0, r.toString());
            assertEquals(0, r.errors(), r.toString());
            assertTrue(r.p50Ms() > 0 && r.p99Ms() >= r.p50Ms(), r.toString());
            assertTrue(r.cpuUsPerRequest() > 0 && Double.isFinite(r.cpuUsPerRequest()), r.toString());
            assertTrue(r.switchesPerRequest() >= 0 && Double.isFinite(r.switchesPerRequest()), r.toString());
            if (pin.pinned()) {
                double serverBusy = r.cpuBusy()[pin.serverCpus()[0]];
                assertTrue(serverBusy > 0 && serverBusy <= 1, r.toString());
            }
            if (trace == null) {
                assertTrue(r.trace().requests() > 0, r.toString());
                // every request is read from and written to a socket (by name or through io_uring_enter)
                assertTrue(r.trace().totalPerRequest() >= 2, r.trace().toString());
            }
        }
        if (pin.pinned()) {
            String cpus = "cpus=" + pin.serverCpus()[0] + " ";
            assertTrue(progress.stream().filter(l -> l.contains("server JVM")).allMatch(l -> l.contains(cpus)),
                    "the server JVM may run outside CPU " + pin.serverCpus()[0] + ": " + progress);
        }
        // one settling round per server, reported whatever the JIT did in it
        assertEquals(2, progress.stream().filter(l -> l.contains("JIT settled after 1 s") || l.contains("JIT still compiling after 1 s")).count(),
                progress.toString());
        String table = HttpBench.table(rows);
        assertTrue(table.contains("switches/req") && table.contains("busy % cpu0"), table);
        System.out.println(table);
        if (trace == null) System.out.println(HttpBench.traceTable(rows));
    }
}
