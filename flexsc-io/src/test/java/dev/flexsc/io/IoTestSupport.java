package dev.flexsc.io;

import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.threads.FlexscRuntime;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The test runtime and how a test body runs: on a platform thread or on a FlexSC green thread. */
final class IoTestSupport {
    private IoTestSupport() {}

    /**
     * The runtime the I/O tests use: the shared fixture's configuration (the engine named by
     * {@code -Dflexsc.test.engine}, SYSCALL_THREADS by default; EXCEPTIONLESS: the tests test
     * the engine, not the call policy).
     */
    static FlexscRuntime openRuntime() throws IOException {
        return FlexscRuntime.open(TestSupport.config());
    }

    /** Where a test body runs. */
    enum On {
        PLATFORM, GREEN;

        <T> T run(FlexscRuntime rt, Callable<T> body) throws Exception {
            if (this == PLATFORM) {
                try (ExecutorService ex = Executors.newSingleThreadExecutor()) {
                    return unwrap(ex.submit(body));
                }
            }
            try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
                return unwrap(ex.submit(() -> {
                    if (!rt.scheduler().isCarrierOfCurrentThread()) throw new AssertionError("not on a FlexSC carrier");
                    return body.call();
                }));
            }
        }

        /** Starts a thread of this kind running {@code r}. */
        Thread start(FlexscRuntime rt, Runnable r) {
            Thread t = this == PLATFORM ? new Thread(r) : rt.threadFactory().newThread(r);
            t.start();
            return t;
        }

        private static <T> T unwrap(Future<T> f) throws Exception {
            try {
                return f.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Exception x) throw x;
                if (e.getCause() instanceof Error x) throw x;
                throw e;
            }
        }
    }

    /**
     * Whether FlexSC's exception {@code mine} stands for the JDK's {@code jdk}: the same class,
     * or a subclass where the JDK throws a plain IOException / FileSystemException (FlexSC's
     * errors are {@link dev.flexsc.ErrnoException}s that name the call and errno).
     */
    static boolean sameKind(Throwable jdk, Throwable mine) {
        if (jdk == null || mine == null) return jdk == mine;
        Class<?> j = jdk.getClass(), m = mine.getClass();
        if (j == m) return true;
        return j.isAssignableFrom(m) && (j == IOException.class || j == FileSystemException.class);
    }
}
