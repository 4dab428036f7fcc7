package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.FlexscConfig;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The carrier-local mode's data plane and the scheduler's side of it (a carrier's group as its
 * context, its sleep there, the wake-ups), against {@link LocalGroupsEngine}, a Java model of
 * the kernel module's WAIT with EXECUTE and WAKE_WAITERS, so that they run on every host; the
 * module itself runs the same scenarios in the guest ({@link ModuleCarrierTest}).
 */
class LocalGroupsTest {
    private static FlexscConfig schedulerConfig() {
        return FlexscConfig.builder().userCpus(0).policy(CallPolicy.EXCEPTIONLESS).build();
    }

    @Test
    @Timeout(120)
    void greenThreadsCallsRunOnTheirCarrierOnceEachWithTheirOwnResults() throws Exception {
        try (LocalGroupsEngine e = LocalGroupsEngine.open(); FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            long served0 = e.servedCalls();
            CarrierLocalScenarios.callsRunOnTheirCarrier(e, s, 64, TestSupport.scaled(500));
            assertTrue(e.servedCalls() > served0, "openat, which may block, went to the syscall thread");
        }
    }

    @Test
    @Timeout(300)
    void aCarrierAsleepInItsGroupIsWokenByOtherThreadsEveryTime() throws Exception {
        try (LocalGroupsEngine e = LocalGroupsEngine.open();
             FlexscScheduler s = FlexscScheduler.open(schedulerConfig(), CarrierLocalScenarios.SLEEP_AT_ONCE)) {
            CarrierLocalScenarios.wakeUpsOfASleepingCarrier(e, s, TestSupport.scaled(20_000));
        }
    }

    @Test
    @Timeout(60)
    void closingTheEngineWithCallsInFlightOnCarrierGroupsSettlesEveryCall() throws Exception {
        LocalGroupsEngine e = LocalGroupsEngine.open();
        try (FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            CarrierLocalScenarios.closeWithCallsInFlight(e, s, false);
        } finally {
            e.close();
        }
    }

    @Test
    @Timeout(60)
    void aCarrierGetsTheGroupOfItsOwnCpuOrNone() throws Exception {
        // Carrier groups 1 and 2 belong to CPUs 1 and 0: the carrier on CPU 0 gets group 2,
        // not the first free one.
        try (LocalGroupsEngine e = LocalGroupsEngine.open(CallPolicy.EXCEPTIONLESS, 1, 0);
             FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            getpids(e, s, 20);
            assertEquals(20, e.carrierPosted());
            assertEquals(2, e.groupRunBy(s.carrierArray()[0]), "the group of the carrier's CPU");
        }
        // No group for CPU 0: its carrier gets none, and its threads' calls go to the syscall thread.
        try (LocalGroupsEngine e = LocalGroupsEngine.open(CallPolicy.EXCEPTIONLESS, 1);
             FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            getpids(e, s, 20);
            assertEquals(0, e.carrierPosted());
            assertEquals(-1, e.groupRunBy(s.carrierArray()[0]), "the carrier ran a group of another CPU");
        }
    }

    @Test
    @Timeout(120)
    void batchesOfCallsThatDoNotBlockRunOnTheirCarrier() throws Exception {
        try (LocalGroupsEngine e = LocalGroupsEngine.open(); FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            CarrierLocalScenarios.batchesRunOnTheirCarrier(e, s, 4, TestSupport.scaled(200), 8);
        }
    }

    @Test
    @Timeout(60)
    void adaptiveFindsRoomInTheCarriersGroupWhenTheSyscallThreadsGroupIsFull() throws Exception {
        // The syscall thread's group full of reads it has not taken up yet (the model's
        // executor paused): ADAPTIVE's room check for a green thread's pread64, which goes to
        // its carrier's group, must look there and post it.
        try (LocalGroupsEngine e = LocalGroupsEngine.open(CallPolicy.ADAPTIVE, 0);
             FlexscScheduler s = FlexscScheduler.open(schedulerConfig())) {
            Syscalls sys = e.syscalls();
            Path f = Files.createTempFile("flexsc-room", ".bin");
            Files.write(f, new byte[64]);
            int fd = sys.openat(-100 /* AT_FDCWD */, f.toString(), 0 /* O_RDONLY */, 0);
            int[] p = TestSupport.pipe();
            List<Thread> readers = new ArrayList<>();
            try {
                e.pauseServe(true);
                long submitted0 = e.stats().submitted();
                int entries = e.entriesPerGroup();
                for (int i = 0; i < entries; i++) {
                    // Empty pipe: the read would wait, so ADAPTIVE posts it to the syscall thread.
                    readers.add(Thread.ofPlatform().daemon().start(() -> {
                        try {
                            sys.read(p[0], new byte[1]);
                        } catch (IOException x) {
                            throw new UncheckedIOException(x);
                        }
                    }));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (e.stats().submitted() - submitted0 < entries) {
                    assertTrue(System.nanoTime() < deadline, "the reads were not all posted");
                    Thread.sleep(1); // polls a condition
                }
                long local0 = e.carrierPosted();
                // A green thread starts eight more on its carrier, then makes its call: the
                // carrier has others to run, so ADAPTIVE asks whether to post it.
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                List<Thread> ts = new java.util.concurrent.CopyOnWriteArrayList<>();
                Runnable pread = () -> {
                    try {
                        assertEquals(8, sys.pread(fd, new byte[8], 0, 8, 8));
                    } catch (Throwable x) {
                        errors.add(x);
                    }
                };
                Thread first = s.startVirtualThread(() -> {
                    for (int t = 0; t < 8; t++) ts.add(s.startVirtualThread(pread));
                    pread.run();
                });
                assertTrue(first.join(Duration.ofSeconds(30)), "a pread never finished");
                for (Thread t : ts) assertTrue(t.join(Duration.ofSeconds(30)), "a pread never finished");
                assertTrue(errors.isEmpty(), () -> "" + errors.peek());
                assertTrue(e.carrierPosted() > local0, "no pread was posted: the room check looked at the full group");
                assertTrue(s.carrierArray()[0].policy().localPosts() > 0, "ADAPTIVE was not told of the local posts");
            } finally {
                assertEquals(e.entriesPerGroup(), sys.write(p[1], new byte[e.entriesPerGroup()])); // a byte per read
                e.pauseServe(false);
                for (Thread t : readers) assertTrue(t.join(Duration.ofSeconds(30)), "a read never finished");
                TestSupport.closeDirect(p);
                TestSupport.closeDirect(fd);
                Files.deleteIfExists(f);
            }
        }
    }

    /** One green thread of {@code s} makes {@code n} getpids through {@code e}. */
    private static void getpids(LocalGroupsEngine e, FlexscScheduler s, int n) throws Exception {
        Thread t = s.startVirtualThread(() -> {
            try {
                for (int i = 0; i < n; i++) assertEquals(CarrierLocalScenarios.PID, e.syscalls().getpid());
            } catch (java.io.IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        });
        assertTrue(t.join(java.time.Duration.ofSeconds(30)), "the calls never completed");
    }
}
