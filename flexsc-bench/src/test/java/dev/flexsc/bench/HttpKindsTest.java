package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.bench.http.HttpBench;
import dev.flexsc.bench.http.HttpServers;
import dev.flexsc.bench.http.StaticFiles;
import dev.flexsc.io.FlexscProviders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every server the HTTP benchmark measures (the report's and {@code --study http}'s) serves
 * the files byte-exact over keep-alive from several connections at once, answers 404 and
 * honours Connection: close, so a throughput figure is never that of a server that answers
 * wrongly.
 */
class HttpKindsTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void everyServerOfTheBenchmarkServesTheFiles() throws Exception {
        StaticFiles.create(dir);
        List<HttpBench.Kind> kinds = new ArrayList<>(HttpServers.kinds());
        // --study http's: each engine here under each policy (the report's kinds cover some).
        List<Engine> engines = new ArrayList<>();
        for (var a : dev.flexsc.Flexsc.probe()) {
            if (a.available()) engines.add(a.engine());
            else System.out.println("SKIP " + a.engine() + ": " + a.reason());
        }
        kinds.addAll(HttpServers.studyKinds(engines, List.of(dev.flexsc.CallPolicy.ADAPTIVE)).subList(2, 2 + engines.size()));
        List<String> labels = new ArrayList<>();
        for (HttpBench.Kind k : kinds) {
            if (k.jvmArgs().containsAll(FlexscProviders.JVM_FLAGS)) {
                // its server is one of the others here; with the providers on, in a JVM started
                // with them, it is RealServersTest's in the providers-on run
                System.out.println("SKIP here " + k.label() + ": needs its JVM flags, run by the providers-on tests");
                continue;
            }
            try (HttpBench.Server s = HttpServers.start(k.spec(), dir, 8)) {
                List<Thread> clients = new ArrayList<>();
                List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
                for (int c = 0; c < 4; c++) {
                    clients.add(Thread.ofPlatform().start(() -> {
                        try {
                            exercise(s.port());
                        } catch (Throwable x) {
                            errors.add(x);
                        }
                    }));
                }
                for (Thread t : clients) t.join();
                if (!errors.isEmpty()) fail(k.label() + ": " + errors.get(0), errors.get(0));
            }
            labels.add(k.label());
        }
        System.out.println("served correctly: " + labels);
        assertTrue(labels.stream().anyMatch(l -> l.contains("AUTO")), "the defaults (AUTO, ADAPTIVE) are measured");
    }

    private void exercise(int port) throws IOException {
        dev.flexsc.bench.http.HttpTestClient.exercise(dir, port);
    }
}
