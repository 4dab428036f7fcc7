package dev.flexsc.bench.http;

import dev.flexsc.threads.FlexscExecutors;

import java.io.IOException;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The executor a real server (the JDK's HttpServer, Jetty) runs its handlers on: the one
 * line an adopter changes. Each call makes a new executor, which the server's owner closes.
 */
public enum HandlerThreads {
    /** {@code Executors.newVirtualThreadPerTaskExecutor()}: the JDK's scheduler. */
    STOCK_VT("stock virtual threads"),
    /** {@code FlexscExecutors.newVirtualThreadPerTaskExecutor()}: the default FlexSC scheduler and engine. */
    FLEXSC("FlexscExecutors");

    public final String label;

    HandlerThreads(String label) {
        this.label = label;
    }

    /** A new virtual-thread-per-task executor of this kind. */
    public ExecutorService newExecutor() {
        return this == STOCK_VT ? Executors.newVirtualThreadPerTaskExecutor() : FlexscExecutors.newVirtualThreadPerTaskExecutor();
    }

    /**
     * Interrupts the handlers still running on {@code executor} (a server just stopped) and
     * waits up to 10 s for them to end.
     *
     * @throws IOException naming {@code server} if one did not end in time: a server that
     *         cannot stop is a finding, never a hang
     */
    static void stop(java.util.concurrent.ExecutorService executor, String server) throws IOException {
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IOException(server + ": handlers still running 10 s after stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while stopping " + server);
        }
    }
}
