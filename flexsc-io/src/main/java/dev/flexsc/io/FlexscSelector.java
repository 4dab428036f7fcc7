package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.CancelScope;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.util.AbstractSet;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import static dev.flexsc.PollFlags.*;

/**
 * A {@link Selector} over a level-triggered epoll set whose calls are FlexSC calls: the
 * selector's epoll descriptor and wake-up pipe are made with epoll_create1 and pipe2,
 * interest changes reach the set with epoll_ctl at the next selection operation, and a
 * selection reaps the ready list with {@code epoll_wait(timeout 0)}, which returns at once.
 * When nothing is ready and the operation may wait, it waits for the epoll descriptor's
 * readiness through the engine ({@link Readiness}: a green thread parks, its carrier runs
 * others), then reaps again.
 *
 * <p>Semantics as the JDK specifies them: the key set, the selected-key set (keys removed
 * by the application, never added), interest sets changed by any thread and applied at the
 * next selection, ready sets accumulated while a key stays selected (set afresh under
 * {@link #select(Consumer)}), cancelled keys removed at the start and the end of each
 * selection, {@link #wakeup()} before or during a selection, {@link #close()} while another
 * thread selects (it wakes that thread and waits for it), an interrupt that wakes the
 * selecting thread with its status left set.
 *
 * <p>A registration holds a reference on the channel's descriptor until the selector has
 * removed it from the epoll set, so a registered channel's descriptor is closed only after
 * the channel is closed and its key deregistered (the JDK defers the close alike).
 *
 * <p>Thread-safe as {@link Selector}: one thread selects at a time (others wait for the
 * selector's lock); registration, interest changes, cancel and wakeup from any thread.
 */
final class FlexscSelector extends AbstractSelector {
    /** Events reaped per epoll_wait, as the JDK's epoll selector. */
    static final int MAX_EVENTS = 1024;
    /** Bytes of one packed {@code struct epoll_event}: u32 events, u64 data. */
    private static final int EVENT_SIZE = 12;

    private final Syscalls sys;
    private final int epfd;
    /** The wake-up pipe, both ends O_NONBLOCK: wakeup() writes a byte, a selection drains it. */
    private final int wakeRead, wakeWrite;
    /** epoll_wait's output and epoll_ctl's input; used only under the selector's lock. */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events, ctlEvent, drain, oneByte;
    /** Cancels a selection's readiness wait when the selector closes. */
    private final CancelScope waits = new CancelScope();

    /** Every registered key; the application sees it through {@link #publicKeys}. */
    private final Set<SelectionKey> keys = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> publicKeys = Collections.unmodifiableSet(keys);
    /** Guarded by the lock of {@link #publicSelectedKeys}. */
    private final Set<SelectionKey> selectedKeys = new HashSet<>();
    private final Set<SelectionKey> publicSelectedKeys = new UngrowableSet(selectedKeys);

    /** Keys by descriptor number; only under the selector's lock. */
    private FlexscSelectionKey[] byFd = new FlexscSelectionKey[64];

    /** Keys whose interest set changed; guarded by itself. */
    private final ArrayDeque<FlexscSelectionKey> updates = new ArrayDeque<>();

    private final Object interruptLock = new Object();
    /** A wake-up byte is in the pipe (or the selector is closed); guarded by interruptLock. */
    private boolean interruptTriggered;

    /** True while a thread is inside a selection operation (an action may not select again). */
    private boolean inSelect;

    FlexscSelector(FlexscSelectorProvider provider, Syscalls sys) throws IOException {
        super(provider);
        this.sys = sys;
        int ep = sys.epollCreate1(EPOLL_CLOEXEC);
        int[] p;
        try {
            p = sys.pipe2(dev.flexsc.OpenFlags.O_NONBLOCK | dev.flexsc.OpenFlags.O_CLOEXEC);
        } catch (IOException e) {
            sys.close(ep);
            throw e;
        }
        this.epfd = ep;
        this.wakeRead = p[0];
        this.wakeWrite = p[1];
        this.events = arena.allocate((long) EVENT_SIZE * MAX_EVENTS, 8);
        this.ctlEvent = arena.allocate(EVENT_SIZE, 8);
        this.drain = arena.allocate(128);
        this.oneByte = arena.allocate(1);
        try {
            sys.epollCtl(epfd, EPOLL_CTL_ADD, wakeRead, EPOLLIN, wakeRead);
        } catch (IOException e) {
            closeQuietly(wakeRead, wakeWrite, epfd);
            arena.close();
            throw e;
        }
    }

    private void closeQuietly(int... fds) {
        for (int fd : fds) {
            try {
                sys.close(fd);
            } catch (IOException ignored) {
                // closing on an error path: the first error is the one reported
            }
        }
    }

    private void ensureOpen() {
        if (!isOpen()) throw new ClosedSelectorException();
    }

    @Override
    public Set<SelectionKey> keys() {
        ensureOpen();
        return publicKeys;
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        ensureOpen();
        return publicSelectedKeys;
    }

    // ---- selection ----

    @Override
    public int selectNow() throws IOException {
        return lockAndDoSelect(null, 0);
    }

    @Override
    public int select(long timeout) throws IOException {
        if (timeout < 0) throw new IllegalArgumentException("Negative timeout");
        return lockAndDoSelect(null, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select() throws IOException {
        return lockAndDoSelect(null, -1);
    }

    @Override
    public int select(Consumer<SelectionKey> action, long timeout) throws IOException {
        Objects.requireNonNull(action);
        if (timeout < 0) throw new IllegalArgumentException("Negative timeout");
        return lockAndDoSelect(action, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select(Consumer<SelectionKey> action) throws IOException {
        Objects.requireNonNull(action);
        return lockAndDoSelect(action, -1);
    }

    @Override
    public int selectNow(Consumer<SelectionKey> action) throws IOException {
        Objects.requireNonNull(action);
        return lockAndDoSelect(action, 0);
    }

    /** {@code timeout}: milliseconds, 0 = return at once, -1 = without bound. */
    private int lockAndDoSelect(Consumer<SelectionKey> action, long timeout) throws IOException {
        synchronized (this) {
            ensureOpen();
            if (inSelect) throw new IllegalStateException("select in progress");
            inSelect = true;
            try {
                synchronized (publicSelectedKeys) {
                    return doSelect(action, timeout);
                }
            } finally {
                inSelect = false;
            }
        }
    }

    private int doSelect(Consumer<SelectionKey> action, long timeout) throws IOException {
        boolean blocking = timeout != 0;
        processUpdateQueue();
        processDeregisterQueue();
        int n;
        if (blocking) begin(); // an interrupt of this thread calls wakeup()
        try {
            n = reap();
            if (n == 0 && blocking) n = waitAndReap(timeout);
        } finally {
            if (blocking) end();
        }
        processDeregisterQueue();
        return processEvents(n, action);
    }

    /** epoll_wait with timeout 0: the ready list as it is now. */
    private int reap() throws IOException {
        long r = sys.syscall(SyscallTable.EPOLL_WAIT, epfd, events.address(), MAX_EVENTS, 0, 0, 0);
        if (r == -Errno.EINTR) return 0;
        if (r < 0) throw new ErrnoException("epoll_wait(fd=" + epfd + ")", (int) -r);
        return (int) r;
    }

    /**
     * Nothing was ready: waits for the epoll descriptor's readiness through the engine, for
     * up to {@code timeout} ms (-1: without bound), then reaps. The ready list can be empty
     * again when reaped (a level-triggered event that stopped being true), so it waits again
     * for the time left; a wake-up, an interrupt or close ends the wait through the pipe.
     */
    private int waitAndReap(long timeout) throws IOException {
        long deadline = timeout < 0 ? 0 : System.nanoTime() + timeout * 1_000_000L;
        while (true) {
            int ms;
            if (timeout < 0) {
                ms = -1;
            } else {
                long left = deadline - System.nanoTime();
                if (left <= 0) return 0;
                ms = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (left + 999_999) / 1_000_000));
            }
            int ready = Readiness.await(sys, epfd, POLLIN, ms, waits);
            int n = reap();
            if (n > 0 || ready == Readiness.CANCELLED || !isOpen()) return n;
            if (ready == 0 && timeout >= 0 && deadline - System.nanoTime() <= 0) return 0;
        }
    }

    /** Applies the queued interest changes to the epoll set. */
    private void processUpdateQueue() throws IOException {
        synchronized (updates) {
            FlexscSelectionKey k;
            while ((k = updates.pollFirst()) != null) {
                k.queued = false;
                if (!k.isValid() || !k.holdsFd) continue;
                int fd = k.fd;
                FlexscSelectionKey prev = keyOf(fd);
                if (prev == null) {
                    putKey(fd, k);
                } else if (prev != k) {
                    continue; // cannot happen: a registration holds its descriptor until deregistered
                }
                int newEvents = k.fdChannel().translateInterestOps(k.interestOpsNoCheck());
                if (newEvents != k.registeredEvents) {
                    if (newEvents == 0) {
                        ctl(EPOLL_CTL_DEL, fd, 0);
                    } else {
                        ctl(k.registeredEvents == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, newEvents);
                    }
                    k.registeredEvents = newEvents;
                }
            }
        }
    }

    /** epoll_ctl; errors are ignored, as the JDK's selector ignores them (the key then never becomes ready). */
    private void ctl(int op, int fd, int ev) throws IOException {
        ctlEvent.set(ValueLayout.JAVA_INT, 0, ev);
        ctlEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, fd);
        sys.syscall(SyscallTable.EPOLL_CTL, epfd, op, fd, ctlEvent.address(), 0, 0);
    }

    private FlexscSelectionKey keyOf(int fd) {
        return fd < byFd.length ? byFd[fd] : null;
    }

    private void putKey(int fd, FlexscSelectionKey k) {
        if (fd >= byFd.length) byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        byFd[fd] = k;
    }

    /** Removes the cancelled keys: from the epoll set, the key sets and their channels. */
    private void processDeregisterQueue() throws IOException {
        Set<SelectionKey> cancelled = cancelledKeys();
        synchronized (cancelled) {
            if (cancelled.isEmpty()) return;
            Iterator<SelectionKey> i = cancelled.iterator();
            while (i.hasNext()) {
                FlexscSelectionKey k = (FlexscSelectionKey) i.next();
                i.remove();
                implDereg(k);
                selectedKeys.remove(k);
                keys.remove(k);
                deregister(k);
                release(k);
            }
        }
    }

    /** Out of the epoll set and the descriptor map. */
    private void implDereg(FlexscSelectionKey k) throws IOException {
        if (!k.holdsFd) return;
        if (keyOf(k.fd) == k) {
            byFd[k.fd] = null;
            if (k.registeredEvents != 0) {
                ctl(EPOLL_CTL_DEL, k.fd, 0);
                k.registeredEvents = 0;
            }
        }
    }

    /** Drops the registration's reference on the descriptor: a closed channel's descriptor may close now. */
    private static void release(FlexscSelectionKey k) {
        if (k.holdsFd) k.fdChannel().channelFd().release();
    }

    private int processEvents(int n, Consumer<SelectionKey> action) throws IOException {
        int updated = 0;
        boolean woken = false;
        for (int i = 0; i < n; i++) {
            long at = (long) i * EVENT_SIZE;
            int ev = events.get(ValueLayout.JAVA_INT, at);
            int fd = (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 4);
            if (fd == wakeRead) {
                woken = true;
                continue;
            }
            FlexscSelectionKey k = keyOf(fd);
            if (k == null || !k.isValid()) continue;
            updated += processReadyEvents(ev, k, action);
        }
        if (woken) clearWakeup();
        return updated;
    }

    /** The ready set of {@code k} for epoll events {@code ev}, as the JDK's selector computes it. */
    private int processReadyEvents(int ev, FlexscSelectionKey k, Consumer<SelectionKey> action) {
        if (action != null) {
            translate(k, ev, 0);
            if ((k.readyOpsNoCheck() & k.interestOpsNoCheck()) != 0) {
                action.accept(k);
                ensureOpen();
                return 1;
            }
            return 0;
        }
        if (selectedKeys.contains(k)) {
            int old = k.readyOpsNoCheck();
            return (translate(k, ev, old) & ~old) != 0 ? 1 : 0;
        }
        translate(k, ev, 0);
        if ((k.readyOpsNoCheck() & k.interestOpsNoCheck()) != 0) {
            selectedKeys.add(k);
            return 1;
        }
        return 0;
    }

    /** Sets and returns k's ready set: {@code initial} plus what {@code ev} means for its interest set. */
    private static int translate(FlexscSelectionKey k, int ev, int initial) {
        if ((ev & POLLNVAL) != 0) return k.readyOpsNoCheck(); // cannot happen: the descriptor is held open
        int interest = k.interestOpsNoCheck();
        int ops = (ev & (POLLERR | POLLHUP)) != 0 ? interest : initial | k.fdChannel().translateReadyOps(ev, interest);
        k.readyOps(ops);
        return ops;
    }

    // ---- wake-up ----

    @Override
    public Selector wakeup() {
        synchronized (interruptLock) {
            if (!interruptTriggered) {
                try {
                    long r = sys.syscall(SyscallTable.WRITE, wakeWrite, oneByte.address(), 1, 0, 0, 0);
                    // EAGAIN: the pipe is full, so the selection wakes anyway
                    if (r < 0 && r != -Errno.EAGAIN) {
                        throw new java.io.UncheckedIOException(new ErrnoException("write(wakeup pipe fd=" + wakeWrite + ")", (int) -r));
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                interruptTriggered = true;
            }
        }
        return this;
    }

    /** Empties the wake-up pipe; the next wakeup() writes again. */
    private void clearWakeup() throws IOException {
        synchronized (interruptLock) {
            long r;
            do {
                r = sys.syscall(SyscallTable.READ, wakeRead, drain.address(), drain.byteSize(), 0, 0, 0);
            } while (r == drain.byteSize());
            interruptTriggered = false;
        }
    }

    // ---- registration ----

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object att) {
        if (!(ch instanceof SelectableFd) || ch.provider() != provider()) throw new IllegalSelectorException();
        ensureOpen();
        FlexscSelectionKey k = new FlexscSelectionKey(ch, this);
        if (att != null) k.attach(att);
        keys.add(k);
        try {
            k.interestOps(ops);
        } catch (ClosedSelectorException e) {
            keys.remove(k);
            k.cancel();
            throw e;
        }
        return k;
    }

    /** Queues k for the next selection's epoll_ctl (any thread). */
    void queueUpdate(FlexscSelectionKey k) {
        ensureOpen();
        synchronized (updates) {
            if (!k.queued) {
                k.queued = true;
                updates.addLast(k);
            }
        }
    }

    // ---- close ----

    @Override
    protected void implCloseSelector() throws IOException {
        wakeup();
        waits.cancel();
        synchronized (this) {
            synchronized (interruptLock) {
                interruptTriggered = true; // no more writes into the pipe
            }
            synchronized (publicSelectedKeys) {
                for (Iterator<SelectionKey> i = keys.iterator(); i.hasNext(); ) {
                    FlexscSelectionKey k = (FlexscSelectionKey) i.next();
                    deregister(k);
                    release(k);
                    selectedKeys.remove(k);
                    i.remove();
                }
                synchronized (cancelledKeys()) {
                    cancelledKeys().clear(); // every one of them was in the key set
                }
            }
            Arrays.fill(byFd, null);
            IOException first = null;
            for (int fd : new int[] {epfd, wakeRead, wakeWrite}) {
                try {
                    sys.close(fd);
                } catch (IOException e) {
                    if (first == null) first = e;
                }
            }
            arena.close();
            if (first != null) throw first;
        }
    }

    @Override
    public String toString() {
        return "FlexscSelector[epfd=" + epfd + (isOpen() ? "" : ", closed") + "]";
    }

    /** A set the application may remove from, never add to (the selected-key set's contract). */
    private static final class UngrowableSet extends AbstractSet<SelectionKey> {
        private final Set<SelectionKey> s;

        UngrowableSet(Set<SelectionKey> s) {
            this.s = s;
        }

        @Override
        public int size() {
            return s.size();
        }

        @Override
        public boolean isEmpty() {
            return s.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return s.contains(o);
        }

        @Override
        public Object[] toArray() {
            return s.toArray();
        }

        @Override
        public <T> T[] toArray(T[] a) {
            return s.toArray(a);
        }

        @Override
        public Iterator<SelectionKey> iterator() {
            return s.iterator();
        }

        @Override
        public boolean remove(Object o) {
            return s.remove(o);
        }

        @Override
        public void clear() {
            s.clear();
        }

        @Override
        public boolean add(SelectionKey o) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean addAll(java.util.Collection<? extends SelectionKey> c) {
            throw new UnsupportedOperationException();
        }
    }
}
