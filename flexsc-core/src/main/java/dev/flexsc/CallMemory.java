package dev.flexsc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The rules for memory a call hands to the kernel, in one place: {@link Syscalls},
 * {@link SyscallBatch} and {@link FlexscMemory} apply them to every segment and path whose
 * address leaves Java (docs/io.md, "Buffers").
 *
 * <ol>
 * <li>A segment whose arena is closed throws {@link IllegalStateException}, one confined to
 *     another thread {@link WrongThreadException}: the JDK's own exceptions for those
 *     accesses, thrown before anything is submitted.</li>
 * <li>Used in place (zero-copy): native segments of a confined arena (only the caller can
 *     close it, and the caller is inside the call), of an automatic arena and of the global
 *     scope (direct and mapped {@code ByteBuffer}s included). The call sites keep such a
 *     segment reachable until the call has completed ({@code Reference.reachabilityFence}),
 *     so the garbage collector cannot free an automatic arena's memory under the kernel.</li>
 * <li>Through a copy FlexSC owns: heap segments, and native segments of a shared arena (or
 *     of any scope not known to be one of the above). Another thread may close a shared
 *     arena at any moment, and the JDK has no public way to hold one open across a call that
 *     is not a downcall: the kernel reads and writes the copy, which stays FlexSC's until the
 *     call completed; copying a read's result back then throws IllegalStateException if the
 *     arena was closed meanwhile. madvise, whose region cannot be copied, accepts a shared
 *     arena's region only for advice that never changes its contents
 *     ({@link #keepsContents}).</li>
 * <li>A call's temporaries (the copies, paths, small structs) are freed only after the
 *     engine returned the call, and an engine returns a call only once the kernel is done
 *     with it (docs/engines.md, "Calls in flight are waited for"). Memory whose call's fate
 *     is unknown (an engine's machinery failed after posting) is {@linkplain #quarantine
 *     quarantined}: never freed.</li>
 * <li>Paths: a String path is encoded as UTF-8, exactly; one that cannot be (a lone
 *     surrogate) or that holds NUL is refused with {@link IllegalArgumentException} before
 *     any call. Byte paths go to the kernel as given.</li>
 * </ol>
 *
 * <p>How kinds of arena are told apart: by the class of the segment's scope, compared with
 * the classes of the scopes this JDK gives a confined, an automatic and a global arena's
 * segments and a direct buffer's (read once at start-up from real segments, no class name
 * is assumed). Anything else is treated as closable by another thread. The in-place check
 * costs a few loads and compares per segment (docs/io.md has the measurement).
 */
final class CallMemory {
    private CallMemory() {}

    /** Scope classes whose segments only their owner thread, or nobody, can free while a call runs. */
    private static final Class<?> CONFINED, AUTOMATIC, GLOBAL, BUFFER;

    static {
        try (Arena a = Arena.ofConfined()) {
            CONFINED = a.allocate(1).scope().getClass();
        }
        AUTOMATIC = Arena.ofAuto().allocate(1).scope().getClass();
        GLOBAL = MemorySegment.NULL.scope().getClass();
        BUFFER = MemorySegment.ofBuffer(ByteBuffer.allocateDirect(1)).scope().getClass();
    }

    /** Memory whose call may still be running and whose completion nobody will see: kept for good. */
    private static final ConcurrentLinkedQueue<Object> QUARANTINE = new ConcurrentLinkedQueue<>();

    /** A buffer the kernel writes into: non-null and not read-only (IllegalArgumentException). */
    static void checkWritable(MemorySegment buf) {
        Objects.requireNonNull(buf, "buf");
        if (buf.isReadOnly()) throw new IllegalArgumentException("buffer is read-only");
    }

    /**
     * Applies rules 1 to 3 to {@code seg}, an argument of {@code call}.
     *
     * @return true if the kernel may use {@code seg} in place (keep it reachable until the
     *         call completed), false if the call must go through a copy FlexSC owns
     * @throws NullPointerException if {@code seg} is null
     * @throws IllegalStateException if its arena is closed
     * @throws WrongThreadException if it is confined to another thread
     */
    static boolean inPlace(MemorySegment seg, String call) {
        MemorySegment.Scope s = Objects.requireNonNull(seg, call).scope();
        if (!s.isAlive()) {
            throw new IllegalStateException(call + ": the segment's arena is already closed; nothing was submitted");
        }
        if (!seg.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException(call + ": the segment is confined to another thread ("
                    + "Arena.ofConfined() of a thread that is not this one); nothing was submitted");
        }
        if (!seg.isNative()) return false;
        Class<?> k = s.getClass();
        return k == CONFINED || k == AUTOMATIC || k == GLOBAL || k == BUFFER;
    }

    /**
     * Rules 1 and 2 again for a segment checked earlier (a batch's, at submit): it may have
     * been closed since, or be submitted from another thread.
     */
    static void recheck(MemorySegment seg, String call) {
        if (!seg.scope().isAlive()) {
            throw new IllegalStateException(call + ": the segment's arena was closed after the call was added;"
                    + " nothing was submitted");
        }
        if (!seg.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException(call + ": the segment is confined to another thread than the one"
                    + " submitting; nothing was submitted");
        }
    }

    /**
     * madvise advice that leaves a region's contents as they are (NORMAL, RANDOM, SEQUENTIAL,
     * WILLNEED, HUGEPAGE, NOHUGEPAGE, COLD, PAGEOUT, POPULATE_READ, POPULATE_WRITE): the
     * advice a shared arena's region may get, since madvise cannot work on a copy.
     */
    static boolean keepsContents(int advice) {
        return switch (advice) {
            case 0, 1, 2, 3, 14, 15, 20, 21, 22, 23 -> true;
            default -> false;
        };
    }

    /** A copy of {@code src} in {@code a} (at least one byte, so that its address is a real one). */
    static MemorySegment copyOf(Arena a, MemorySegment src) {
        MemorySegment tmp = a.allocate(Math.max(1, src.byteSize()), alignmentOf(src));
        MemorySegment.copy(src, 0, tmp, 0, src.byteSize());
        return tmp;
    }

    /** Room in {@code a} for what the kernel writes in place of {@code dst}. */
    static MemorySegment roomFor(Arena a, MemorySegment dst) {
        return a.allocate(Math.max(1, dst.byteSize()), alignmentOf(dst));
    }

    /** The largest alignment a copy may need to behave as the original does. */
    private static final long MAX_COPY_ALIGNMENT = 4096;

    /**
     * The alignment of a copy of {@code s}: its address's own, up to a page, at least 8. A copy
     * must keep the caller's alignment: O_DIRECT reads and writes fail with EINVAL on a buffer
     * that is not aligned to the device's logical block (512 bytes to a page).
     */
    private static long alignmentOf(MemorySegment s) {
        if (!s.isNative() || s.address() == 0) return 8;
        return Math.max(8, Math.min(MAX_COPY_ALIGNMENT, Long.lowestOneBit(s.address())));
    }

    /** Rule 4: keeps {@code memory} (an arena, segments) reachable and unfreed for good. */
    static void quarantine(Object memory) {
        if (memory != null) QUARANTINE.add(memory);
    }

    /** Memory quarantined so far (objects). */
    static int quarantined() {
        return QUARANTINE.size();
    }

    // ---- paths ----

    /**
     * {@code path} as the kernel gets it: its UTF-8 bytes, NUL-terminated, in {@code a}.
     *
     * @throws IllegalArgumentException if it holds NUL or a lone surrogate (no exact encoding)
     */
    static MemorySegment path(Arena a, String path, String call) {
        return cString(a, utf8(path, call));
    }

    /**
     * {@code path}'s bytes, NUL-terminated, in {@code a}.
     *
     * @throws IllegalArgumentException if it holds a NUL byte
     */
    static MemorySegment path(Arena a, byte[] path, String call) {
        Objects.requireNonNull(path, "path");
        for (byte b : path) {
            if (b == 0) throw new IllegalArgumentException(call + ": path contains a NUL byte");
        }
        return cString(a, path);
    }

    /** The exact UTF-8 bytes of {@code path}; ASCII without an encoder. */
    static byte[] utf8(String path, String call) {
        Objects.requireNonNull(path, "path");
        boolean ascii = true;
        for (int i = 0, n = path.length(); i < n; i++) {
            char c = path.charAt(i);
            if (c == 0) throw new IllegalArgumentException(call + ": path contains a NUL character: " + path);
            if (c < 0x80) continue;
            ascii = false;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(path.charAt(i + 1))) {
                i++; // a pair: one code point
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(String.format("%s(path=%s): the path holds a lone surrogate"
                        + " U+%04X at index %d, which has no UTF-8 encoding (it would reach the kernel as '?', another"
                        + " file); nothing was submitted. Pass the path's bytes instead", call, path, (int) c, i));
            }
        }
        return path.getBytes(ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    private static MemorySegment cString(Arena a, byte[] b) {
        MemorySegment m = a.allocate(b.length + 1L);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m; // allocate() zeroes: the last byte is the NUL
    }
}
