package dev.flexsc;

/**
 * The arguments of the readiness calls: {@link Syscalls#poll} and {@link Syscalls#awaitReady}
 * events ({@code POLL*}, {@code <poll.h>}), {@link Syscalls#epollCreate1},
 * {@link Syscalls#epollCtl} and {@link Syscalls#epollWait} ({@code EPOLL*},
 * {@code <sys/epoll.h>}), and {@link Syscalls#eventfd2} ({@code EFD_*},
 * {@code <sys/eventfd.h>}); x86-64 values. {@code LinuxConstantsConformanceTest} checks every
 * value against the C library's headers.
 */
public final class PollFlags {
    private PollFlags() {}

    // ---- poll(2) events and revents ----
    /** Data to read (a listening socket: a connection to accept). */
    public static final int POLLIN = 0x001;
    /** Urgent data to read. */
    public static final int POLLPRI = 0x002;
    /** Writing will not block (a connecting socket: the connection finished, or failed). */
    public static final int POLLOUT = 0x004;
    /** (revents) An error condition. */
    public static final int POLLERR = 0x008;
    /** (revents) Hung up: the peer closed, or the socket was shut down both ways. */
    public static final int POLLHUP = 0x010;
    /** (revents) The descriptor is not open. */
    public static final int POLLNVAL = 0x020;
    /** The peer shut down its writing side. */
    public static final int POLLRDHUP = 0x2000;

    // ---- epoll_ctl(op) ----
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;

    // ---- epoll_create1(flags) ----
    public static final int EPOLL_CLOEXEC = 02000000;

    // ---- struct epoll_event.events (the readiness bits have poll's values) ----
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    /** Report once, then disable the descriptor until EPOLL_CTL_MOD re-arms it. */
    public static final int EPOLLONESHOT = 1 << 30;
    /** Edge-triggered. */
    public static final int EPOLLET = 1 << 31;

    // ---- eventfd2(flags) ----
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = 04000;
    public static final int EFD_CLOEXEC = 02000000;
}
