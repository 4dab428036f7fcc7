/*
 * Prints the io_uring ABI as the kernel UAPI header <linux/io_uring.h> (and the few
 * other headers the engines use) define it, one NAME=VALUE per line, NAME being the
 * constant's name in IoUringDescriptor. IoUringDescriptorConformanceTest compares.
 * Constants newer than the installed header are printed only where the header has them.
 */
#define _GNU_SOURCE
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/time_types.h>
#include <stddef.h>
#include <stdio.h>

#define P(name, value) printf("%s=%lld\n", name, (long long) (value))
#define OFF(name, type, field) P(name, offsetof(type, field))

int main(void) {
    P("PARAMS_SIZE", sizeof(struct io_uring_params));
    OFF("PARAMS_SQ_ENTRIES", struct io_uring_params, sq_entries);
    OFF("PARAMS_CQ_ENTRIES", struct io_uring_params, cq_entries);
    OFF("PARAMS_FLAGS", struct io_uring_params, flags);
    OFF("PARAMS_SQ_THREAD_CPU", struct io_uring_params, sq_thread_cpu);
    OFF("PARAMS_SQ_THREAD_IDLE", struct io_uring_params, sq_thread_idle);
    OFF("PARAMS_FEATURES", struct io_uring_params, features);
    OFF("PARAMS_WQ_FD", struct io_uring_params, wq_fd);
    OFF("PARAMS_SQ_OFF", struct io_uring_params, sq_off);
    OFF("PARAMS_CQ_OFF", struct io_uring_params, cq_off);

    OFF("SQOFF_HEAD", struct io_sqring_offsets, head);
    OFF("SQOFF_TAIL", struct io_sqring_offsets, tail);
    OFF("SQOFF_RING_MASK", struct io_sqring_offsets, ring_mask);
    OFF("SQOFF_RING_ENTRIES", struct io_sqring_offsets, ring_entries);
    OFF("SQOFF_FLAGS", struct io_sqring_offsets, flags);
    OFF("SQOFF_DROPPED", struct io_sqring_offsets, dropped);
    OFF("SQOFF_ARRAY", struct io_sqring_offsets, array);
    OFF("CQOFF_HEAD", struct io_cqring_offsets, head);
    OFF("CQOFF_TAIL", struct io_cqring_offsets, tail);
    OFF("CQOFF_RING_MASK", struct io_cqring_offsets, ring_mask);
    OFF("CQOFF_RING_ENTRIES", struct io_cqring_offsets, ring_entries);
    OFF("CQOFF_OVERFLOW", struct io_cqring_offsets, overflow);
    OFF("CQOFF_CQES", struct io_cqring_offsets, cqes);
    P("OFF_SQ_RING", IORING_OFF_SQ_RING);
    P("OFF_CQ_RING", IORING_OFF_CQ_RING);
    P("OFF_SQES", IORING_OFF_SQES);

    P("SQE_SIZE", sizeof(struct io_uring_sqe));
    OFF("SQE_OPCODE", struct io_uring_sqe, opcode);
    OFF("SQE_FLAGS", struct io_uring_sqe, flags);
    OFF("SQE_IOPRIO", struct io_uring_sqe, ioprio);
    OFF("SQE_FD", struct io_uring_sqe, fd);
    OFF("SQE_OFF", struct io_uring_sqe, off);
    OFF("SQE_ADDR", struct io_uring_sqe, addr);
    OFF("SQE_LEN", struct io_uring_sqe, len);
    OFF("SQE_OP_FLAGS", struct io_uring_sqe, rw_flags);
    OFF("SQE_USER_DATA", struct io_uring_sqe, user_data);
    OFF("SQE_BUF_INDEX", struct io_uring_sqe, buf_index);
    OFF("SQE_SPLICE_FD_IN", struct io_uring_sqe, splice_fd_in);
    OFF("SQE_ADDR3", struct io_uring_sqe, addr3);
    P("CQE_SIZE", sizeof(struct io_uring_cqe));
    OFF("CQE_USER_DATA", struct io_uring_cqe, user_data);
    OFF("CQE_RES", struct io_uring_cqe, res);
    OFF("CQE_FLAGS", struct io_uring_cqe, flags);

    P("SETUP_SQPOLL", IORING_SETUP_SQPOLL);
    P("SETUP_SQ_AFF", IORING_SETUP_SQ_AFF);
    P("SETUP_CQSIZE", IORING_SETUP_CQSIZE);
    P("SETUP_CLAMP", IORING_SETUP_CLAMP);
    P("SETUP_ATTACH_WQ", IORING_SETUP_ATTACH_WQ);
    P("SETUP_R_DISABLED", IORING_SETUP_R_DISABLED);
    P("SETUP_SUBMIT_ALL", IORING_SETUP_SUBMIT_ALL);
    P("SETUP_COOP_TASKRUN", IORING_SETUP_COOP_TASKRUN);
    P("SETUP_TASKRUN_FLAG", IORING_SETUP_TASKRUN_FLAG);
    P("SETUP_SINGLE_ISSUER", IORING_SETUP_SINGLE_ISSUER);
    P("SETUP_DEFER_TASKRUN", IORING_SETUP_DEFER_TASKRUN);
    P("FEAT_SINGLE_MMAP", IORING_FEAT_SINGLE_MMAP);
    P("FEAT_NODROP", IORING_FEAT_NODROP);
    P("FEAT_SUBMIT_STABLE", IORING_FEAT_SUBMIT_STABLE);
    P("FEAT_RW_CUR_POS", IORING_FEAT_RW_CUR_POS);
    P("FEAT_SQPOLL_NONFIXED", IORING_FEAT_SQPOLL_NONFIXED);
    P("FEAT_EXT_ARG", IORING_FEAT_EXT_ARG);
    P("ENTER_GETEVENTS", IORING_ENTER_GETEVENTS);
    P("ENTER_SQ_WAKEUP", IORING_ENTER_SQ_WAKEUP);
    P("ENTER_EXT_ARG", IORING_ENTER_EXT_ARG);
    P("SQ_NEED_WAKEUP", IORING_SQ_NEED_WAKEUP);
    P("SQ_CQ_OVERFLOW", IORING_SQ_CQ_OVERFLOW);
    P("SQ_TASKRUN", IORING_SQ_TASKRUN);
    P("GETEVENTS_ARG_SIZE", sizeof(struct io_uring_getevents_arg));
    OFF("GETEVENTS_ARG_TS", struct io_uring_getevents_arg, ts);
    P("TIMESPEC_SIZE", sizeof(struct __kernel_timespec));

    P("REGISTER_EVENTFD", IORING_REGISTER_EVENTFD);
    P("UNREGISTER_EVENTFD", IORING_UNREGISTER_EVENTFD);
    P("REGISTER_PROBE", IORING_REGISTER_PROBE);
    P("REGISTER_IOWQ_AFF", IORING_REGISTER_IOWQ_AFF);
    P("REGISTER_ENABLE_RINGS", IORING_REGISTER_ENABLE_RINGS);
    P("PROBE_HEADER_SIZE", sizeof(struct io_uring_probe));
    OFF("PROBE_LAST_OP", struct io_uring_probe, last_op);
    P("PROBE_OP_SIZE", sizeof(struct io_uring_probe_op));
    OFF("PROBE_OP_FLAGS", struct io_uring_probe_op, flags);
    P("PROBE_OP_SUPPORTED", IO_URING_OP_SUPPORTED);

    P("OP_NOP", IORING_OP_NOP);
    P("OP_READV", IORING_OP_READV);
    P("OP_WRITEV", IORING_OP_WRITEV);
    P("OP_FSYNC", IORING_OP_FSYNC);
    P("OP_POLL_ADD", IORING_OP_POLL_ADD);
    P("OP_SENDMSG", IORING_OP_SENDMSG);
    P("OP_RECVMSG", IORING_OP_RECVMSG);
    P("OP_ACCEPT", IORING_OP_ACCEPT);
    P("OP_ASYNC_CANCEL", IORING_OP_ASYNC_CANCEL);
    P("OP_CONNECT", IORING_OP_CONNECT);
    P("OP_FALLOCATE", IORING_OP_FALLOCATE);
    P("OP_OPENAT", IORING_OP_OPENAT);
    P("OP_CLOSE", IORING_OP_CLOSE);
    P("OP_STATX", IORING_OP_STATX);
    P("OP_READ", IORING_OP_READ);
    P("OP_WRITE", IORING_OP_WRITE);
    P("OP_FADVISE", IORING_OP_FADVISE);
    P("OP_MADVISE", IORING_OP_MADVISE);
    P("OP_SEND", IORING_OP_SEND);
    P("OP_RECV", IORING_OP_RECV);
    P("OP_EPOLL_CTL", IORING_OP_EPOLL_CTL);
    P("OP_SPLICE", IORING_OP_SPLICE);
    P("OP_SHUTDOWN", IORING_OP_SHUTDOWN);
    P("OP_RENAMEAT", IORING_OP_RENAMEAT);
    P("OP_UNLINKAT", IORING_OP_UNLINKAT);
    P("OP_MKDIRAT", IORING_OP_MKDIRAT);
    P("OP_SOCKET", IORING_OP_SOCKET);
    /* enum io_uring_op is in order and append-only: the last op this header knows. */
    P("HEADER_OP_LAST", IORING_OP_LAST);
#ifdef IORING_ACCEPT_DONTWAIT
    P("ACCEPT_DONTWAIT", IORING_ACCEPT_DONTWAIT);
#endif

    P("FSYNC_DATASYNC", IORING_FSYNC_DATASYNC);
    P("SPLICE_F_FD_IN_FIXED", SPLICE_F_FD_IN_FIXED);
    P("RWF_NOWAIT", RWF_NOWAIT);
    return 0;
}
