package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.ErrnoException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.flexsc.OpenFlags.*;
import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The rules for memory handed to the kernel (docs/io.md, "Buffers"), on the direct baseline
 * and on every engine that runs here, with every call posted: a segment whose arena is
 * closed throws IllegalStateException and another thread's confined segment
 * WrongThreadException, before anything is submitted; an automatic arena's segment stays
 * allocated until its call completed; a shared arena closed by another thread while the call
 * runs is never written by the kernel. The segments that may be written by mistake here are
 * views of memory the test maps and never frees, so a broken rule shows as a changed canary,
 * never as heap corruption.
 */
class BufferRulesTest {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int NR_MMAP = 9;
    private static final byte CANARY = (byte) 0xA5;

    enum Where { DIRECT, SYSCALL_THREADS, IO_URING, IO_URING_SQPOLL, KERNEL_MODULE }

    /** The calls of {@code w} and the engine to close (null for the direct baseline). */
    private record Calls(Syscalls sys, FlexscEngine engine) implements AutoCloseable {
        long submitted() {
            return engine == null ? 0 : engine.stats().submitted();
        }

        @Override
        public void close() {
            if (engine != null) engine.close();
        }
    }

    private static Calls open(Where w) throws Exception {
        if (w == Where.DIRECT) return new Calls(DirectSyscalls.syscalls(), null);
        Engine kind = Engine.valueOf(w.name());
        String why = TestSupport.unavailabilityCause(kind);
        if (why != null) System.out.println("skipped " + kind + ": " + why);
        Assumptions.assumeTrue(why == null, () -> kind + " unavailable: " + why);
        FlexscEngine e = Flexsc.open(FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build());
        return new Calls(e.syscalls(), e);
    }

    /** {@code len} bytes of mapped memory filled with the canary, never unmapped. */
    private static MemorySegment mapped(long len) {
        long addr = DirectSyscalls.raw(NR_MMAP, 0, len, 3, 0x22, -1, 0);
        assertTrue(addr > 0, "mmap: " + addr);
        MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(len);
        m.fill(CANARY);
        return m;
    }

    private static void assertCanary(MemorySegment m) {
        for (long i = 0; i < m.byteSize(); i++) {
            assertEquals(CANARY, m.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of memory the caller no longer owns was written");
        }
    }

    private static int devZero(Syscalls sys) throws Exception {
        return DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, "/dev/zero", O_RDONLY | O_CLOEXEC, 0);
    }

    @ParameterizedTest
    @EnumSource(Where.class)
    void aSegmentOfAClosedArenaThrowsIllegalStateBeforeAnythingIsSubmitted(Where w) throws Exception {
        try (Calls c = open(w)) {
            MemorySegment mem = mapped(4096);
            Arena arena = Arena.ofShared();
            MemorySegment buf = mem.reinterpret(arena, null); // closing the arena frees nothing
            arena.close();
            int zero = devZero(c.sys());
            try {
                long before = c.submitted();
                assertThrows(IllegalStateException.class, () -> c.sys().read(zero, buf));
                assertThrows(IllegalStateException.class, () -> c.sys().pread(zero, buf, 0));
                assertThrows(IllegalStateException.class, () -> c.sys().readv(zero, mem.asSlice(0, 8).reinterpret(0), buf));
                assertThrows(IllegalStateException.class, () -> c.sys().getrandom(buf, 0));
                assertThrows(IllegalStateException.class, () -> c.sys().write(zero, buf));
                try (SyscallBatch b = c.sys().batch()) {
                    assertThrows(IllegalStateException.class, () -> b.read(zero, buf));
                    assertThrows(IllegalStateException.class, () -> b.pwrite(zero, buf, 0));
                    assertEquals(0, b.size());
                }
                assertEquals(before, c.submitted(), "a call was submitted");
                assertCanary(mem);
            } finally {
                closeDirect(zero);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Where.class)
    void anotherThreadsConfinedSegmentThrowsWrongThread(Where w) throws Exception {
        try (Calls c = open(w); Arena mine = Arena.ofConfined()) {
            MemorySegment buf = mine.allocate(64);
            buf.fill(CANARY);
            int zero = devZero(c.sys());
            try {
                AtomicReference<Throwable> seen = new AtomicReference<>();
                AtomicReference<Throwable> seenBatch = new AtomicReference<>();
                Thread t = Thread.ofPlatform().start(() -> {
                    try {
                        c.sys().read(zero, buf);
                    } catch (Throwable x) {
                        seen.set(x);
                    }
                    try (SyscallBatch b = c.sys().batch()) {
                        b.read(zero, buf);
                    } catch (Throwable x) {
                        seenBatch.set(x);
                    }
                });
                t.join();
                assertInstanceOf(WrongThreadException.class, seen.get());
                assertInstanceOf(WrongThreadException.class, seenBatch.get());
                for (int i = 0; i < 64; i++) assertEquals(CANARY, buf.get(ValueLayout.JAVA_BYTE, i));
            } finally {
                closeDirect(zero);
            }
        }
    }

    /** Starts {@code call} on a platform thread; the result (or what it threw) lands in {@code out}. */
    private static Thread start(AtomicReference<Object> out, Callable<Object> call) {
        return StuckCallTest.caller(out, call);
    }

    /** An automatic arena's segment; {@code freed} is set once the GC has freed its memory. */
    private static MemorySegment tracked(AtomicBoolean freed) {
        MemorySegment buf = Arena.ofAuto().allocate(64);
        CLEANER.register(buf.scope(), () -> freed.set(true)); // runs as the arena's memory is freed
        return buf;
    }

    /**
     * Makes read(fd, segment) hot enough to be compiled: compiled code keeps a reference only
     * while it is used (the interpreter keeps every local), which is when a segment whose
     * address alone went to the kernel can be collected mid-call.
     */
    private static void warmUp(Syscalls sys) throws Exception {
        int zero = devZero(sys);
        try {
            MemorySegment small = Arena.ofAuto().allocate(8);
            for (int i = 0; i < 30_000; i++) sys.read(zero, small);
        } finally {
            closeDirect(zero);
        }
    }

    /** GC until {@code freed} or {@code millis} pass. */
    private static void collect(AtomicBoolean freed, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!freed.get() && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Where.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL", "KERNEL_MODULE"})
    @Timeout(60)
    void anAutomaticArenaStaysAllocatedUntilItsCallCompleted(Where w) throws Exception {
        try (Calls c = open(w)) {
            warmUp(c.sys());
            // The segment is only an argument: once read() has taken its address, nothing but
            // the call's own frame could keep it alive.
            assertStaysAllocatedWhileBlocked((fd, freed) -> () -> c.sys().read(fd, tracked(freed)));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Where.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL", "KERNEL_MODULE"})
    @Timeout(60)
    void aBatchKeepsItsAutomaticSegmentsUntilTheyAreReaped(Where w) throws Exception {
        try (Calls c = open(w)) {
            assertStaysAllocatedWhileBlocked((fd, freed) -> () -> {
                try (SyscallBatch b = c.sys().batch()) {
                    SyscallBatch.Result r = b.read(fd, tracked(freed)); // only the batch references it
                    b.submit();
                    return r.get();
                }
            });
        }
    }

    /** A read into an automatic arena's segment, given the pipe's read end and the flag its freeing sets. */
    @FunctionalInterface
    private interface TrackedRead {
        Callable<Object> on(int fd, AtomicBoolean freed);
    }

    /**
     * Starts {@code read} on an empty pipe, collects garbage while it is blocked, then
     * writes three bytes: the buffer must not have been freed before the read returned them.
     * If it was, the pipe is closed instead, so that nothing writes into freed memory.
     */
    private static void assertStaysAllocatedWhileBlocked(TrackedRead read) throws Exception {
        int[] p = pipe();
        try {
            AtomicBoolean freed = new AtomicBoolean();
            AtomicReference<Object> out = new AtomicReference<>();
            Thread t = start(out, read.on(p[0], freed)); // blocks: nobody writes yet
            Thread.sleep(200);
            assertNull(out.get(), "the read did not block");
            collect(freed, 1500);
            boolean freedInFlight = freed.get();
            if (freedInFlight) {
                closeDirect(p[1]); // end the read without writing into freed memory
                p[1] = -1;
            } else {
                assertEquals(3, DirectSyscalls.raw(1, p[1], TestSupport.bytes(Arena.global(), "abc").address(), 3, 0, 0, 0));
            }
            t.join(10_000);
            assertFalse(freedInFlight, "the GC freed the buffer of a read that was still in flight");
            assertEquals(3L, out.get());
        } finally {
            closeDirect(p[0]);
            if (p[1] >= 0) closeDirect(p[1]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Where.class, names = {"SYSCALL_THREADS", "IO_URING", "IO_URING_SQPOLL", "KERNEL_MODULE"})
    @Timeout(60)
    void aSharedArenaClosedByAnotherThreadDuringTheCallIsNeverWritten(Where w) throws Exception {
        try (Calls c = open(w)) {
            int[] p = pipe();
            try {
                MemorySegment mem = mapped(4096);
                Arena arena = Arena.ofShared();
                MemorySegment buf = mem.reinterpret(arena, null); // closing it frees nothing: a late write shows
                AtomicReference<Object> out = new AtomicReference<>();
                Thread t = start(out, () -> c.sys().read(p[0], buf));
                Thread.sleep(200);
                assertNull(out.get(), "the read did not block");
                arena.close(); // the JDK lets another thread close a shared arena at any time
                assertEquals(5, DirectSyscalls.raw(1, p[1], TestSupport.bytes(Arena.global(), "hello").address(), 5, 0, 0, 0));
                t.join(10_000);
                assertInstanceOf(IllegalStateException.class, out.get(),
                        "the data could not be delivered into a closed arena: " + out.get());
                assertCanary(mem);
            } finally {
                closeDirect(p[0]);
                closeDirect(p[1]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Where.class)
    void aBatchRefusesToSubmitASegmentClosedAfterItWasAdded(Where w) throws Exception {
        try (Calls c = open(w)) {
            MemorySegment mem = mapped(64);
            int zero = devZero(c.sys());
            try (SyscallBatch b = c.sys().batch()) {
                Arena arena = Arena.ofConfined();
                b.read(zero, mem.reinterpret(arena, null));
                arena.close();
                long before = c.submitted();
                assertThrows(IllegalStateException.class, b::submit);
                assertEquals(before, c.submitted(), "a call was submitted");
                assertCanary(mem);
            } finally {
                closeDirect(zero);
            }
        }
    }

    /**
     * A shared arena's segment goes through a copy; the copy keeps the segment's alignment, or
     * an O_DIRECT read into a page-aligned buffer would fail with EINVAL where the direct call
     * succeeds (seen in the cold-read study).
     */
    @ParameterizedTest
    @EnumSource(Where.class)
    void aCopiedSegmentKeepsItsAlignmentForODirect(Where w) throws Exception {
        Path file = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "odirect", ".dat");
        try (Calls c = open(w); Arena shared = Arena.ofShared()) {
            byte[] data = new byte[8192];
            for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7);
            Files.write(file, data);
            int fd;
            try {
                fd = DirectSyscalls.syscalls().openat(Syscalls.AT_FDCWD, file.toString(), O_RDONLY | O_DIRECT | O_CLOEXEC, 0);
            } catch (ErrnoException e) {
                Assumptions.assumeTrue(false, "O_DIRECT unsupported on " + file + ": " + e.getMessage());
                return;
            }
            try {
                MemorySegment buf = shared.allocate(4096, 4096);
                assertEquals(4096, c.sys().pread(fd, buf, 4096));
                for (int i = 0; i < 4096; i++) {
                    assertEquals(data[4096 + i], buf.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
                }
            } finally {
                closeDirect(fd);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
