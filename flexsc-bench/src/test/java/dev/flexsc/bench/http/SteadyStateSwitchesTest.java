package dev.flexsc.bench.http;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.uring.UringAvailability;
import org.junit.jupiter.api.Assumptions;
import dev.flexsc.threads.FlexscRuntime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The HTTP server's steady state on the carrier-local rings makes no hand-off between threads
 * per request (issue 14): every request's calls (recvfrom, openat, fstat, sendto, sendfile,
 * close) are made or reaped by the one carrier that runs the request's thread, so no other
 * thread of the server is woken for it. Counted from the kernel, per thread: the voluntary
 * and involuntary context switches in /proc/self/task/TID/status over a window of keep-alive
 * requests, for every thread but the server's carrier, the test's client threads and the
 * JIT compiler's. A futex (or eventfd) wake-up of one other thread per request (a completion
 * thread, a fallback executor, a second carrier) shows as at least one switch per request
 * of that thread.
 */
class SteadyStateSwitchesTest {
    @TempDir
    Path dir;

    /** Voluntary + involuntary switches of every thread of this process, by TID, with its name. */
    private static Map<String, long[]> switches() throws IOException {
        Map<String, long[]> m = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    long sum = 0;
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                    m.put(t.getFileName() + " " + comm, new long[] {sum});
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return m;
    }

    /** The server's request count once it reached {@code want}, or after 10 s whatever it is. */
    private static long awaitRequests(SyscallHttpServer server, long want) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (server.requests() < want && System.nanoTime() < deadline) Thread.sleep(1);
        return server.requests();
    }

    @ParameterizedTest
    @EnumSource(names = {"IO_URING"})
    @Timeout(120)
    void keepAliveRequestsWakeNoOtherThreadOfTheServer(Engine kind) throws Exception {
        String why = UringAvailability.unavailabilityCause(kind);
        if (why != null) System.out.println("skipped: " + kind + " unavailable: " + why);
        Assumptions.assumeTrue(why == null, why);
        StaticFiles.create(dir);
        // One carrier, the default policy: the server's calls go through its carrier's ring.
        FlexscConfig cfg = FlexscConfig.builder().engine(kind).userCpus(0).policy(CallPolicy.ADAPTIVE).build();
        int clients = 4, warm = 300, measured = 2000;
        try (FlexscRuntime rt = FlexscRuntime.open(cfg);
             ExecutorService pool = Executors.newThreadPerTaskExecutor(rt.threadFactory());
             SyscallHttpServer server = new SyscallHttpServer(rt.syscalls(), pool, dir)) {
            String name = StaticFiles.NAMES.get(0);
            byte[] want = Files.readAllBytes(dir.resolve(name));
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            java.util.concurrent.CyclicBarrier phase = new java.util.concurrent.CyclicBarrier(clients + 1);
            List<Thread> ts = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                ts.add(Thread.ofPlatform().name("http-client-" + c).start(() -> {
                    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                        s.setTcpNoDelay(true);
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        for (int i = 0; i < warm; i++) assertArrayEquals(want, HttpTestClient.get(in, out, "/" + name, false));
                        phase.await(); // warmed up: the window starts
                        phase.await();
                        for (int i = 0; i < measured; i++) assertArrayEquals(want, HttpTestClient.get(in, out, "/" + name, false));
                        phase.await(); // the window ends
                    } catch (Throwable t) {
                        errors.add(t);
                        phase.reset();
                    }
                }));
            }
            phase.await();
            // The server counts a request after its response went out, so the client can be
            // past the barrier before the count moved: wait for it at both ends of the window.
            long requests0 = awaitRequests(server, (long) clients * warm);
            Map<String, long[]> before = switches();
            long window0 = System.nanoTime();
            phase.await();
            phase.await();
            long requests = awaitRequests(server, (long) clients * (warm + measured)) - requests0;
            Map<String, long[]> after = switches();
            long windowMillis = (System.nanoTime() - window0) / 1_000_000;
            for (Thread t : ts) t.join();
            assertTrue(errors.isEmpty(), () -> errors.peek().toString());
            assertEquals((long) clients * measured, requests);
            long carrier = 0, others = 0, worst = 0;
            // The kernel keeps 15 characters of a thread's name: "flexsc-7-carrier-0-cpu0" is "flexsc-7-carrie".
            String full = rt.scheduler().name() + "-carrier";
            String carrierComm = full.substring(0, Math.min(15, full.length()));
            StringBuilder busiest = new StringBuilder();
            for (var e : after.entrySet()) {
                long d = e.getValue()[0] - before.getOrDefault(e.getKey(), new long[] {0})[0];
                String comm = e.getKey().substring(e.getKey().indexOf(' ') + 1);
                if (comm.startsWith("http-client")) continue; // the load, not the server
                if (comm.contains("CompilerThre")) continue; // the JIT: its work follows time, not requests
                if (comm.startsWith(carrierComm)) {
                    carrier += d;
                } else {
                    others += d;
                    worst = Math.max(worst, d);
                    if (d > requests / 100) busiest.append(' ').append(e.getKey()).append('=').append(d);
                }
            }
            System.out.printf("%s: %d requests in %d ms, carrier %.2f switches/request, all other server threads %.3f/request%s%n",
                    kind, requests, windowMillis, (double) carrier / requests, (double) others / requests, busiest);
            // GC and the JVM's housekeeping switch a little, and some threads wake on a clock,
            // not on requests: the scheduler's carrier monitor every 10 ms (CarrierMonitor),
            // idle carriers of other schedulers on their timeouts. On a loaded machine the
            // window lasts seconds, and those add up to more than a tenth of the requests, so
            // each thread may also switch once per 5 ms of the window (twice the monitor's
            // rate). A thread woken once per request switches at least once per request (a
            // completion thread: twice): above this bound while requests come faster than one
            // per 5.6 ms, which the window's own count shows.
            long clockSwitches = windowMillis / 5;
            assertTrue(requests / 10 + clockSwitches < requests, "too few requests in " + windowMillis
                    + " ms to tell a thread woken per request from one woken by a clock: " + requests);
            assertTrue(worst < requests / 10 + clockSwitches, "a thread switched " + worst + " times for " + requests
                    + " requests in " + windowMillis + " ms:" + busiest);
        }
    }
}
