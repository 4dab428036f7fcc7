package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.bench.http.HttpBench;
import dev.flexsc.bench.http.JdkHttpServer;
import dev.flexsc.bench.http.SyscallHttpServer;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The servers the HTTP benchmark compares. */
final class HttpServers {
    private HttpServers() {}

    static List<HttpBench.Kind> kinds() {
        List<HttpBench.Kind> kinds = new java.util.ArrayList<>(List.of(
                new HttpBench.Kind("NPTL: fixed thread pool, direct calls", (root, max) -> {
                    ExecutorService pool = Executors.newFixedThreadPool(max);
                    SyscallHttpServer s = new SyscallHttpServer(DirectSyscalls.syscalls(), pool, root);
                    return server(s::port, () -> { s.close(); pool.shutdownNow(); });
                }),
                new HttpBench.Kind("stock virtual threads, JDK I/O", (root, max) -> {
                    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
                    JdkHttpServer s = new JdkHttpServer(pool, root);
                    return server(s::port, () -> { s.close(); pool.shutdownNow(); });
                }),
                new HttpBench.Kind("FlexSC SYSCALL_THREADS, fixed thread pool", (root, max) -> {
                    // one syscall thread may sit in each connection's recv: let the pool grow to that
                    FlexscEngine e = SyscallThreadsEngine.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS)
                            .poolThreads(Math.min(1024, max + 8)).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
                    ExecutorService pool = Executors.newFixedThreadPool(max);
                    SyscallHttpServer s = new SyscallHttpServer(e.syscalls(), pool, root);
                    return server(s::port, () -> { s.close(); pool.shutdownNow(); e.close(); });
                }),
                // the product as the paper ran it: one FlexSC green thread per connection on
                // the M:N scheduler, every call exception-less on SYSCALL_THREADS
                flexscExecutors(Engine.SYSCALL_THREADS, dev.flexsc.CallPolicy.EXCEPTIONLESS),
                // What an adopter gets by changing one line: the default engine (AUTO: the
                // first available of Engine.autoOrder(CPUs)) and the default call policy.
                flexscExecutors(Engine.AUTO, dev.flexsc.CallPolicy.ADAPTIVE)));
        // The io_uring engine AUTO did not pick (with or without the SQ polling thread,
        // docs/engines.md "AUTO on few CPUs"), where this machine has it; an engine it lacks is
        // left out (the report's probe lines say why).
        Engine auto = autoPick();
        for (Engine e : List.of(Engine.IO_URING, Engine.IO_URING_SQPOLL)) {
            if (e != auto && available(e)) kinds.add(flexscExecutors(e, dev.flexsc.CallPolicy.ADAPTIVE));
        }
        return kinds;
    }

    /** The engine AUTO opens here (null if none is available). */
    private static Engine autoPick() {
        for (Engine x : Engine.autoOrder(Runtime.getRuntime().availableProcessors())) {
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

    /**
     * The two baselines and the FlexSC server (FlexscExecutors, FlexSC I/O) on each of
     * {@code engines} under each of {@code policies}: what {@code ./flexsc bench --study http}
     * compares, each engine under each policy ({@link #kinds()}, the full report's, has the
     * paper's setting, SYSCALL_THREADS under EXCEPTIONLESS, and the defaults AUTO and ADAPTIVE).
     */
    static List<HttpBench.Kind> studyKinds(List<Engine> engines, List<dev.flexsc.CallPolicy> policies) {
        List<HttpBench.Kind> kinds = new java.util.ArrayList<>(kinds().subList(0, 2));
        for (Engine e : engines) {
            for (dev.flexsc.CallPolicy p : policies) kinds.add(flexscExecutors(e, p));
        }
        return kinds;
    }

    /** One green thread per connection on a FlexscRuntime over {@code engine} under {@code policy}. */
    static HttpBench.Kind flexscExecutors(Engine engine, dev.flexsc.CallPolicy policy) {
        return new HttpBench.Kind("FlexSC: FlexscExecutors, " + label(engine) + ", " + policy, (root, max) -> {
            // a SYSCALL_THREADS syscall thread may sit in each connection's recv: let the pool grow
            // to that (io_uring waits for sockets with its internal poll, but its fallback is sized alike)
            dev.flexsc.threads.FlexscRuntime rt = dev.flexsc.threads.FlexscRuntime.open(FlexscConfig.builder()
                    .engine(engine).poolThreads(Math.min(1024, max + 8)).policy(policy).build());
            ExecutorService pool = dev.flexsc.threads.FlexscExecutors.newThreadPerTaskExecutor(rt.threadFactory());
            SyscallHttpServer s = new SyscallHttpServer(rt.syscalls(), pool, root);
            return server(s::port, () -> { s.close(); pool.shutdownNow(); rt.close(); });
        });
    }

    interface PortSupplier {
        int port() throws java.io.IOException;
    }

    interface Closer {
        void close() throws Exception;
    }

    private static HttpBench.Server server(PortSupplier port, Closer closer) {
        return new HttpBench.Server() {
            public int port() throws java.io.IOException {
                return port.port();
            }

            public void close() throws Exception {
                closer.close();
            }
        };
    }
}
