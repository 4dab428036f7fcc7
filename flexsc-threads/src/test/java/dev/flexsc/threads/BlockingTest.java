package dev.flexsc.threads;

import dev.flexsc.Syscalls;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.*;
import dev.flexsc.nativeimpl.TestSupport;

/** JDK blocking inside FlexSC threads, mixed with FlexSC calls; interrupting a blocked FlexSC call. */
class BlockingTest {
    private static final long PID = ProcessHandle.current().pid();
    private static FlexscRuntime rt;

    @BeforeAll
    static void open() throws IOException {
        rt = FlexscRuntime.open(TestSupport.config());
    }

    @AfterAll
    static void close() {
        rt.close();
    }

    /** Runs n copies of body on FlexSC threads; fails with the first error; checks they ran on our carriers. */
    private static void onGreenThreads(int n, ThrowingRunnable body) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
            for (int i = 0; i < n; i++) {
                ex.execute(() -> {
                    try {
                        assertTrue(rt.scheduler().isCarrierOfCurrentThread(), "not on a FlexSC carrier");
                        body.run();
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
            }
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " thread(s) failed", errors.peek());
            throw e;
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    @Timeout(30)
    void reentrantLockMutualExclusionWithCallsInsideTheCriticalSection() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        long[] counter = new long[1];
        AtomicInteger inside = new AtomicInteger();
        Syscalls s = rt.syscalls();
        onGreenThreads(200, () -> {
            for (int i = 0; i < 50; i++) {
                lock.lock();
                try {
                    assertEquals(1, inside.incrementAndGet(), "two threads inside the lock");
                    assertEquals(PID, s.getpid()); // parks while holding the lock
                    counter[0]++;
                    inside.decrementAndGet();
                } finally {
                    lock.unlock();
                }
            }
        });
        assertEquals(200 * 50, counter[0]);
    }

    /**
     * 1,600 strict hand-offs, each a notifyAll, a virtual thread unblocked through the JDK and
     * a carrier woken: 1.4 s on a quiet machine, 2 s at load 28, but about 50 s while two
     * CPU-bound processes (stress-ng --cpu 2) share the two CPUs, where every wake-up waits
     * for a time slice (no turn stalled for 5 s there: slow, not lost). The timeout guards
     * against a hang, not the pace.
     */
    @Test
    @Timeout(180)
    void synchronizedAndWaitNotify() throws Exception {
        Object monitor = new Object();
        int[] turn = new int[1];
        Syscalls s = rt.syscalls();
        int threads = 8, rounds = 200;
        // Threads take turns strictly: thread k waits until turn % threads == k.
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
            for (int k = 0; k < threads; k++) {
                int me = k;
                ex.execute(() -> {
                    try {
                        for (int r = 0; r < rounds; r++) {
                            synchronized (monitor) {
                                while (turn[0] % threads != me) monitor.wait();
                                assertEquals(PID, s.getpid()); // a FlexSC call inside synchronized
                                turn[0]++;
                                monitor.notifyAll();
                            }
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
            }
        }
        assertTrue(errors.isEmpty(), () -> "first: " + errors.peek());
        assertEquals(threads * rounds, turn[0]);
    }

    @Test
    @Timeout(30)
    void sleepWakesUpOnTime() throws Exception {
        AtomicInteger late = new AtomicInteger();
        onGreenThreads(1000, () -> {
            long t0 = System.nanoTime();
            Thread.sleep(20);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 20, "woke early: " + ms + " ms");
            if (ms > 2000) late.incrementAndGet();
            assertEquals(PID, rt.syscalls().getpid());
        });
        assertEquals(0, late.get(), "sleeps overslept by seconds");
    }

    @Test
    @Timeout(30)
    void blockingQueueProducersAndConsumers() throws Exception {
        BlockingQueue<Integer> q = new ArrayBlockingQueue<>(4); // small: both sides block
        AtomicInteger sum = new AtomicInteger();
        int producers = 20, each = 500;
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        try (ExecutorService ex = Executors.newThreadPerTaskExecutor(rt.threadFactory())) {
            for (int p = 0; p < producers; p++) {
                ex.execute(() -> {
                    try {
                        for (int i = 1; i <= each; i++) q.put(i);
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
                ex.execute(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            sum.addAndGet(q.take());
                            if (i % 100 == 0) rt.syscalls().getpid();
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
            }
        }
        assertTrue(errors.isEmpty(), () -> "first: " + errors.peek());
        assertEquals(producers * (each * (each + 1) / 2), sum.get());
    }

    @Test
    @Timeout(30)
    void completableFutureJoinAcrossSchedulers() throws Exception {
        onGreenThreads(100, () -> {
            // Completed by a platform thread of the common pool: the unpark comes from outside.
            CompletableFuture<Long> f = CompletableFuture.supplyAsync(() -> {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return 42L;
            });
            assertEquals(PID, rt.syscalls().getpid());
            assertEquals(42L, f.join());
        });
    }

    @Test
    @Timeout(30)
    void jdkSocketIoOnLoopback() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress())) {
            int clients = 50;
            CountDownLatch served = new CountDownLatch(clients);
            Thread acceptor = rt.threadFactory().newThread(() -> {
                List<Thread> handlers = new ArrayList<>();
                try {
                    for (int i = 0; i < clients; i++) {
                        Socket c = server.accept(); // JDK blocking accept on a FlexSC thread
                        Thread h = rt.threadFactory().newThread(() -> {
                            try (c; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
                                byte[] buf = new byte[256];
                                int n;
                                while ((n = in.read(buf)) > 0) out.write(buf, 0, n); // echo
                            } catch (IOException e) {
                                throw new AssertionError(e);
                            }
                            served.countDown();
                        });
                        h.start();
                        handlers.add(h);
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            acceptor.start();
            onGreenThreads(clients, () -> {
                try (Socket s = new Socket(server.getInetAddress(), server.getLocalPort())) {
                    OutputStream out = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    for (int i = 0; i < 20; i++) {
                        byte[] msg = ("msg-" + i + "-" + Thread.currentThread().threadId()).getBytes();
                        out.write(msg);
                        byte[] got = in.readNBytes(msg.length);
                        assertArrayEquals(msg, got);
                        assertEquals(PID, rt.syscalls().getpid());
                    }
                }
            });
            assertTrue(served.await(10, TimeUnit.SECONDS));
            acceptor.join(5000);
            assertFalse(acceptor.isAlive());
        }
    }

    @Test
    @Timeout(30)
    void interruptCancelsAReadBlockedOnAnEmptyPipe() throws Exception {
        int[] p = TestSupport.pipe();
        try {
            BlockedCalls.assertInterruptCancels(rt.threadFactory(), "read", () -> rt.syscalls().read(p[0], new byte[16]));
            // The pipe and the engine still work afterwards.
            int[] q = p;
            Thread after = rt.scheduler().startVirtualThread(() -> {
                try {
                    assertEquals(1, rt.syscalls().write(q[1], new byte[] {7}));
                    byte[] b = new byte[1];
                    assertEquals(1, rt.syscalls().read(q[0], b));
                    assertEquals(7, b[0]);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            after.join(5000);
            assertFalse(after.isAlive());
        } finally {
            TestSupport.closeDirect(p);
        }
    }

    @Test
    @Timeout(30)
    void anInterruptedThreadsNonBlockingCallCompletesAndKeepsTheInterrupt() throws Exception {
        long[] pid = new long[1];
        boolean[] kept = new boolean[1];
        Thread t = rt.scheduler().startVirtualThread(() -> {
            Thread.currentThread().interrupt();
            try {
                pid[0] = rt.syscalls().getpid(); // not a blocking call: completes first
            } catch (IOException e) {
                pid[0] = -1;
            }
            kept[0] = Thread.currentThread().isInterrupted();
        });
        t.join(5000);
        assertEquals(PID, pid[0]);
        assertTrue(kept[0]);
    }
}
