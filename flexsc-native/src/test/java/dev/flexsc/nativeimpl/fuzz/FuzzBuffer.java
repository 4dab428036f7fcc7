package dev.flexsc.nativeimpl.fuzz;

import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One buffer handed to a call, of one of the kinds of memory the buffer rules cover, with a
 * way to check afterwards that the kernel wrote nothing it should not have: guard bytes on
 * both sides of every buffer whose memory the test can read, and a canary in memory the
 * caller no longer owns (a closed arena's, whose pages the test keeps mapped so a stray
 * write shows instead of corrupting the heap).
 */
final class FuzzBuffer implements AutoCloseable {
    /** Kinds of memory (see docs/io.md, "Buffers"). */
    enum Kind {
        /** An Arena.ofConfined() of the calling thread: used in place. */
        CONFINED,
        /** An Arena.ofShared(): copied (another thread may close it). */
        SHARED,
        /** An Arena.ofAuto() the test keeps: used in place. */
        AUTO,
        /** An Arena.ofAuto() segment nothing but the call references: the GC may collect it the moment the call lets go. */
        AUTO_DROPPED,
        /** Mapped memory in the global scope: used in place. */
        GLOBAL,
        /** A heap array: copied. */
        HEAP,
        /** A read-only view: IllegalArgumentException for a read. */
        READ_ONLY,
        /** Zero bytes. */
        EMPTY,
        /** A closed arena's segment: IllegalStateException, and its canary must stay. */
        CLOSED,
        /** Confined to another thread: WrongThreadException, and its canary must stay. */
        FOREIGN,
        /** A segment of 2^31 bytes or more over one mapped page and a reserve without access. */
        HUGE
    }

    static final int GUARD = 32;
    static final byte GUARD_BYTE = (byte) 0x5A, CANARY = (byte) 0xC3;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int NR_MMAP = 9, NR_MUNMAP = 11, NR_MPROTECT = 10;

    final Kind kind;
    /** What the call gets. */
    final MemorySegment segment;
    /** The buffer with its guards (or the mapped memory behind a closed or foreign view); null for AUTO_DROPPED and HUGE. */
    private final MemorySegment whole;
    private final Arena arena;
    private final long mapAddr, mapLen;
    /** AUTO_DROPPED: when its memory was freed (the Cleaner's time), else 0. */
    private final AtomicLong freedAt;

    private FuzzBuffer(Kind kind, MemorySegment segment, MemorySegment whole, Arena arena, long mapAddr, long mapLen,
                       AtomicLong freedAt) {
        this.kind = kind;
        this.segment = segment;
        this.whole = whole;
        this.arena = arena;
        this.mapAddr = mapAddr;
        this.mapLen = mapLen;
        this.freedAt = freedAt;
    }

    /**
     * A buffer of {@code kind} and {@code size} bytes (HUGE: {@code hugeSize}) filled with
     * {@code fill}; {@code foreign} makes FOREIGN ones.
     */
    static FuzzBuffer make(Kind kind, int size, long hugeSize, byte fill, ForeignThread foreign) {
        switch (kind) {
            case CONFINED, SHARED, AUTO, READ_ONLY, EMPTY -> {
                int n = kind == Kind.EMPTY ? 0 : size;
                Arena a = kind == Kind.SHARED ? Arena.ofShared() : kind == Kind.AUTO ? Arena.ofAuto() : Arena.ofConfined();
                MemorySegment w = a.allocate(n + 2L * GUARD, 8);
                guarded(w, n, fill);
                MemorySegment s = w.asSlice(GUARD, n);
                return new FuzzBuffer(kind, kind == Kind.READ_ONLY ? s.asReadOnly() : s, w,
                        kind == Kind.AUTO ? null : a, 0, 0, null);
            }
            case HEAP -> {
                MemorySegment w = MemorySegment.ofArray(new byte[size + 2 * GUARD]);
                guarded(w, size, fill);
                return new FuzzBuffer(kind, w.asSlice(GUARD, size), w, null, 0, 0, null);
            }
            case AUTO_DROPPED -> {
                AtomicLong freed = new AtomicLong();
                MemorySegment s = Arena.ofAuto().allocate(Math.max(1, size), 8).asSlice(0, size);
                s.fill(fill);
                CLEANER.register(s.scope(), () -> freed.set(System.nanoTime())); // as the arena's memory is freed
                return new FuzzBuffer(kind, s, null, null, 0, 0, freed);
            }
            case GLOBAL, CLOSED, FOREIGN -> {
                long len = (size + 2L * GUARD + 4095) & ~4095L;
                long addr = DirectSyscalls.raw(NR_MMAP, 0, len, 3, 0x22, -1, 0);
                if (addr < 0) throw new IllegalStateException("mmap: " + addr);
                MemorySegment w = MemorySegment.ofAddress(addr).reinterpret(size + 2L * GUARD);
                MemorySegment view;
                if (kind == Kind.GLOBAL) {
                    guarded(w, size, fill);
                    view = w.asSlice(GUARD, size);
                } else {
                    w.fill(CANARY);
                    if (kind == Kind.CLOSED) {
                        Arena a = Arena.ofShared();
                        view = w.asSlice(GUARD, size).reinterpret(a, null); // closing frees nothing
                        a.close();
                    } else {
                        view = foreign.view(w.asSlice(GUARD, size));
                    }
                }
                return new FuzzBuffer(kind, view, w, null, addr, len, null);
            }
            case HUGE -> {
                long len = hugeSize + 4096;
                long addr = DirectSyscalls.raw(NR_MMAP, 0, len, 0, 0x22 | 0x4000 /* NORESERVE */, -1, 0);
                if (addr < 0) throw new IllegalStateException("mmap: " + addr);
                DirectSyscalls.raw(NR_MPROTECT, addr, 4096, 3, 0, 0, 0);
                MemorySegment s = MemorySegment.ofAddress(addr).reinterpret(hugeSize);
                s.asSlice(0, 4096).fill(fill);
                return new FuzzBuffer(kind, s, null, null, addr, len, null);
            }
            default -> throw new AssertionError(kind);
        }
    }

    private static void guarded(MemorySegment w, long size, byte fill) {
        w.asSlice(0, GUARD).fill(GUARD_BYTE);
        w.asSlice(GUARD, size).fill(fill);
        w.asSlice(GUARD + size, GUARD).fill(GUARD_BYTE);
    }

    /**
     * What the kernel must not have written, checked after the call: null if intact, else
     * where it was written.
     */
    String violation(long calledAt, long returnedAt) {
        if (kind == Kind.AUTO_DROPPED) {
            long f = freedAt.get();
            return f != 0 && f < returnedAt ? "an automatic arena's buffer was freed before its call returned" : null;
        }
        if (whole == null) return null;
        long n = whole.byteSize();
        if (kind == Kind.CLOSED || kind == Kind.FOREIGN) {
            for (long i = 0; i < n; i++) {
                if (whole.get(ValueLayout.JAVA_BYTE, i) != CANARY) return kind + " memory written at byte " + (i - GUARD);
            }
            return null;
        }
        for (long i = 0; i < GUARD; i++) {
            if (whole.get(ValueLayout.JAVA_BYTE, i) != GUARD_BYTE) return "guard before the buffer written at " + (i - GUARD);
            if (whole.get(ValueLayout.JAVA_BYTE, n - 1 - i) != GUARD_BYTE) return "guard after the buffer written at +" + (GUARD - 1 - i);
        }
        return null;
    }

    /** The first {@code max} bytes of the buffer as the caller sees them (what a read delivered), or null. */
    byte[] contents(long max) {
        if (kind == Kind.AUTO_DROPPED || kind == Kind.CLOSED || kind == Kind.FOREIGN) return null;
        long n = Math.min(max, Math.min(segment.byteSize(), 4096));
        if (n <= 0) return new byte[0];
        return segment.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            try {
                arena.close();
            } catch (WrongThreadException | IllegalStateException notOurs) {
                // a confined arena of another thread is that thread's to close
            }
        }
        if (mapLen > 0) DirectSyscalls.raw(NR_MUNMAP, mapAddr, mapLen, 0, 0, 0, 0);
    }

    /**
     * A platform thread that owns confined arenas for FOREIGN buffers: a segment confined to
     * it is another thread's for the fuzzer. Its arenas stay open until {@link #close()}.
     */
    static final class ForeignThread implements AutoCloseable {
        private final BlockingQueue<MemorySegment> in = new ArrayBlockingQueue<>(1);
        private final BlockingQueue<MemorySegment> out = new ArrayBlockingQueue<>(1);
        private final Thread thread;

        ForeignThread() {
            thread = Thread.ofPlatform().daemon().name("fuzz-foreign").start(() -> {
                try (Arena mine = Arena.ofConfined()) {
                    while (true) {
                        out.put(in.take().reinterpret(mine, null)); // confined to this thread
                    }
                } catch (InterruptedException closed) {
                    // close()
                }
            });
        }

        /** {@code memory} seen through an arena confined to this thread. */
        MemorySegment view(MemorySegment memory) {
            try {
                in.put(memory);
                return out.take();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            thread.interrupt();
        }
    }
}
