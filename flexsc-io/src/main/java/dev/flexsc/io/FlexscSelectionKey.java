package dev.flexsc.io;

import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectionKey;

/**
 * A registration of a FlexSC channel with a {@link FlexscSelector}. The interest set may be
 * changed by any thread; the change is queued and reaches the selector's epoll set at its
 * next selection operation, as the JDK specifies. The ready set is written by the selecting
 * thread only.
 */
final class FlexscSelectionKey extends AbstractSelectionKey {
    private final SelectableChannel channel;
    private final SelectableFd fdChannel;
    private final FlexscSelector selector;

    /** Volatile: set by any thread, read by the selecting thread when it applies the update queue. */
    private volatile int interestOps;
    /** Volatile: written by the selecting thread, read by the application's threads. */
    private volatile int readyOps;

    // ---- the selector's, touched only by the thread that holds the selector's lock ----
    /** The descriptor number, valid while {@link #holdsFd}. */
    final int fd;
    /** True if the registration took a reference on the channel's descriptor (false: the channel was closing). */
    final boolean holdsFd;
    /** The poll events this key has in the epoll set (0: not in it). */
    int registeredEvents;
    /** True while the key sits in the selector's update queue (guarded by the queue's lock). */
    boolean queued;

    FlexscSelectionKey(SelectableChannel channel, FlexscSelector selector) {
        this.channel = channel;
        this.fdChannel = (SelectableFd) channel;
        this.selector = selector;
        ChannelFd cfd = fdChannel.channelFd();
        this.holdsFd = cfd.acquire();
        this.fd = cfd.fd();
    }

    SelectableFd fdChannel() {
        return fdChannel;
    }

    @Override
    public SelectableChannel channel() {
        return channel;
    }

    @Override
    public Selector selector() {
        return selector;
    }

    private void ensureValid() {
        if (!isValid()) throw new CancelledKeyException();
    }

    @Override
    public int interestOps() {
        ensureValid();
        return interestOps;
    }

    /** The interest set without the validity check, for the selector. */
    int interestOpsNoCheck() {
        return interestOps;
    }

    @Override
    public SelectionKey interestOps(int ops) {
        ensureValid();
        if ((ops & ~channel.validOps()) != 0) throw new IllegalArgumentException("Invalid interest ops");
        synchronized (this) {
            interestOps = ops;
        }
        selector.queueUpdate(this);
        return this;
    }

    @Override
    public int interestOpsOr(int ops) {
        ensureValid();
        if ((ops & ~channel.validOps()) != 0) throw new IllegalArgumentException("Invalid interest ops");
        int old;
        synchronized (this) {
            old = interestOps;
            interestOps = old | ops;
        }
        if ((old | ops) != old) selector.queueUpdate(this);
        return old;
    }

    @Override
    public int interestOpsAnd(int ops) {
        ensureValid();
        int old;
        synchronized (this) {
            old = interestOps;
            interestOps = old & ops;
        }
        if ((old & ops) != old) selector.queueUpdate(this);
        return old;
    }

    @Override
    public int readyOps() {
        ensureValid();
        return readyOps;
    }

    int readyOpsNoCheck() {
        return readyOps;
    }

    /** The selecting thread sets the ready set. */
    void readyOps(int ops) {
        readyOps = ops;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("channel=").append(channel).append(", selector=").append(selector);
        if (isValid()) {
            sb.append(", interestOps=").append(interestOps).append(", readyOps=").append(readyOps);
        } else {
            sb.append(", invalid");
        }
        return sb.toString();
    }
}
