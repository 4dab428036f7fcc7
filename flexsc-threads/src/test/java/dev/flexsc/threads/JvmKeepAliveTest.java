package dev.flexsc.threads;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The keep-alive behind FlexscExecutors' pools: its holder thread and its unstarted-thread rule. */
class JvmKeepAliveTest {
    private static void waitUntil(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    /**
     * An unstarted thread that holds {@code k} (as the scheduler's factories wrap a task): it
     * says it started, counts {@code running} down, waits for {@code release}, and releases.
     */
    private static Thread heldThread(JvmKeepAlive k, CountDownLatch release, CountDownLatch running) {
        JvmKeepAlive.Hold[] hold = new JvmKeepAlive.Hold[1];
        Thread t = Thread.ofPlatform().daemon().unstarted(() -> {
            k.started(hold[0]);
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException ignored) {
                // ends the test thread
            } finally {
                k.release(hold[0]);
            }
        });
        hold[0] = k.acquire(t); // published to t by t.start()
        return t;
    }

    @Test
    @Timeout(30)
    void aNonDaemonHolderLivesExactlyWhileAHoldIsTaken() throws Exception {
        JvmKeepAlive k = new JvmKeepAlive();
        assertNull(k.holderThread());
        CountDownLatch release = new CountDownLatch(1);
        Thread t = heldThread(k, release, new CountDownLatch(1));
        Thread holder = k.holderThread();
        assertNotNull(holder);
        assertTrue(holder.isAlive(), "the holder must be alive when acquire returns");
        assertFalse(holder.isDaemon());
        assertEquals(JvmKeepAlive.HOLDER_NAME, holder.getName());
        t.start();
        Thread.sleep(JvmKeepAlive.UNSTARTED_GRACE_MILLIS + 200);
        assertEquals(1, k.held(), "a running thread lost its hold");
        release.countDown();
        assertTrue(holder.join(Duration.ofSeconds(10)), "the holder outlived the last hold");
        assertEquals(0, k.held());
        assertNull(k.holderThread());
    }

    @Test
    @Timeout(30)
    void anUnstartedThreadStopsHoldingAfterTheGraceAndHoldsAgainOnceItRuns() throws Exception {
        JvmKeepAlive k = new JvmKeepAlive();
        CountDownLatch release = new CountDownLatch(1), running = new CountDownLatch(1);
        Thread t = heldThread(k, release, running);
        Thread holder = k.holderThread();
        assertTrue(holder.join(Duration.ofMillis(JvmKeepAlive.UNSTARTED_GRACE_MILLIS + 5_000)),
                "an abandoned unstarted thread held the JVM past the grace period");
        assertEquals(0, k.held());
        t.start(); // started late after all
        assertTrue(running.await(10, TimeUnit.SECONDS));
        assertEquals(1, k.held(), "a thread started late does not hold the JVM");
        assertNotNull(k.holderThread());
        release.countDown();
        waitUntil(() -> k.held() == 0 && k.holderThread() == null, "the late thread released its hold");
    }

    @Test
    @Timeout(30)
    void aPoolHoldsWhileItsThreadsLiveAndClosingASchedulerReleasesItsThreads() throws Exception {
        try (FlexscScheduler s = FlexscScheduler.open(dev.flexsc.FlexscConfig.builder().userCpus(0).closeTimeoutMillis(200).build())) {
            ThreadFactory tf = s.threadFactory("held-", 0, true, null);
            ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2, tf);
            pool.submit(() -> {}).get(10, TimeUnit.SECONDS);
            assertEquals(1, s.keepAlive.held(), "one idle core thread holds the JVM");
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            waitUntil(() -> s.keepAlive.held() == 0, "the pool's ended thread released its hold");

            CountDownLatch never = new CountDownLatch(1);
            Thread stuck = tf.newThread(() -> {
                try {
                    never.await();
                } catch (InterruptedException ignored) {
                    // not expected: the scheduler abandons it
                }
            });
            stuck.start();
            waitUntil(() -> s.keepAlive.held() == 1, "the stuck thread holds");
            // close() abandons the stuck thread after closeTimeoutMillis and says so in a warning,
            // captured here rather than printed.
            java.util.logging.Logger log = java.util.logging.Logger.getLogger(FlexscScheduler.class.getName());
            List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.logging.Handler capture = new java.util.logging.Handler() {
                @Override
                public void publish(java.util.logging.LogRecord r) {
                    warnings.add(new java.util.logging.SimpleFormatter().formatMessage(r));
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
            };
            boolean parents = log.getUseParentHandlers();
            log.addHandler(capture);
            log.setUseParentHandlers(false);
            try {
                s.close();
            } finally {
                log.removeHandler(capture);
                log.setUseParentHandlers(parents);
            }
            assertTrue(warnings.stream().anyMatch(w -> w.contains("1 virtual thread(s) still alive")), warnings.toString());
            assertEquals(0, s.keepAlive.held(), "an abandoned thread still holds the JVM");
        }
    }

    @Test
    @Timeout(30)
    void aPoolMadeOnAVirtualThreadStartsItsHolderThere() throws Exception {
        JvmKeepAlive k = new JvmKeepAlive();
        CountDownLatch release = new CountDownLatch(1);
        Thread[] made = new Thread[2];
        Thread v = Thread.ofVirtual().start(() -> {
            made[0] = heldThread(k, release, new CountDownLatch(1)); // the holder starts on this virtual thread
            made[1] = k.holderThread();
        });
        v.join();
        assertNotNull(made[1]);
        assertFalse(made[1].isDaemon());
        assertFalse(made[1].isVirtual());
        made[0].start();
        release.countDown();
        assertTrue(made[1].join(Duration.ofSeconds(10)));
    }
}
