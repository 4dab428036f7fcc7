package dev.flexsc;

import dev.flexsc.spi.EngineProvider;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
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
     * available in {@link Engine#autoOrder(FlexscConfig)} for this configuration.
     *
     * @throws EngineUnavailableException if the engine (or, for AUTO, every engine) cannot run
     *         here; its message gives each reason
     * @throws IOException if opening failed for another reason, among them that the engine
     *         providers could not be read from the class path (no file descriptor left)
     */
    public static FlexscEngine open(FlexscConfig config) throws IOException {
        beginStart();
        try {
            return openEngine(config);
        } finally {
            endStart();
        }
    }

    private static FlexscEngine openEngine(FlexscConfig config) throws IOException {
        Map<Engine, EngineProvider> providers;
        try {
            providers = providers();
        } catch (ServiceConfigurationError e) {
            throw new IOException(providersFailed(e), e);
        }
        List<Engine> order = config.engine() == Engine.AUTO
                ? Engine.autoOrder(config) : List.of(config.engine());
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
     * {@link Engine#AUTO}). Cheap; opens nothing. If the engine providers cannot be read
     * from the class path, every engine is unavailable with that reason.
     */
    public static List<EngineAvailability> probe() {
        beginStart();
        try {
            return probeEngines();
        } finally {
            endStart();
        }
    }

    private static List<EngineAvailability> probeEngines() {
        Map<Engine, EngineProvider> providers;
        String failed = null;
        try {
            providers = providers();
        } catch (ServiceConfigurationError e) {
            providers = Map.of();
            failed = providersFailed(e);
        }
        List<EngineAvailability> out = new ArrayList<>();
        for (Engine e : Engine.AUTO_ORDER) {
            EngineProvider p = providers.get(e);
            String why = failed != null ? failed : p == null ? noProvider(e) : p.unavailabilityCause();
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
                    // starting from the configuration on: a file it reads must not open the
                    // default engine again, from inside this block
                    beginStart();
                    try {
                        e = new SharedEngine(open(FlexscConfig.fromSystemProperties()));
                    } catch (IOException ex) {
                        throw new UncheckedIOException("cannot open the default FlexSC engine", ex);
                    } finally {
                        endStart();
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

    /**
     * True while this thread is starting FlexSC: probing or opening an engine. FlexSC cannot
     * serve the calls that start it (an engine reads {@code /proc} files as it opens; serving
     * those through FlexSC would open the engine again, from inside its own open), so FlexSC's
     * file system provider leaves the file opens of such a thread to the JDK's provider.
     */
    public static boolean startingOnThisThread() {
        return STARTING.get() != null;
    }

    /**
     * How deep this thread is in FlexSC's start, null when it is not starting it. Kept here,
     * not in a class of its own: opening with no file descriptor left must not fail on
     * loading a class (FdExhaustedOpenTest).
     */
    private static final ThreadLocal<Integer> STARTING = new ThreadLocal<>();

    private static void beginStart() {
        Integer d = STARTING.get();
        STARTING.set(d == null ? 1 : d + 1);
    }

    private static void endStart() {
        int d = STARTING.get();
        if (d == 1) STARTING.remove();
        else STARTING.set(d - 1);
    }

    /** The default engine's typed calls; see {@link #defaultEngine()}. */
    public static Syscalls syscalls() {
        return defaultEngine().syscalls();
    }

    private static String noProvider(Engine e) {
        return "no provider for " + e + " on the class path (flexsc-native is missing, or this build of it does not"
                + " include the " + e + " engine)";
    }

    /**
     * The providers on the class path, found once: the scan reads provider files (from a
     * class-path directory it opens each, so with no descriptor left it fails), and the set
     * cannot change while the JVM runs.
     *
     * @throws ServiceConfigurationError if the scan failed (see {@link #providersFailed})
     */
    private static Map<Engine, EngineProvider> providers() {
        Map<Engine, EngineProvider> m = providers; // volatile: a complete map or null
        if (m == null) {
            EnumMap<Engine, EngineProvider> found = new EnumMap<>(Engine.class);
            for (EngineProvider p : ServiceLoader.load(EngineProvider.class, Flexsc.class.getClassLoader())) {
                found.putIfAbsent(p.engine(), p);
            }
            providers = m = java.util.Collections.unmodifiableMap(found);
        }
        return m;
    }

    private static volatile Map<Engine, EngineProvider> providers;

    /** Why the provider scan failed: the ServiceLoader's message and the I/O error under it. */
    private static String providersFailed(ServiceConfigurationError e) {
        StringBuilder b = new StringBuilder("cannot load the FlexSC engine providers: ").append(e.getMessage());
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) b.append(": ").append(c.getMessage());
        return b.toString();
    }

    /** The default engine: shared by the whole JVM, so close() does nothing. */
    private record SharedEngine(FlexscEngine delegate) implements FlexscEngine {
        public Engine engine() { return delegate.engine(); }
        public FlexscConfig config() { return delegate.config(); }
        public Syscalls syscalls() { return delegate.syscalls(); }
        public EngineStats stats() { return delegate.stats(); }
        public boolean isOpen() { return delegate.isOpen(); }
        public void close() { /* shared: lives with the JVM */ }
        @Override public <T> T unwrap(Class<T> type) {
            return type.isInstance(this) ? type.cast(this) : delegate.unwrap(type);
        }
    }
}
