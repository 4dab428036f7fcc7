package dev.flexsc;

/**
 * The {@code flags} of {@link Syscalls#sendto}, {@link Syscalls#recvfrom},
 * {@link Syscalls#sendmsg} and {@link Syscalls#recvmsg} ({@code <sys/socket.h>}, x86-64
 * values). {@code LinuxConstantsConformanceTest} checks every value against the C library's
 * headers.
 */
public final class MsgFlags {
    private MsgFlags() {}

    /** Out-of-band data. */
    public static final int MSG_OOB = 0x1;
    /** recv: return the data without removing it from the queue. */
    public static final int MSG_PEEK = 0x2;
    /** send: do not route (local network only). */
    public static final int MSG_DONTROUTE = 0x4;
    /** recvmsg (output): control data was truncated. */
    public static final int MSG_CTRUNC = 0x8;
    /** recv: return the real length of a datagram even if it was longer than the buffer. */
    public static final int MSG_TRUNC = 0x20;
    /** Do not wait: fail with EAGAIN where the call would wait (this call only). */
    public static final int MSG_DONTWAIT = 0x40;
    /** send: end of a record (SOCK_SEQPACKET). */
    public static final int MSG_EOR = 0x80;
    /** recv: wait for the full length (a signal, an error or a disconnect may still cut it short). */
    public static final int MSG_WAITALL = 0x100;
    /** send: no SIGPIPE on a broken stream; the call fails with EPIPE only. */
    public static final int MSG_NOSIGNAL = 0x4000;
    /** send: more data follows (TCP: hold the segment, as TCP_CORK). */
    public static final int MSG_MORE = 0x8000;
    /** recvmsg: descriptors received with SCM_RIGHTS get close-on-exec. */
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
}
