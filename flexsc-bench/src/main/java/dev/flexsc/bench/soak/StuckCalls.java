package dev.flexsc.bench.soak;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls that stay in the kernel until the soak lets them go, and the resolver thread that
 * does so at a chosen time.
 *
 * <p><b>Stuck</b> (userfaultfd, where it works): a slot is two pages, A ordinary and B
 * registered missing. A read into the last half of A and the first half of B copies half
 * its bytes and then sleeps in the page fault on B; {@code madvise(B, MADV_POPULATE_WRITE)}
 * sleeps there too, and neither a signal nor io_uring's cancel ends that sleep, as on a hung
 * FUSE or NFS server. {@link #fill} copies B's content in and the calls go on. A slot whose
 * call returned before B was filled is checked after the fill: the kernel must not then
 * finish the copy into memory the caller got back.
 *
 * <p><b>Blocked</b>: a read of a fresh pipe that gets its data only when the resolver writes
 * it (or never, until the call is interrupted or its engine closed). The data written and
 * what the read returned are then checked against each other: nothing lost, nothing twice.
 *
 * <p>Where userfaultfd is refused, stuck calls become blocked calls; {@link #mechanism} says
 * which ran.
 */
final class StuckCalls implements AutoCloseable {
    static final int SLOTS = 128;
    /** The read's buffer: the last half of A and the first half of B. */
    static final int READ_LENGTH = (int) Sys.PAGE;
    private static final int HALF = (int) Sys.PAGE / 2;

    private final Ledger ledger;
    private final Uffd uffd;
    private final String unavailable;
    private final MemorySegment region;
    private final ConcurrentLinkedQueue<Slot> free = new ConcurrentLinkedQueue<>();
    private final DelayQueue<Task> due = new DelayQueue<>();
    private final Thread resolver;
    private final Arena arena = Arena.ofShared();
    /** What B holds once filled: FRESH where the read's buffer reaches, GUARD past it. */
    private final MemorySegment fillPage = arena.allocate(Sys.PAGE, Sys.PAGE);
    private volatile boolean stop;

    StuckCalls(Ledger ledger) {
        this.ledger = ledger;
        this.uffd = Uffd.open();
        this.unavailable = uffd == null ? Uffd.unavailableReason() : null;
        fillPage.asSlice(0, HALF).fill(GuardedBuffer.FRESH);
        fillPage.asSlice(HALF, GuardedBuffer.GUARD).fill(GuardedBuffer.GUARD_BYTE);
        fillPage.asSlice(HALF + GuardedBuffer.GUARD).fill((byte) 0x3C);
        if (uffd != null) {
            region = Sys.mmapAnon(SLOTS * 2 * Sys.PAGE);
            for (int i = 0; i < SLOTS; i++) {
                Slot s = new Slot(region.address() + i * 2 * Sys.PAGE);
                uffd.register(MemorySegment.ofAddress(s.b).reinterpret(Sys.PAGE));
                free.add(s);
            }
        } else {
            region = null;
        }
        resolver = Thread.ofPlatform().daemon().name("soak-resolver").start(this::resolveLoop);
    }

    /** "userfaultfd", or why pipes stand in for it. */
    String mechanism() {
        return uffd != null ? "userfaultfd" : "pipes (userfaultfd unavailable: " + unavailable + ")";
    }

    boolean hasUffd() {
        return uffd != null;
    }

    /** A free slot, or null if every slot is in use (then make another kind of call). */
    Slot takeSlot() {
        return uffd == null ? null : free.poll();
    }

    /** A fresh blocked pipe whose read gets {@code data} after {@code delayMillis} (never if negative, until released). */
    Blocked blocked(byte[] data, long delayMillis) {
        Blocked b = new Blocked(data, due);
        b.task = new Task(delayMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + delayMillis * 1_000_000L, b::write, true);
        due.add(b.task);
        ledger.fault(Ledger.Fault.BLOCKED_PIPE);
        return b;
    }

    /**
     * Runs every pending release now (fills every slot, writes every pipe not yet settled),
     * then waits until the audits those releases scheduled (due within 300 ms) have run.
     */
    void releaseAll() {
        for (Task t : due.toArray(new Task[0])) {
            if (t.release && due.remove(t)) t.action.run(); // drainTo would take only the expired ones
        }
        long auditsBy = System.nanoTime() + 300_000_000L;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline
                && java.util.Arrays.stream(due.toArray(new Task[0])).anyMatch(t -> !t.release && t.atNanos <= auditsBy)) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void resolveLoop() {
        while (!stop) {
            try {
                Task t = due.poll(100, TimeUnit.MILLISECONDS);
                if (t != null) t.action.run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                ledger.violation(Ledger.Count.ERRORS, "soak resolver: " + e);
            }
        }
    }

    @Override
    public void close() {
        stop = true;
        resolver.interrupt();
        if (uffd != null) uffd.close(); // any fault still waiting fails with EFAULT
        arena.close();
    }

    private static final class Task implements Delayed {
        final long atNanos;
        final Runnable action;
        /** A release (fill, pipe write), run early by releaseAll; else an audit, run at its time. */
        final boolean release;

        Task(long atNanos, Runnable action, boolean release) {
            this.atNanos = atNanos;
            this.action = action;
            this.release = release;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(atNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(atNanos, ((Task) o).atNanos);
        }
    }

    /**
     * Two pages of the userfaultfd region. States: armed (B missing) until {@link #fill};
     * the call's owner {@link #returned settles} it once.
     */
    final class Slot {
        final long a, b;
        private boolean filled, returned, returnedBeforeFill;
        private byte[] snapshot;
        private String by;

        Slot(long a) {
            this.a = a;
            this.b = a + Sys.PAGE;
        }

        /** The read's buffer, with A's first half as the guard before it; B stays untouched until filled. */
        MemorySegment armForRead() {
            MemorySegment pageA = MemorySegment.ofAddress(a).reinterpret(Sys.PAGE);
            pageA.asSlice(0, HALF).fill(GuardedBuffer.GUARD_BYTE);
            pageA.asSlice(HALF).fill(GuardedBuffer.FRESH);
            return MemorySegment.ofAddress(a + HALF).reinterpret(READ_LENGTH);
        }

        /** B alone, for madvise(MADV_POPULATE_WRITE). */
        MemorySegment pageB() {
            return MemorySegment.ofAddress(b).reinterpret(Sys.PAGE);
        }

        /** Lets the call go on after {@code delayMillis}. */
        void fillAfter(long delayMillis) {
            due.add(new Task(System.nanoTime() + delayMillis * 1_000_000L, this::fill, true));
        }

        private void fill() {
            boolean auditNow;
            synchronized (this) {
                if (filled) return;
                uffd.fill(b, fillPage);
                filled = true;
                auditNow = returned;
            }
            // A call that returned before the fill had its result taken from it: give a
            // late copy time to land, then look.
            if (auditNow) due.add(new Task(System.nanoTime() + 200_000_000L, this::auditAndFree, false));
        }

        /**
         * The call returned to its caller; {@code read} says whether it was the read (else the
         * populate). Returns whether B was filled by then: only then may the caller read the
         * buffer, and it must call {@link #done()} when it has (until then the slot is not
         * audited, so B cannot be made missing again under the caller's reads).
         */
        boolean returned(boolean read, String by) {
            synchronized (this) {
                returned = true;
                this.by = by;
                returnedBeforeFill = !filled;
                MemorySegment both = MemorySegment.ofAddress(a).reinterpret(filled ? 2 * Sys.PAGE : Sys.PAGE);
                snapshot = read ? both.toArray(ValueLayout.JAVA_BYTE) : null;
                return filled;
            }
        }

        /** The caller is done with the buffer: a slot filled before its call returned is audited, then freed. */
        void done() {
            boolean auditNow;
            synchronized (this) {
                auditNow = !returnedBeforeFill; // else the fill schedules the audit
            }
            if (auditNow) due.add(new Task(System.nanoTime() + Buffers.QUIET_NANOS, this::auditAndFree, false));
        }

        /** After the fill and a quiet time: nothing changed since the return; then the slot is free again. */
        private void auditAndFree() {
            if (snapshot != null) {
                MemorySegment pageA = MemorySegment.ofAddress(a).reinterpret(Sys.PAGE);
                byte[] nowA = pageA.toArray(ValueLayout.JAVA_BYTE);
                int i = java.util.Arrays.mismatch(nowA, 0, nowA.length, snapshot, 0, nowA.length);
                if (i >= 0) ledger.violation(Ledger.Count.LATE_WRITES, "byte " + (i - HALF) + " of the stuck read "
                        + by + " changed after it returned");
                MemorySegment pageB = pageB();
                if (returnedBeforeFill) {
                    long j = pageB.mismatch(fillPage);
                    if (j >= 0) ledger.violation(Ledger.Count.LATE_WRITES, "byte " + (HALF + j) + " of the buffer of "
                            + by + ", which returned before its page was filled, was written after the fill: the"
                            + " kernel finished the read into memory the caller had got back");
                } else {
                    byte[] nowB = pageB.toArray(ValueLayout.JAVA_BYTE);
                    int j = java.util.Arrays.mismatch(nowB, 0, nowB.length, snapshot, (int) Sys.PAGE, 2 * (int) Sys.PAGE);
                    if (j >= 0) ledger.violation(Ledger.Count.LATE_WRITES, "byte " + (HALF + j) + " of the stuck read "
                            + by + " changed after it returned");
                }
            }
            synchronized (this) {
                filled = returned = returnedBeforeFill = false;
                snapshot = null;
            }
            Uffd.rearm(b);
            free.add(this);
        }
    }

    /**
     * A pipe whose data the resolver writes at its time unless the reader {@link #settle settled}
     * first. States: PENDING, then WRITING and WRITTEN, or CANCELLED.
     */
    static final class Blocked {
        private static final int PENDING = 0, WRITING = 1, WRITTEN = 2, CANCELLED = 3;
        final int readFd, writeFd;
        final byte[] data;
        private final AtomicInteger state = new AtomicInteger(PENDING);
        private final DelayQueue<Task> due;
        private Task task;

        Blocked(byte[] data, DelayQueue<Task> due) {
            this.due = due;
            int[] p = Sys.pipe(0);
            this.readFd = p[0];
            this.writeFd = p[1];
            this.data = data;
        }

        private void write() {
            if (!state.compareAndSet(PENDING, WRITING)) return;
            long n = Sys.write(writeFd, data);
            state.set(WRITTEN);
            if (n != data.length) throw new IllegalStateException("pipe write: " + n + " of " + data.length);
        }

        /**
         * The reader returned, having read {@code got} (null if it failed): checks that the
         * bytes read and the bytes left in the pipe are exactly what was written (or nothing,
         * if the write was cancelled by this settle), then closes the pipe. Null if so, else
         * what is wrong.
         */
        String settle(byte[] got) {
            if (state.compareAndSet(PENDING, CANCELLED)) {
                due.remove(task);
            } else {
                while (state.get() == WRITING) Thread.onSpinWait();
            }
            boolean written = state.get() == WRITTEN;
            byte[] left = Sys.drain(readFd);
            Sys.close(readFd);
            Sys.close(writeFd);
            byte[] read = got == null ? new byte[0] : got;
            byte[] all = new byte[read.length + left.length];
            System.arraycopy(read, 0, all, 0, read.length);
            System.arraycopy(left, 0, all, read.length, left.length);
            byte[] expect = written ? data : new byte[0];
            if (!java.util.Arrays.equals(all, expect)) {
                return "the pipe's " + expect.length + " bytes came back as " + read.length + " read + " + left.length
                        + " left, not the same bytes";
            }
            return null;
        }
    }
}
