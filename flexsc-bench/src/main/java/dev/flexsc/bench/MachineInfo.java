package dev.flexsc.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What the figures were measured on: CPU model, cores, kernel, mitigations, JDK, counters. */
public record MachineInfo(String cpuModel, int cpus, String kernel, List<String> mitigations, String jdk,
                          String perfCounters) {

    public static MachineInfo read() {
        String model = "unknown";
        try (Stream<String> l = Files.lines(Path.of("/proc/cpuinfo"))) {
            model = l.filter(s -> s.startsWith("model name")).map(s -> s.substring(s.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (IOException ignored) {
            // not Linux: leave unknown
        }
        String kernel = System.getProperty("os.name") + " " + System.getProperty("os.version");
        List<String> mit = new ArrayList<>();
        Path vul = Path.of("/sys/devices/system/cpu/vulnerabilities");
        try (Stream<Path> s = Files.list(vul)) {
            s.sorted().forEach(p -> {
                try {
                    mit.add(p.getFileName() + ": " + Files.readString(p).trim());
                } catch (IOException ignored) {
                    // unreadable entry
                }
            });
        } catch (IOException e) {
            mit.add("unavailable (" + vul + " not readable)");
        }
        return new MachineInfo(model, Runtime.getRuntime().availableProcessors(), kernel, mit,
                Runtime.version().toString(), probePerfCounters());
    }

    /** Whether `perf stat -e instructions,cycles` works here (for user-mode IPC). */
    static String probePerfCounters() {
        try {
            Process p = new ProcessBuilder("perf", "stat", "-x,", "-e", "instructions:u,cycles:u", "true")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return out.contains("not supported") || out.contains("<not") ? "not supported on this machine (perf stat reports <not supported>)"
                    : p.exitValue() == 0 ? "available" : "perf failed: " + out.lines().findFirst().orElse("");
        } catch (IOException | InterruptedException e) {
            return "perf not installed";
        }
    }

    public String markdown() {
        return "- CPU: " + cpuModel + ", " + cpus + " CPUs\n- Kernel: " + kernel + "\n- JDK: " + jdk
                + "\n- Hardware counters (perf): " + perfCounters + "\n- Mitigations:\n"
                + String.join("\n", mitigations.stream().map(m -> "  - " + m).toList()) + "\n";
    }
}
