package dev.flexsc.threads;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.OpenFlags;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.StuckPage;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.nativeimpl.uring.UringEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * 600 green threads on two carriers post reads on their carriers' SQPOLL rings at once, each
 * ring opened by a green thread, while a read sleeps in a page fault (a userfaultfd page
 * here; a hung FUSE or NFS server in life). Where the SQ polling thread issues that read
 * inline it stops consuming SQEs, and every ring attached to it fills up. A green thread that
 * finds the SQ full must wait for room without leaving its carrier in the middle of writing
 * into that carrier's ring: one resumed on another carrier (a steal) that went on writing the
 * first carrier's ring would make two OS threads producers of one SQ and consumers of one CQ
 * (SQEs overwritten, request slots given twice: calls that never complete or complete with
 * another call's data, a corrupted C heap). The same holds for a green thread that blocks
 * while it sets up its carrier's ring (a contended monitor unmounts it). Every read must
 * return its own block once the fault is resolved. Root only (userfaultfd catching
 * kernel-mode faults), skipped with the reason elsewhere.
 */
class UringFullSqTest {
    /** Green threads posting while the SQ is full: several SQs' worth (one page: 64 SQEs). */
    private static final int READERS = 600;
    private static final int BLOCK = 64;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void greenThreadsWaitingForRoomInAFullSqStayOnTheirCarrier() throws Exception {
        Engine kind = Engine.IO_URING_SQPOLL;
        TestSupport.assumeAvailable(kind);
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two CPUs (two carriers to steal between)");
        Path f = dir.resolve("data");
        byte[] content = new byte[READERS * BLOCK];
        for (int i = 0; i < content.length; i++) content[i] = (byte) (i / BLOCK * 7 + i);
        Files.write(f, content);
        FlexscConfig cfg = FlexscConfig.builder().engine(kind).pages(1).userCpus(0, 1)
                .policy(CallPolicy.EXCEPTIONLESS).closeTimeoutMillis(300).build();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        try (StuckPage page = StuckPage.openOrSkip();
             UringEngine e = (UringEngine) Flexsc.open(cfg);
             FlexscScheduler s = FlexscScheduler.open(cfg)) {
            Syscalls sys = e.syscalls();
            int fd = sys.openat(Syscalls.AT_FDCWD, f.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
            // The SQ polling thread issues this read inline and sleeps in the fault on page B.
            Thread stuck = Thread.ofPlatform().daemon().start(() -> {
                try {
                    sys.pread(fd, page.straddling(), 0);
                } catch (Exception ignored) {
                    // its outcome is not the point
                }
            });
            Thread.sleep(300);
            List<Thread> readers = new ArrayList<>();
            for (int i = 0; i < READERS; i++) {
                int k = i;
                readers.add(s.startVirtualThread(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment b = a.allocate(BLOCK);
                        long n = sys.pread(fd, b, (long) k * BLOCK);
                        byte[] got = b.toArray(ValueLayout.JAVA_BYTE);
                        byte[] want = java.util.Arrays.copyOfRange(content, k * BLOCK, (k + 1) * BLOCK);
                        if (n != BLOCK || !java.util.Arrays.equals(got, want)) {
                            wrong.add("reader " + k + ": " + n + " bytes, " + (java.util.Arrays.equals(got, want) ? "its block" : "not its block"));
                        }
                    } catch (Throwable t) {
                        wrong.add("reader " + k + ": " + t);
                    }
                }));
            }
            // The readers fill the SQ where the polling thread stalls, and wait for room. Whether it
            // stalls depends on where the kernel runs the faulting read (inline in the polling
            // thread, or on io-wq): the count of looks at a full SQ is printed, not required; the
            // readers' results are.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (e.uringStats().sqFullWaits() < READERS && System.nanoTime() < until) Thread.sleep(10);
            long fullWaits = e.uringStats().sqFullWaits();
            boolean wasStuck = stuck.isAlive();

            page.release();
            stuck.join(TimeUnit.SECONDS.toMillis(20));
            int alive = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (Thread t : readers) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (t.isAlive()) alive++;
            }
            DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
            assertTrue(wasStuck, "the read into the missing page returned before the page was filled");
            System.out.printf("full SQ: %d looks at a full SQ by %d readers, all returned their own block%n", fullWaits, READERS);
            assertEquals(0, alive, alive + " of " + READERS + " readers never returned; wrong: " + wrong);
            assertTrue(wrong.isEmpty(), wrong.size() + " readers got a wrong result: " + wrong.stream().limit(10).toList());
            assertEquals(0, s.carrierErrors(), "the carriers' machinery failed");
        }
    }
}
