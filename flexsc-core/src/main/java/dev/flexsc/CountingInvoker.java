package dev.flexsc;

import dev.flexsc.spi.BatchInvoker;
import dev.flexsc.spi.CallBatch;
import dev.flexsc.spi.OwnedFds;
import dev.flexsc.spi.SyscallInvoker;

import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;

/**
 * An engine's invoker that counts every call made through it ({@link Syscalls#counting}): a
 * provider's statistics. Each call, readiness wait and batched call adds one; nothing else
 * changes (a batch is posted as the engine posts it).
 */
final class CountingInvoker implements SyscallInvoker, BatchInvoker {
    private final SyscallInvoker delegate;
    private final BatchInvoker batcher;
    private final LongAdder calls;

    CountingInvoker(SyscallInvoker delegate, LongAdder calls) {
        this.delegate = delegate;
        this.batcher = delegate instanceof BatchInvoker b ? b : null;
        this.calls = calls;
    }

    @Override
    public long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        calls.increment();
        return delegate.invoke(nr, a0, a1, a2, a3, a4, a5);
    }

    @Override
    public long invoke(FdKind kind, int nr, long a0, long a1, long a2, long a3, long a4, long a5) throws IOException {
        calls.increment();
        return delegate.invoke(kind, nr, a0, a1, a2, a3, a4, a5);
    }

    @Override
    public long awaitReady(int fd, int events, int timeoutMs) throws IOException {
        calls.increment();
        return delegate.awaitReady(fd, events, timeoutMs);
    }

    @Override
    public OwnedFds ownedFds() {
        return delegate.ownedFds();
    }

    @Override
    public void invokeBatch(CallBatch batch) throws IOException {
        calls.add(batch.size());
        batcher.invokeBatch(batch);
    }

    /** As the engine's: false (calls one by one through {@link #invoke}) where it has no batches. */
    @Override
    public boolean postsBatches() {
        return batcher != null && batcher.postsBatches();
    }
}
