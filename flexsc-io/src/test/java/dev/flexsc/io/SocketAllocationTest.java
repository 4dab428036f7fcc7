package dev.flexsc.io;

import dev.flexsc.CallPolicy;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.threads.FlexscRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A socket channel's read and write of a direct buffer allocate nothing of their own in
 * steady state: no segment per call (RawIo.LastBuffer), no lambda per write (writeLoop).
 * Counted with the JVM's per-thread allocation counter on a platform thread under ADAPTIVE
 * (direct calls: the engine's own waits are not what this test counts).
 */
class SocketAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    private static final int WARM_UP = 50_000, MEASURED = 20_000;

    @FunctionalInterface
    private interface Op {
        void run() throws Exception;
    }

    /** Bytes this thread allocated per run of {@code op}, after a warm-up (the JIT's steady state). */
    private static double bytesPerOp(Op op) throws Exception {
        for (int i = 0; i < WARM_UP; i++) op.run();
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < MEASURED; i++) op.run();
        return (THREADS.getCurrentThreadAllocatedBytes() - before) / (double) MEASURED;
    }

    @Test
    @Timeout(300)
    void directReadsAndWritesAllocateNothing() throws Exception {
        assertTrue(THREADS.isThreadAllocatedMemorySupported(), "the JVM counts allocation per thread");
        THREADS.setThreadAllocatedMemoryEnabled(true);
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config().toBuilder().policy(CallPolicy.ADAPTIVE).build());
             FlexscServerSocketChannel l = FlexscServerSocketChannel.open(rt.syscalls())) {
            l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (FlexscSocketChannel c = FlexscSocketChannel.open(rt.syscalls(), l.getLocalAddress());
                 FlexscSocketChannel a = (FlexscSocketChannel) l.accept()) {
                a.configureBlocking(false);
                ByteBuffer in = ByteBuffer.allocateDirect(64), out = ByteBuffer.allocateDirect(1);
                double emptyRead = bytesPerOp(() -> {
                    in.clear();
                    if (a.read(in) != 0) throw new AssertionError("data on an idle socket");
                });
                double writeAndRead = bytesPerOp(() -> {
                    out.clear();
                    if (c.write(out) != 1) throw new AssertionError("a 1-byte write wrote nothing");
                    in.clear();
                    while (a.read(in) == 0) Thread.onSpinWait(); // loopback: the byte is there at once or soon
                });
                // Below one byte per operation: a segment (or a lambda) per call is 16 to 72 B.
                assertTrue(emptyRead < 1, "bytes allocated per empty non-blocking read: " + emptyRead);
                assertTrue(writeAndRead < 1, "bytes allocated per 1-byte write and read: " + writeAndRead);
            }
        }
    }
}
