package dev.flexsc.nativeimpl.uring;

/**
 * The io_uring ABI as this package uses it (x86-64, {@code <linux/io_uring.h>}): struct
 * layouts, opcodes, flags. The one place that knows an io_uring offset; the system call
 * numbers are in {@link dev.flexsc.abi.SyscallTable}, the msg_flags in
 * {@link dev.flexsc.MsgFlags}. {@code IoUringDescriptorConformanceTest} checks every value
 * against the build machine's {@code <linux/io_uring.h>} (FTRUNCATE, BIND, LISTEN and
 * ACCEPT_DONTWAIT only where that header is new enough to have them).
 *
 * <pre>
 * io_uring_params (120 B): sq_entries 0 | cq_entries 4 | flags 8 | sq_thread_cpu 12 | sq_thread_idle 16
 *                          | features 20 | wq_fd 24 | sq_off 40 (40 B) | cq_off 80 (40 B)
 * sqe (64 B): opcode 0 | flags 1 | ioprio 2 | fd 4 | off/addr2 8 | addr 16 | len 24 | op_flags 28
 *             | user_data 32 | buf_index 40 | personality 42 | splice_fd_in 44 | addr3 48
 * cqe (16 B): user_data 0 | res 8 | flags 12
 * </pre>
 */
public final class IoUringDescriptor {
    private IoUringDescriptor() {}

    // ---- struct io_uring_params ----
    public static final int PARAMS_SIZE = 120;
    public static final int PARAMS_SQ_ENTRIES = 0;
    public static final int PARAMS_CQ_ENTRIES = 4;
    public static final int PARAMS_FLAGS = 8;
    public static final int PARAMS_SQ_THREAD_CPU = 12;
    public static final int PARAMS_SQ_THREAD_IDLE = 16;
    public static final int PARAMS_FEATURES = 20;
    public static final int PARAMS_WQ_FD = 24;
    public static final int PARAMS_SQ_OFF = 40;
    public static final int PARAMS_CQ_OFF = 80;

    // struct io_sqring_offsets (relative to PARAMS_SQ_OFF)
    public static final int SQOFF_HEAD = 0;
    public static final int SQOFF_TAIL = 4;
    public static final int SQOFF_RING_MASK = 8;
    public static final int SQOFF_RING_ENTRIES = 12;
    public static final int SQOFF_FLAGS = 16;
    public static final int SQOFF_DROPPED = 20;
    public static final int SQOFF_ARRAY = 24;

    // struct io_cqring_offsets (relative to PARAMS_CQ_OFF)
    public static final int CQOFF_HEAD = 0;
    public static final int CQOFF_TAIL = 4;
    public static final int CQOFF_RING_MASK = 8;
    public static final int CQOFF_RING_ENTRIES = 12;
    public static final int CQOFF_OVERFLOW = 16;
    public static final int CQOFF_CQES = 20;

    // mmap offsets
    public static final long OFF_SQ_RING = 0L;
    public static final long OFF_CQ_RING = 0x8000000L;
    public static final long OFF_SQES = 0x10000000L;

    // ---- struct io_uring_sqe ----
    public static final int SQE_SIZE = 64;
    public static final int SQE_OPCODE = 0;
    public static final int SQE_FLAGS = 1;
    public static final int SQE_IOPRIO = 2;
    public static final int SQE_FD = 4;
    /** off, or addr2 (accept's addrlen pointer, connect's addrlen, statx's buffer, rename's new path). */
    public static final int SQE_OFF = 8;
    /** addr, or splice_off_in. */
    public static final int SQE_ADDR = 16;
    public static final int SQE_LEN = 24;
    /** rw_flags, fsync_flags, open_flags, msg_flags, accept_flags, cancel_flags, ... (one union). */
    public static final int SQE_OP_FLAGS = 28;
    public static final int SQE_USER_DATA = 32;
    public static final int SQE_BUF_INDEX = 40;
    public static final int SQE_SPLICE_FD_IN = 44;
    public static final int SQE_ADDR3 = 48;

    // ---- struct io_uring_cqe ----
    public static final int CQE_SIZE = 16;
    public static final int CQE_USER_DATA = 0;
    public static final int CQE_RES = 8;
    public static final int CQE_FLAGS = 12;

    // ---- setup flags ----
    public static final int SETUP_SQPOLL = 1 << 1;
    public static final int SETUP_SQ_AFF = 1 << 2;
    public static final int SETUP_CQSIZE = 1 << 3;
    public static final int SETUP_CLAMP = 1 << 4;
    /** Share the polling thread (SQPOLL) of the ring named by {@code wq_fd}. */
    public static final int SETUP_ATTACH_WQ = 1 << 5;
    /** Linux 5.10: the ring starts disabled (an SQPOLL thread takes none of its SQEs) until REGISTER_ENABLE_RINGS. */
    public static final int SETUP_R_DISABLED = 1 << 6;
    /** Linux 5.18: go on submitting the SQEs after one that fails at submission. */
    public static final int SETUP_SUBMIT_ALL = 1 << 7;
    /** Linux 5.19: run completion task work when the task enters the kernel anyway (no IPI). */
    public static final int SETUP_COOP_TASKRUN = 1 << 8;
    /** Linux 5.19: the kernel sets {@link #SQ_TASKRUN} when task work waits for an io_uring_enter. */
    public static final int SETUP_TASKRUN_FLAG = 1 << 9;
    /** Linux 6.0: one task submits: the kernel skips the submission locking. */
    public static final int SETUP_SINGLE_ISSUER = 1 << 12;
    /** Linux 6.1: completion task work waits for the submitter's io_uring_enter(GETEVENTS). */
    public static final int SETUP_DEFER_TASKRUN = 1 << 13;

    // ---- features ----
    public static final int FEAT_SINGLE_MMAP = 1 << 0;
    public static final int FEAT_NODROP = 1 << 1;
    public static final int FEAT_SUBMIT_STABLE = 1 << 2;
    public static final int FEAT_RW_CUR_POS = 1 << 3;
    public static final int FEAT_SQPOLL_NONFIXED = 1 << 7;
    public static final int FEAT_EXT_ARG = 1 << 8;

    // ---- io_uring_enter flags ----
    public static final int ENTER_GETEVENTS = 1;
    public static final int ENTER_SQ_WAKEUP = 2;
    public static final int ENTER_EXT_ARG = 8;

    // ---- sq ring flags (kernel-written) ----
    public static final int SQ_NEED_WAKEUP = 1;
    public static final int SQ_CQ_OVERFLOW = 2;
    /** With {@link #SETUP_TASKRUN_FLAG}: completion task work waits for an io_uring_enter(GETEVENTS). */
    public static final int SQ_TASKRUN = 4;

    // struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts; }
    public static final int GETEVENTS_ARG_SIZE = 24;
    public static final int GETEVENTS_ARG_TS = 16;
    /** struct __kernel_timespec { s64 tv_sec; s64 tv_nsec; } */
    public static final int TIMESPEC_SIZE = 16;

    // ---- io_uring_register ----
    public static final int REGISTER_EVENTFD = 4;
    public static final int UNREGISTER_EVENTFD = 5;
    public static final int REGISTER_PROBE = 8;
    /** Linux 5.10: enables a ring set up with {@link #SETUP_R_DISABLED}. */
    public static final int REGISTER_ENABLE_RINGS = 12;
    public static final int REGISTER_IOWQ_AFF = 17;
    /** struct io_uring_probe header; ops[] of 8 bytes follow: u8 op | u8 resv | u16 flags | u32 resv2. */
    public static final int PROBE_HEADER_SIZE = 16;
    public static final int PROBE_LAST_OP = 0;
    public static final int PROBE_OP_SIZE = 8;
    public static final int PROBE_OP_FLAGS = 2;
    public static final int PROBE_OP_SUPPORTED = 1;
    public static final int PROBE_OPS = 256;

    // ---- opcodes (enum io_uring_op) ----
    public static final int OP_NOP = 0;
    public static final int OP_READV = 1;
    public static final int OP_WRITEV = 2;
    public static final int OP_FSYNC = 3;
    public static final int OP_POLL_ADD = 6;
    public static final int OP_SENDMSG = 9;
    public static final int OP_RECVMSG = 10;
    public static final int OP_ACCEPT = 13;
    public static final int OP_ASYNC_CANCEL = 14;
    public static final int OP_CONNECT = 16;
    public static final int OP_FALLOCATE = 17;
    public static final int OP_OPENAT = 18;
    public static final int OP_CLOSE = 19;
    public static final int OP_STATX = 21;
    public static final int OP_READ = 22;
    public static final int OP_WRITE = 23;
    public static final int OP_FADVISE = 24;
    public static final int OP_MADVISE = 25;
    public static final int OP_SEND = 26;
    public static final int OP_RECV = 27;
    public static final int OP_EPOLL_CTL = 29;
    public static final int OP_SPLICE = 30;
    public static final int OP_SHUTDOWN = 34;
    public static final int OP_RENAMEAT = 35;
    public static final int OP_UNLINKAT = 36;
    public static final int OP_MKDIRAT = 37;
    public static final int OP_SOCKET = 45;
    /** Linux 6.9. */
    public static final int OP_FTRUNCATE = 55;
    /** Linux 6.11. */
    public static final int OP_BIND = 56;
    /** Linux 6.11. */
    public static final int OP_LISTEN = 57;

    // op flags
    public static final int FSYNC_DATASYNC = 1;
    /** rw_flags (RWF_NOWAIT, linux/fs.h): fail with EAGAIN rather than wait. */
    public static final int RWF_NOWAIT = 0x8;
    /** Accept flags, in the SQE's ioprio: IORING_ACCEPT_DONTWAIT (Linux 6.10). */
    public static final int ACCEPT_DONTWAIT = 1 << 1;
    /** splice_flags bit: fd_in is a registered file (never set by us: the syscall has no such flag). */
    public static final int SPLICE_F_FD_IN_FIXED = 1 << 31;
}
