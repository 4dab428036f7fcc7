package dev.flexsc.bench.http;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.io.FlexscProviders;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import dev.flexsc.threads.FlexscExecutors;
import dev.flexsc.threads.FlexscRuntime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The servers the HTTP benchmark compares, each named by a spec string that
 * {@link #start(String, Path, int)} turns into a running server, in this JVM (the tests) or
 * in the server JVM the study starts ({@link ServerMain}):
 *
 * <ul>
 * <li>{@code nptl}: {@link SyscallHttpServer}, direct calls, {@code Executors.newFixedThreadPool}</li>
 * <li>{@code jdkio}: {@link JdkHttpServer} (JDK channels) on stock virtual threads</li>
 * <li>{@code flexsc-fixed:ENGINE}: SyscallHttpServer, the engine's calls (EXCEPTIONLESS) from a fixed platform pool</li>
 * <li>{@code flexsc:ENGINE:POLICY}: SyscallHttpServer, green threads of a FlexscRuntime on ENGINE under POLICY</li>
 * <li>{@code jdkhttp:THREADS:FILES}: the JDK's {@link JdkBuiltinHttpServer}; THREADS a {@link HandlerThreads},
 *     FILES a {@link FileApi}</li>
 * <li>{@code jetty:THREADS:FILES}: {@link JettyServer} with a plain handler</li>
 * <li>{@code jetty-resource:THREADS}: JettyServer with Jetty's ResourceHandler</li>
 * </ul>
 */
public final class HttpServers {
    private HttpServers() {}

    /** The JVM arguments the JDK HttpServer needs to answer without waiting for Nagle's algorithm. */
    static final List<String> JDK_HTTPSERVER_ARGS = List.of("-Dsun.net.httpserver.nodelay=true");
    /** Jetty logs through SLF4J; with no provider on the class path it warns at every start: only errors, please. */
    static final List<String> JETTY_ARGS = List.of("-Dslf4j.internal.verbosity=ERROR");

    /** The servers of the full report: baselines, the paper's setting, the defaults, and the io_uring engine AUTO did not pick. */
    public static List<HttpBench.Kind> kinds() {
        List<HttpBench.Kind> kinds = new ArrayList<>(baselines());
        kinds.add(new HttpBench.Kind("FlexSC SYSCALL_THREADS, fixed thread pool", "flexsc-fixed:SYSCALL_THREADS", List.of()));
        // the product as the paper ran it: one FlexSC green thread per connection on the M:N
        // scheduler, every call exception-less on SYSCALL_THREADS
        kinds.add(flexscExecutors(Engine.SYSCALL_THREADS, CallPolicy.EXCEPTIONLESS));
        // What an adopter gets by changing one line: the default engine (AUTO: the first
        // available of Engine.autoOrder(config)) and the default call policy.
        kinds.add(flexscExecutors(Engine.AUTO, CallPolicy.ADAPTIVE));
        // The io_uring engine AUTO did not pick (with or without the SQ polling thread,
        // docs/engines.md "AUTO's order"), where this machine has it; an engine it lacks is
        // left out (the report's probe lines say why).
        Engine auto = autoPick();
        for (Engine e : List.of(Engine.IO_URING, Engine.IO_URING_SQPOLL)) {
            if (e != auto && available(e)) kinds.add(flexscExecutors(e, CallPolicy.ADAPTIVE));
        }
        kinds.addAll(realServers());
        return kinds;
    }

    /** The two baselines every comparison starts from: the paper's NPTL server and stock virtual threads with JDK I/O. */
    public static List<HttpBench.Kind> baselines() {
        return List.of(new HttpBench.Kind("NPTL: fixed thread pool, direct calls", "nptl", List.of()),
                new HttpBench.Kind("stock virtual threads, JDK I/O", "jdkio", List.of()));
    }

    /**
     * The baselines and the FlexSC server (FlexscExecutors, FlexSC I/O) on each of
     * {@code engines} under each of {@code policies}: what {@code --study http} compares
     * with {@code --servers syscall}.
     */
    public static List<HttpBench.Kind> studyKinds(List<Engine> engines, List<CallPolicy> policies) {
        List<HttpBench.Kind> kinds = new ArrayList<>(baselines());
        for (Engine e : engines) {
            for (CallPolicy p : policies) kinds.add(flexscExecutors(e, p));
        }
        return kinds;
    }

    /**
     * Servers nobody here wrote: the JDK HttpServer and Jetty with a plain handler, each on
     * stock virtual threads and on FlexscExecutors (the defaults: AUTO, ADAPTIVE), reading
     * with Files and with FlexscFiles; Jetty's ResourceHandler on each executor; and, last,
     * each plain server with FlexSC turned on whole ({@link #withProviders}).
     */
    public static List<HttpBench.Kind> realServers() {
        List<HttpBench.Kind> kinds = new ArrayList<>();
        for (String server : List.of("jdkhttp", "jetty")) {
            for (HandlerThreads t : HandlerThreads.values()) {
                for (FileApi f : FileApi.values()) {
                    kinds.add(new HttpBench.Kind(serverLabel(server) + t.label + ", " + f.label, server + ":" + t + ":" + f,
                            serverArgs(server)));
                }
            }
        }
        for (HandlerThreads t : HandlerThreads.values()) {
            kinds.add(new HttpBench.Kind("Jetty ResourceHandler, " + t.label, "jetty-resource:" + t, JETTY_ARGS));
        }
        for (String server : List.of("jdkhttp", "jetty")) kinds.add(withProviders(server));
        return kinds;
    }

    /**
     * {@code server} (jdkhttp or jetty) with FlexSC turned on as an adopter turns it on, the
     * application unmodified: handlers on FlexscExecutors, reading with Files, and the JVM
     * started with {@link FlexscProviders#JVM_FLAGS}, so the server's sockets, selector and
     * files are FlexSC's (docs/io.md, "FlexSC under an unmodified application").
     */
    public static HttpBench.Kind withProviders(String server) {
        List<String> args = new ArrayList<>(serverArgs(server));
        args.addAll(FlexscProviders.JVM_FLAGS);
        return new HttpBench.Kind(serverLabel(server) + HandlerThreads.FLEXSC.label + ", " + FileApi.FILES.label
                + ", FlexSC providers", server + ":" + HandlerThreads.FLEXSC + ":" + FileApi.FILES, args);
    }

    private static String serverLabel(String server) {
        return server.equals("jdkhttp") ? "JDK HttpServer, " : "Jetty, ";
    }

    private static List<String> serverArgs(String server) {
        return server.equals("jdkhttp") ? JDK_HTTPSERVER_ARGS : JETTY_ARGS;
    }

    /** The engine AUTO opens here (null if none is available). */
    private static Engine autoPick() {
        for (Engine x : Engine.autoOrder(dev.flexsc.FlexscConfig.fromSystemProperties())) {
            if (available(x)) return x;
        }
        return null;
    }

    private static boolean available(Engine e) {
        return dev.flexsc.Flexsc.probe().stream().anyMatch(a -> a.engine() == e && a.available());
    }

    /** AUTO's pick on this machine, for the label. */
    private static String label(Engine e) {
        if (e != Engine.AUTO) return e.name();
        Engine x = autoPick();
        return x == null ? "AUTO" : "AUTO (" + x + ")";
    }

    /** One green thread per connection on a FlexscRuntime over {@code engine} under {@code policy}. */
    public static HttpBench.Kind flexscExecutors(Engine engine, CallPolicy policy) {
        return new HttpBench.Kind("FlexSC: FlexscExecutors, " + label(engine) + ", " + policy, "flexsc:" + engine + ":" + policy,
                List.of());
    }

    /**
     * Starts the server {@code spec} names on {@code root}; {@code maxConnections} sizes its
     * pools. The caller closes it.
     *
     * @throws IllegalArgumentException for a spec this class does not define
     */
    public static HttpBench.Server start(String spec, Path root, int maxConnections) throws IOException {
        String[] f = spec.split(":");
        return switch (f[0]) {
            case "nptl" -> {
                ExecutorService pool = Executors.newFixedThreadPool(maxConnections);
                yield withPool(new SyscallHttpServer(DirectSyscalls.syscalls(), pool, root), pool, null);
            }
            case "jdkio" -> {
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
                yield withPool(new JdkHttpServer(pool, root), pool, null);
            }
            case "flexsc-fixed" -> {
                // one syscall thread may sit in each connection's recv: let the pool grow to that
                FlexscEngine e = SyscallThreadsEngine.open(FlexscConfig.builder().engine(engine(spec, f, 1))
                        .poolThreads(Math.min(1024, maxConnections + 8)).policy(CallPolicy.EXCEPTIONLESS).build());
                ExecutorService pool = Executors.newFixedThreadPool(maxConnections);
                yield withPool(new SyscallHttpServer(e.syscalls(), pool, root), pool, e);
            }
            case "flexsc" -> {
                // a SYSCALL_THREADS syscall thread may sit in each connection's recv: let the pool grow
                // to that (io_uring waits for sockets with its internal poll, but its fallback is sized alike)
                FlexscRuntime rt = FlexscRuntime.open(FlexscConfig.builder().engine(engine(spec, f, 1))
                        .poolThreads(Math.min(1024, maxConnections + 8)).policy(policy(spec, f, 2)).build());
                ExecutorService pool = FlexscExecutors.newThreadPerTaskExecutor(rt.threadFactory());
                yield withPool(new SyscallHttpServer(rt.syscalls(), pool, root), pool, rt);
            }
            case "jdkhttp" -> new JdkBuiltinHttpServer(threads(spec, f, 1).newExecutor(), files(spec, f, 2), root);
            case "jetty" -> new JettyServer(threads(spec, f, 1).newExecutor(), JettyServer.Mode.HANDLER, files(spec, f, 2), root);
            case "jetty-resource" -> new JettyServer(threads(spec, f, 1).newExecutor(), JettyServer.Mode.RESOURCE_HANDLER,
                    FileApi.FILES, root);
            default -> throw new IllegalArgumentException("unknown server spec " + spec);
        };
    }

    private static String field(String spec, String[] f, int i) {
        if (i >= f.length) throw new IllegalArgumentException("server spec " + spec + " lacks field " + i);
        return f[i].toUpperCase(Locale.ROOT);
    }

    private static Engine engine(String spec, String[] f, int i) {
        return Engine.valueOf(field(spec, f, i));
    }

    private static CallPolicy policy(String spec, String[] f, int i) {
        return CallPolicy.valueOf(field(spec, f, i));
    }

    private static HandlerThreads threads(String spec, String[] f, int i) {
        return HandlerThreads.valueOf(field(spec, f, i));
    }

    private static FileApi files(String spec, String[] f, int i) {
        return FileApi.valueOf(field(spec, f, i));
    }

    /** {@code server} that, on close, also stops {@code pool} and closes {@code owned} (an engine or runtime, or null). */
    private static HttpBench.Server withPool(HttpBench.Server server, ExecutorService pool, AutoCloseable owned) {
        return new HttpBench.Server() {
            @Override
            public int port() throws IOException {
                return server.port();
            }

            @Override
            public long requests() {
                return server.requests();
            }

            @Override
            public void close() throws Exception {
                try {
                    server.close();
                } finally {
                    pool.shutdownNow();
                    if (owned != null) owned.close();
                }
            }
        };
    }
}
