package dev.flexsc.io;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.io.IoTestSupport.On;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.threads.FlexscRuntime;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A FlexscFileChannel on a FIFO, on every engine, from platform and green threads: close()
 * wakes a read blocked on it with AsynchronousCloseException (as the JDK's channel does on a
 * platform thread), an interrupt with ClosedByInterruptException, and a read waits for data
 * where the kernel refuses the engine's non-waiting try (RWF_NOWAIT: EOPNOTSUPP on FIFOs).
 */
class FifoChannelTest {
    /**
     * How long a woken read may take to end before the test fails: a liveness bound, not a
     * latency target. The engines cancel promptly (an interrupted waiter cancels again every
     * 20 ms until the call ends), but each step needs a thread that a loaded host may not run
     * for seconds: on this 2-CPU VM at load 47-110, reads on every engine took over 5 s, and an
     * IO_URING_SQPOLL polling thread was seen runnable but not run for 5-10 s (its schedstat
     * frozen) while its SQ filled with the waiter's cancels (docs/engines.md, "SQPOLL on a
     * loaded machine"). A lost cancel or wake-up never ends the read, and still fails here.
     */
    private static final long WAKE_BOUND_SECONDS = 60;

    @TempDir
    Path dir;

    private static FlexscRuntime runtime(Engine kind, CallPolicy policy) throws Exception {
        String why = TestSupport.unavailabilityCause(kind);
        if (why != null) System.out.println("skipped " + kind + ": " + why);
        Assumptions.assumeTrue(why == null, () -> kind + " unavailable: " + why);
        return FlexscRuntime.open(FlexscConfig.builder().engine(kind).policy(policy).build());
    }

    private Path fifo() throws Exception {
        Path f = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", f.toString()).inheritIO().start().waitFor());
        return f;
    }

    @FunctionalInterface
    private interface ChannelRead {
        void run() throws Exception;
    }

    /** What a reader blocked in {@code read} threw once {@code wake} ran, and its interrupt status. */
    private static Object[] blockedThen(On on, FlexscRuntime rt, ChannelRead read, Runnable wakeOf, Thread[] reader,
                                        String where) throws Exception {
        AtomicReference<Object[]> seen = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Runnable body = () -> {
            started.countDown();
            Throwable thrown = null;
            try {
                read.run();
            } catch (Throwable t) {
                thrown = t;
            }
            seen.set(new Object[] {thrown, Thread.currentThread().isInterrupted()});
        };
        Thread t = on == null ? Thread.ofPlatform().start(body) : on.start(rt, body);
        reader[0] = t;
        assertTrue(started.await(WAKE_BOUND_SECONDS, TimeUnit.SECONDS));
        Thread.sleep(300);
        assertNull(seen.get(), () -> "the read did not block: " + seen.get()[0]);
        long t0 = System.nanoTime();
        wakeOf.run();
        t.join(TimeUnit.SECONDS.toMillis(WAKE_BOUND_SECONDS));
        if (t.isAlive()) {
            StringBuilder at = new StringBuilder();
            for (StackTraceElement e : t.getStackTrace()) at.append("\n\tat ").append(e);
            fail(where + ": the blocked read was not woken within " + WAKE_BOUND_SECONDS + " s (" + engineState(rt)
                    + "); it is at:" + at);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if (ms > 1000) System.out.println(where + ": the blocked read took " + ms + " ms to end (a loaded host?)");
        return seen.get();
    }

    /** The io_uring engine's counters (cancels, calls in flight), for a failure's message. */
    private static String engineState(FlexscRuntime rt) {
        if (rt == null) return "the JDK's channel";
        return rt.engine() instanceof dev.flexsc.nativeimpl.uring.UringEngine u ? u.uringStats().toString() : rt.engine().toString();
    }

    /** How the blocked reader is woken, and what it must then throw and keep as interrupt status. */
    private enum How {
        CLOSE(AsynchronousCloseException.class, false), INTERRUPT(ClosedByInterruptException.class, true);

        final Class<?> thrown;
        final boolean interruptStatus;

        How(Class<?> thrown, boolean interruptStatus) {
            this.thrown = thrown;
            this.interruptStatus = interruptStatus;
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL"})
    @Timeout(600)
    void closeOrInterruptWakesAReadBlockedOnAFifo(Engine kind) throws Exception {
        Path fifo = fifo();
        Thread[] reader = new Thread[1];
        // The JDK, on a platform thread (READ and WRITE: O_RDWR, so open does not wait for a writer).
        try (FileChannel jdk = FileChannel.open(fifo, READ, WRITE)) {
            Object[] s = blockedThen(null, null, () -> jdk.read(ByteBuffer.allocate(16)), () -> close(jdk), reader, "JDK");
            assertEquals(AsynchronousCloseException.class, ((Throwable) s[0]).getClass());
        }
        try (FlexscRuntime rt = runtime(kind, CallPolicy.EXCEPTIONLESS)) {
            for (How how : How.values()) {
                for (On on : On.values()) {
                    for (boolean direct : new boolean[] {false, true}) {
                        FlexscFileChannel ch = FlexscFileChannel.open(rt.syscalls(), fifo, READ, WRITE);
                        ByteBuffer bb = direct ? ByteBuffer.allocateDirect(16) : ByteBuffer.allocate(16);
                        Runnable wake = how == How.CLOSE ? () -> close(ch) : () -> reader[0].interrupt();
                        String where = kind + " " + how + " " + on + (direct ? " direct" : " heap");
                        Object[] s = blockedThen(on, rt, () -> ch.read(bb), wake, reader, where);
                        assertNotNull(s[0], where + ": the read returned normally");
                        assertEquals(how.thrown, s[0].getClass(), where + ": " + s[0]);
                        assertEquals(how.interruptStatus, s[1], where + ": interrupt status");
                        assertFalse(ch.isOpen());
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL"})
    @Timeout(120)
    void aReadOfAFifoWaitsForItsData(Engine kind) throws Exception {
        Path fifo = fifo();
        for (CallPolicy policy : new CallPolicy[] {CallPolicy.EXCEPTIONLESS, CallPolicy.ADAPTIVE}) {
            try (FlexscRuntime rt = runtime(kind, policy)) {
                for (On on : On.values()) {
                    try (FlexscFileChannel ch = FlexscFileChannel.open(rt.syscalls(), fifo, READ, WRITE)) {
                        Thread w = Thread.ofPlatform().start(() -> {
                            try (FileChannel out = FileChannel.open(fifo, StandardOpenOption.WRITE)) {
                                Thread.sleep(200);
                                out.write(ByteBuffer.wrap("hi".getBytes()));
                            } catch (Exception x) {
                                throw new AssertionError(x);
                            }
                        });
                        ByteBuffer bb = ByteBuffer.allocate(8);
                        int n = on.run(rt, () -> ch.read(bb));
                        assertEquals(2, n, kind + " " + policy + " " + on);
                        w.join();
                    }
                }
            }
        }
    }

    private static void close(java.nio.channels.Channel ch) {
        try {
            ch.close();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
