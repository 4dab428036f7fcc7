package dev.flexsc.nativeimpl.uring;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.OpenFlags;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.StuckPage;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A read whose buffer page faults into a sleep (a userfaultfd page here; a mapped file on a
 * hung FUSE or NFS server in life) must stall that call alone: another platform thread's
 * pread and close() return. The read runs inline in the io_uring_enter that submits it,
 * holding that ring's lock while it sleeps in the fault; on IO_URING each platform thread
 * submits on a ring of its own (a carrier on its own ring), so only that ring waits. On
 * IO_URING_SQPOLL the engine's one SQ polling thread issues it, and every ring waits (the
 * disabled case). Found by the fault-injection soak (flexsc-bench,
 * Known.URING_INLINE_FAULT_STALLS_RING). Root only: unprivileged userfaultfd cannot catch
 * kernel-mode faults unless vm.unprivileged_userfaultfd=1.
 */
class UringStuckSubmitterTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void onIoUringAReadStuckInAPageFaultStallsOnlyItsRing() throws Exception {
        aReadStuckInAPageFaultStallsOnlyItself(Engine.IO_URING);
    }

    @Test
    @Timeout(60)
    @Disabled("issue 12: on IO_URING_SQPOLL every ring of the engine (the carriers' and the platform threads') is"
            + " attached to one SQ polling thread, which issues the read inline and sleeps in its fault: no other"
            + " call of the engine is submitted until the fault is resolved. IOSQE_ASYNC on every read would move"
            + " all reads to io-wq, the cost SQPOLL exists to avoid; the read's buffer cannot be told to fault")
    void onSqpollAReadStuckInAPageFaultStallsOnlyItself() throws Exception {
        aReadStuckInAPageFaultStallsOnlyItself(Engine.IO_URING_SQPOLL);
    }

    private void aReadStuckInAPageFaultStallsOnlyItself(Engine kind) throws Exception {
        TestSupport.assumeAvailable(kind);
        Path f = dir.resolve("data");
        Files.write(f, new byte[1 << 16]);
        try (Arena arena = Arena.ofShared();
             StuckPage page = StuckPage.openOrSkip();
             UringEngine e = UringEngine.open(kind, FlexscConfig.builder().engine(kind)
                     .policy(CallPolicy.EXCEPTIONLESS).closeTimeoutMillis(300).build())) {
            Syscalls s = e.syscalls();
            int fd = s.openat(Syscalls.AT_FDCWD, f.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
            Thread stuck = Thread.ofPlatform().start(() -> {
                try {
                    s.pread(fd, page.straddling(), 0); // sleeps in the fault on B
                } catch (Exception ignored) {
                    // its outcome is not the point
                }
            });
            Thread.sleep(300); // the stuck read is in the kernel
            MemorySegment mine = arena.allocate(4096);
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    s.pread(fd, mine, 0);
                } catch (Exception ignored) {
                    // only whether it returns matters
                }
            });
            boolean otherReturned = other.join(java.time.Duration.ofSeconds(3));
            Thread closer = Thread.ofPlatform().start(e::close);
            boolean closeReturned = closer.join(java.time.Duration.ofSeconds(3));
            boolean wasStuck = stuck.isAlive(); // the read did sleep in the fault all along

            // Let everything go: fill B, then wait for the threads.
            page.release();
            stuck.join(TimeUnit.SECONDS.toMillis(10));
            other.join(TimeUnit.SECONDS.toMillis(10));
            closer.join(TimeUnit.SECONDS.toMillis(10));
            DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
            assertTrue(wasStuck, "the read into the missing page returned before the page was filled");
            assertTrue(otherReturned, "another thread's pread on the same ring did not return within 3 s of a read"
                    + " stuck in a page fault");
            assertTrue(closeReturned, "close() did not return within 3 s (closeTimeoutMillis 300) of a read stuck in a"
                    + " page fault");
        }
    }
}
