package dev.flexsc;

import dev.flexsc.spi.EngineProvider;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Entry point: open an engine, ask which engines this machine can run, or use the
 * shared default runtime.
 *
 * <pre>{@code
 * try (FlexscEngine e = Flexsc.open()) {
 *     long pid = e.syscalls().getpid();
 * }
 * }</pre>
 */
public final class Flexsc {
    private Flexsc() {}

    private static volatile FlexscEngine defaultEngine;

    /** Opens the first available engine with the default configuration. */
    public static FlexscEngine open() throws IOException {
        return open(FlexscConfig.defaults());
    }

    /**
     * Opens the engine named by {@code config.engine()}; for {@link Engine#AUTO} the first
     * available in {@link Engine#autoOrder(int)} for this machine's CPUs
     * ({@link Runtime#availableProcessors()}).
     *
     * @throws EngineUnavailableException if the engine (or, for AUTO, every engine) cannot run
     *         here; its message gives each reason
     * @throws IOException if opening failed for another reason
     */
    public static FlexscEngine open(FlexscConfig config) throws IOException {
        Map<Engine, EngineProvider> providers = providers();
        List<Engine> order = config.engine() == Engine.AUTO
                ? Engine.autoOrder(Runtime.getRuntime().availableProcessors()) : List.of(config.engine());
        List<String> reasons = new ArrayList<>();
        for (Engine e : order) {
            EngineProvider p = providers.get(e);
            String why = p == null ? noProvider(e) : p.unavailabilityCause();
            if (why != null) {
                reasons.add(e + ": " + why);
                continue;
            }
            try {
                return p.open(config);
            } catch (IOException | RuntimeException ex) {
                if (config.engine() != Engine.AUTO) throw ex;
                reasons.add(e + ": open failed: " + ex.getMessage());
            }
        }
        throw new EngineUnavailableException(config.engine(), String.join("; ", reasons));
    }

    /**
     * Each engine's availability on this machine, with the reason when unavailable and, for
     * an engine that hands some calls to another, which calls go where (never
     * {@link Engine#AUTO}). Cheap; opens nothing.
     */
    public static List<EngineAvailability> probe() {
        Map<Engine, EngineProvider> providers = providers();
        List<EngineAvailability> out = new ArrayList<>();
        for (Engine e : Engine.AUTO_ORDER) {
            EngineProvider p = providers.get(e);
            String why = p == null ? noProvider(e) : p.unavailabilityCause();
            out.add(why == null ? EngineAvailability.available(e, p.routing()) : EngineAvailability.unavailable(e, why));
        }
        return out;
    }

    /**
     * The shared default engine, opened on first use with
     * {@link FlexscConfig#fromSystemProperties()} (like {@code ForkJoinPool.commonPool()});
     * it lives as long as the JVM and {@code close()} on it is ignored.
     *
     * @throws UncheckedIOException if no engine can be opened
     */
    public static FlexscEngine defaultEngine() {
        FlexscEngine e = defaultEngine;
        if (e == null) {
            synchronized (Flexsc.class) {
                e = defaultEngine;
                if (e == null) {
                    try {
                        e = new SharedEngine(open(FlexscConfig.fromSystemProperties()));
                    } catch (IOException ex) {
                        throw new UncheckedIOException("cannot open the default FlexSC engine", ex);
                    }
                    defaultEngine = e;
                }
            }
        }
        return e;
    }

    /**
     * The shared default engine if {@link #defaultEngine()} has opened it, else null; never
     * opens one (for monitoring: reading statistics must not start an engine).
     */
    public static FlexscEngine defaultEngineIfOpen() {
        return defaultEngine; // volatile read: the fully built engine or null
    }

    /** The default engine's typed calls; see {@link #defaultEngine()}. */
    public static Syscalls syscalls() {
        return defaultEngine().syscalls();
    }

    private static String noProvider(Engine e) {
        return "no provider for " + e + " on the class path (flexsc-native is missing, or this build of it does not"
                + " include the " + e + " engine)";
    }

    private static Map<Engine, EngineProvider> providers() {
        Map<Engine, EngineProvider> m = new EnumMap<>(Engine.class);
        for (EngineProvider p : ServiceLoader.load(EngineProvider.class, Flexsc.class.getClassLoader())) {
            m.putIfAbsent(p.engine(), p);
        }
        return m;
    }

    /** The default engine: shared by the whole JVM, so close() does nothing. */
    private record SharedEngine(FlexscEngine delegate) implements FlexscEngine {
        public Engine engine() { return delegate.engine(); }
        public FlexscConfig config() { return delegate.config(); }
        public Syscalls syscalls() { return delegate.syscalls(); }
        public EngineStats stats() { return delegate.stats(); }
        public boolean isOpen() { return delegate.isOpen(); }
        public void close() { /* shared: lives with the JVM */ }
    }
}
