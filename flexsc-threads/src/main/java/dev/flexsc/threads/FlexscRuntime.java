package dev.flexsc.threads;

import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * An engine and a scheduler opened with one configuration: the system calls execute on
 * the syscall CPUs, the virtual threads that make them run on the user CPUs.
 *
 * <pre>{@code
 * try (FlexscRuntime rt = FlexscRuntime.open(FlexscConfig.defaults());
 *      ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
 *     ex.submit(() -> rt.syscalls().getpid());
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} closes the scheduler (waiting for its threads, then
 * stopping its carriers) and then the engine.
 */
public final class FlexscRuntime implements AutoCloseable {
    private static volatile FlexscRuntime shared;

    private final FlexscEngine engine;
    private final FlexscScheduler scheduler;
    private final boolean isShared;

    private FlexscRuntime(FlexscEngine engine, FlexscScheduler scheduler, boolean isShared) {
        this.engine = engine;
        this.scheduler = scheduler;
        this.isShared = isShared;
        scheduler.attachEngine(engine); // its FlexscStats MXBean reports this engine too
    }

    /**
     * Opens an engine ({@link Flexsc#open(FlexscConfig)}) and starts a scheduler on the
     * configuration's user CPUs.
     *
     * @throws IOException if the engine cannot be opened
     * @throws UnsupportedOperationException if the scheduler cannot run in this JVM (the
     *         message names the missing flag); the engine is closed again
     */
    public static FlexscRuntime open(FlexscConfig config) throws IOException {
        Objects.requireNonNull(config, "config");
        FlexscEngine e = Flexsc.open(config);
        try {
            return new FlexscRuntime(e, FlexscScheduler.open(config), false);
        } catch (RuntimeException | Error t) {
            e.close();
            throw t;
        }
    }

    /**
     * The shared runtime: {@link Flexsc#defaultEngine()} and
     * {@link FlexscScheduler#defaultScheduler()}, both created on first use from system
     * properties; {@link #close()} on it is ignored.
     */
    public static FlexscRuntime shared() {
        FlexscRuntime r = shared; // volatile: double-checked creation
        if (r == null) {
            synchronized (FlexscRuntime.class) {
                r = shared;
                if (r == null) {
                    r = new FlexscRuntime(Flexsc.defaultEngine(), FlexscScheduler.defaultScheduler(), true);
                    shared = r;
                }
            }
        }
        return r;
    }

    /** The engine. */
    public FlexscEngine engine() {
        return engine;
    }

    /** The engine's typed calls (exception-less from this runtime's virtual threads). */
    public Syscalls syscalls() {
        return engine.syscalls();
    }

    /** The scheduler. */
    public FlexscScheduler scheduler() {
        return scheduler;
    }

    /** {@link FlexscScheduler#threadFactory()} of this runtime's scheduler. */
    public ThreadFactory threadFactory() {
        return scheduler.threadFactory();
    }

    /** Closes the scheduler, then the engine. Idempotent; ignored on {@link #shared()}. */
    @Override
    public void close() {
        if (isShared) return;
        try {
            scheduler.close();
        } finally {
            engine.close();
        }
    }
}
