package dev.flexsc.bench.http;

import dev.flexsc.threads.FlexscExecutors;

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
}
