package dev.flexsc.bench.http;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The study's clients: their command lines under the pinning, and how each one's output is read. */
class LoadClientTest {
    private final Pinning pin = new Pinning(new int[] {0}, new int[] {1});

    @Test
    void bothClientsRunPinnedToTheClientCpus() {
        for (LoadClient c : LoadClient.values()) {
            List<String> cmd = c.command(8080, 10, 5, "16k.bin", 16384, pin, 0);
            assertEquals(List.of("taskset", "-c", "1"), cmd.subList(0, 3), cmd.toString());
            assertEquals("http://127.0.0.1:8080/16k.bin", cmd.getLast());
        }
        List<String> load = LoadClient.FLEXSC_LOAD.command(8080, 10, 5, "16k.bin", 16384, pin, 0);
        String line = String.join(" ", load);
        assertTrue(line.contains(ClosedLoopClient.class.getName() + " --connections 10 --seconds 5 --warmup 1"), line);
        assertTrue(line.contains("--expect-bytes 16384"), line);
        assertTrue(String.join(" ", LoadClient.FLEXSC_LOAD.command(8080, 10, 5, "16k.bin", 16384, pin, LoadClient.UNRECORDED))
                .contains("--warmup 0"), "the server's warm-up rounds need no client warm-up");
        assertFalse(line.contains("--rate"), "a closed loop by default");
        assertTrue(String.join(" ", LoadClient.FLEXSC_LOAD.command(8080, 10, 5, "16k.bin", 16384, pin, 5000))
                .contains("--rate 5000.0"));
        assertThrows(IllegalArgumentException.class, () -> LoadClient.WRK.command(8080, 10, 5, "16k.bin", 16384, pin, 5000));
        assertThrows(IllegalArgumentException.class, () -> new HttpBench.Options(pin, 0, 0, false, LoadClient.WRK, 5000));
        assertEquals(LoadClient.WRK, LoadClient.named("WRK"));
        assertEquals(LoadClient.FLEXSC_LOAD, LoadClient.named("flexsc-load"));
        assertThrows(IllegalArgumentException.class, () -> LoadClient.named("ab"));
    }

    @Test
    void readsFlexscLoadsResultLine() throws IOException {
        LoadClient.Load l = LoadClient.parseFlexscLoad("flexsc-load: ...\nflexsc-load result 30000 2 3000000000 16500 1200000 0.9500,-,0.2500\n");
        assertEquals(10_000, l.requestsPerSec(), 1e-9);
        assertEquals(0.0165, l.p50Ms(), 1e-12);
        assertEquals(1.2, l.p99Ms(), 1e-12);
        assertEquals(2, l.errors());
        assertArrayEquals(new double[] {0.95, Double.NaN, 0.25}, l.cpuBusy());
        assertTrue(Double.isNaN(LoadClient.parseFlexscLoad("flexsc-load result 0 5 0 0 0 0.5000").p99Ms()));
        assertThrows(IOException.class, () -> LoadClient.parseFlexscLoad("flexsc-load: connect refused"));
    }

    @Test
    void readsWrksSummary() throws IOException {
        String out = """
                Running 3s test @ http://127.0.0.1:18081/
                  1 threads and 1 connections
                  Thread Stats   Avg      Stdev     Max   +/- Stdev
                    Latency     1.32ms    4.78ms  62.81ms   96.89%
                    Req/Sec    14.94k     3.79k   26.40k    83.33%
                  Latency Distribution
                     50%   26.00us
                     75%    1.09ms
                     90%    2.84ms
                     99%   27.91ms
                  45098 requests in 3.04s, 45.80MB read
                  Socket errors: connect 0, read 1, write 0, timeout 2
                  Non-2xx or 3xx responses: 4
                Requests/sec:  14841.44
                Transfer/sec:     15.07MB
                """;
        LoadClient.Load l = LoadClient.parseWrk(out);
        assertEquals(14841.44, l.requestsPerSec(), 1e-9);
        assertEquals(0.026, l.p50Ms(), 1e-12);
        assertEquals(27.91, l.p99Ms(), 1e-12);
        assertEquals(7, l.errors());
        assertNull(l.cpuBusy(), "wrk's window is the caller's to measure");
        assertThrows(IOException.class, () -> LoadClient.parseWrk("unable to connect to 127.0.0.1:1"));
    }
}
