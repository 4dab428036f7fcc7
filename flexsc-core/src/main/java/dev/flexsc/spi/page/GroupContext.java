package dev.flexsc.spi.page;

import dev.flexsc.spi.CarrierContext;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * One carrier's group of a page engine ({@link CarrierGroups}): the carrier's green threads
 * post their calls into it without waking anybody and park; the carrier runs them in its
 * own kernel entry ({@link LocalExecution#executeAndWait}) when it polls, and when it has
 * nothing to run it makes the same entry with a timeout: the batch runs, then the carrier
 * sleeps there until done_seq moves (a call the group's syscall threads took, because it
 * may block, completed) or another thread wakes it ({@link #wake()}). It then fires the
 * settled calls and unparks their owners from its own thread, onto its own run queue.
 *
 * <p>Confined to the carrier's OS thread (the carrier, or a green thread mounted on it in
 * {@link #add}), except {@link #wake()} and {@link #requestClose()}.
 *
 * <p>No lost wake-up: a waker stores {@link #wakeWanted} (volatile), then makes the module
 * bump done_seq and wake the group's WAIT sleepers ({@link ExecutorControl#wakeCallers}); the
 * carrier reads done_seq (acquire), then {@link #wakeWanted} (volatile), and sleeps only
 * while done_seq still reads what it read. Either it sees the flag, or the bump comes after
 * its read of done_seq and the kernel does not let it sleep (or wakes it).
 */
final class GroupContext implements CarrierContext {
    private static final VarHandle WAKE_WANTED;

    static {
        try {
            WAKE_WANTED = MethodHandles.lookup().findVarHandle(GroupContext.class, "wakeWanted", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PageEngine engine;
    private final CarrierGroups owner;
    private final LocalExecution local;
    private final int group;
    /** The calls posted here and not yet fired (carrier-private). */
    private GroupPendingCall[] calls = new GroupPendingCall[64];
    private int count;
    /** Calls posted since the last kernel entry (carrier-private): the next poll runs them. */
    private int unrun;
    private boolean closed;
    /** Set by a waker before its wake-up (see the class comment); cleared by the carrier. */
    @SuppressWarnings("unused")
    private volatile boolean wakeWanted;
    private volatile boolean closeRequested;

    GroupContext(PageEngine engine, CarrierGroups owner, LocalExecution local, int group) {
        this.engine = engine;
        this.owner = owner;
        this.local = local;
        this.group = group;
    }

    /** The group lent to this carrier. */
    int group() {
        return group;
    }

    /** Green thread mounted on the carrier: its call, posted in this group, waits here until fired. */
    void add(GroupPendingCall call) {
        if (count == calls.length) calls = Arrays.copyOf(calls, count * 2);
        calls[count++] = call;
        unrun++;
    }

    @Override
    public int poll() {
        if (closed) return 0;
        if (unrun > 0) enter(0, 0);
        return reap();
    }

    @Override
    public boolean hasCalls() {
        return count > 0;
    }

    @Override
    public int idle(long timeoutNanos) {
        if (closed) return 0;
        int seq = engine.waiters().doneSeq(group); // acquire; before the flag (class comment)
        if (!(boolean) WAKE_WANTED.getAndSet(this, false)) enter(seq, timeoutNanos);
        return reap();
    }

    /** One kernel entry: runs the group's pending entries, sleeps up to {@code timeoutNanos}. */
    private void enter(int seq, long timeoutNanos) {
        unrun = 0;
        if (engine.pages().isStopped()) return; // volatile: no ioctl once the executors are stopped
        engine.carrierEntered(local.executeAndWait(group, seq, timeoutNanos));
    }

    /** Fires the settled calls and unparks their owners; returns how many. */
    private int reap() {
        int fired = 0, w = 0;
        GroupPendingCall[] c = calls;
        for (int r = 0; r < count; r++) {
            GroupPendingCall p = c[r];
            if (p.isSettled()) { // acquire load of the entry's status (or the stop)
                p.fire(); // release: the owner that reads FIRED sees the status
                LockSupport.unpark(p.owner()); // from the carrier's thread: onto its own queue
                fired++;
            } else {
                c[w++] = p;
            }
        }
        for (int r = w; r < count; r++) c[r] = null;
        count = w;
        if (count == 0 && (closeRequested || engine.closing())) release();
        return fired;
    }

    @Override
    public void wake() {
        if (closed) return; // a racy read: a wake-up of a closed context is only lost effort
        wakeWanted = true; // volatile, before the module's bump (class comment)
        if (engine.pages().isStopped()) return; // the stop woke every sleeper
        engine.waiters().wakeGroup(group);
    }

    @Override
    public int wakeFd() {
        return -1;
    }

    /**
     * Nothing: this group completes calls in the carrier's own kernel entries, and the ones
     * its syscall threads took end the carrier's sleep only here. A carrier with another
     * context sleeps with a short timeout (see the scheduler's idle).
     */
    @Override
    public void notifyOn(int fd) {
    }

    @Override
    public boolean notifies() {
        return false;
    }

    @Override
    public void requestClose() {
        closeRequested = true;
        wake();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * The carrier stops: runs what its threads posted, cancels the calls that may block, and
     * waits up to {@code timeoutNanos} for the rest. Calls still in flight then belong to
     * threads that never run again; their entries stay taken.
     */
    @Override
    public void close(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (!closed && count > 0 && System.nanoTime() - deadline < 0) {
            for (int i = 0; i < count; i++) if (calls[i].mayBlock()) calls[i].cancel();
            if (engine.pages().isStopped()) {
                reap();
            } else {
                enter(engine.waiters().doneSeq(group), 1_000_000L);
                reap();
            }
        }
        release();
    }

    private void release() {
        if (closed) return;
        closed = true;
        owner.giveBack(group);
    }
}
