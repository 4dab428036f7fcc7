/* SPDX-License-Identifier: MIT */
/*
 * libflexsc: the SYSCALL_THREADS engine (pinned native syscall threads that
 * execute syscall-page entries with syscall(2)) and the control-plane helpers
 * the Java engines call through JNA. The data plane (writing entries, reading
 * completions) is not here: Java does it over the shared mapping.
 */
#ifndef FLEXSC_H
#define FLEXSC_H

#include <stdint.h>
#include "flexsc/flexsc_abi.h"

struct flexsc_st;

/*
 * Create a SYSCALL_THREADS engine: one group per CPU in cpus[0..groups), each
 * with `pages` syscall pages, starting one executor per group and growing to
 * at most `pool_max` per group when executors block. spin_iters bounds the
 * busy-wait before an idle executor sleeps. Returns NULL with *err = errno.
 */
struct flexsc_st *flexsc_st_create(int groups, const int *cpus, int pages,
				   int pool_max, int spin_iters, int *err);
/* Base address of the shared mapping (control area + pages). */
void *flexsc_st_base(struct flexsc_st *st);
uint64_t flexsc_st_mapping_size(struct flexsc_st *st);
/* Live executor threads, all groups. */
int flexsc_st_threads(struct flexsc_st *st);
/*
 * Stop: mark every group STOPPING, wake the executors, interrupt the ones
 * inside a call (signal, repeated until they leave it, up to timeout_ns), join
 * them. Entries they had claimed are completed (DONE, possibly -EINTR); entries
 * never claimed stay SUBMITTED for the caller to fail. Returns 0, or -ETIMEDOUT
 * if some executor did not stop (it is then detached and the mapping leaked on
 * purpose rather than freed under it).
 */
int flexsc_st_stop(struct flexsc_st *st, int64_t timeout_ns);
/* Free the mapping and the handle; only after flexsc_st_stop returned 0. */
void flexsc_st_free(struct flexsc_st *st);

/*
 * Interrupt the executor of group g running entry idx, if its call is in
 * progress (a signal: the call returns -EINTR). 1 if signalled, 0 if none.
 */
int flexsc_st_cancel(struct flexsc_st *st, int g, int idx);

/* A direct system call: the raw kernel result (-errno on failure). The
 * baseline for benchmarks and the DIRECT policy. */
long flexsc_raw(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
/* read (write = 0) or write (write = 1) of one buffer at the file position that
 * never waits: preadv2/pwritev2 with RWF_NOWAIT. -EAGAIN where it would wait,
 * -EOPNOTSUPP where the file cannot tell; for the ADAPTIVE policy. */
long flexsc_rw_nowait(long write, long fd, long buf, long len);
/* An empty native function: the cost of a native call, for the cost study. */
long flexsc_nop(long x);

/* Execute every pending entry of group g in the calling thread (same-core batch). */
int flexsc_st_execute_pending(struct flexsc_st *st, int g);

/* futex helpers on 32-bit words of the shared mapping (private futexes). */
int flexsc_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);
int flexsc_futex_wake(uint32_t *addr, int count);

/* Pin the calling thread to one CPU; 0 or -errno. */
int flexsc_pin_self(int cpu);
/* Thread id of the caller (for tests and diagnostics). */
int flexsc_gettid(void);

/* "NAME=VALUE\n" lines describing the ABI as compiled (offsetof, sizeof, constants). */
int flexsc_abi_describe(char *buf, int len);
/* "nr name flags\n" lines: the allow-list as compiled. */
int flexsc_calls_describe(char *buf, int len);
/* 1 if nr is allow-listed, else 0; *may_block receives its flag. */
int flexsc_call_allowed(uint32_t nr, int *may_block);

/*
 * KERNEL_MODULE engine control plane (flexsc_km.c): /dev/flexsc, REGISTER,
 * mmap, native SERVE threads ("flexsc-kserve", pinned, all signals blocked),
 * WAKE, WAIT, CANCEL, STOP. See docs/kernel-module.md.
 */
struct flexsc_km;

/* Which step failed (out parameter of probe and open). */
#define FLEXSC_KM_STAGE_OPEN     1
#define FLEXSC_KM_STAGE_REGISTER 2
#define FLEXSC_KM_STAGE_MMAP     3
#define FLEXSC_KM_STAGE_THREADS  4

/* Open path, REGISTER 1 group of 1 page, close: 0 or the errno of *stage. */
int flexsc_km_probe(const char *path, int *stage);
/*
 * Open, REGISTER, mmap, and start threads_per_group SERVE threads in each of
 * the first serve_groups groups, pinned to cpus[g] (the other groups are
 * carriers' own, run by WAIT with EXECUTE). NULL with *err = errno and
 * *stage = the failed step.
 */
struct flexsc_km *flexsc_km_open(const char *path, int groups, const int *cpus, int pages,
				 int threads_per_group, int serve_groups, int *err, int *stage);
void *flexsc_km_base(struct flexsc_km *km);
uint64_t flexsc_km_mapping_size(struct flexsc_km *km);
/* SERVE threads that have not returned. */
int flexsc_km_threads(struct flexsc_km *km);
/* FLEXSC_IOC_WAKE(g): 0 or -errno. */
int flexsc_km_wake(struct flexsc_km *km, int g);
/* FLEXSC_IOC_WAIT: 0 or -errno (ETIMEDOUT, EINTR, ESHUTDOWN); *executed from the module. */
int flexsc_km_wait(struct flexsc_km *km, int g, int flags, int64_t timeout_ns, uint32_t done_seq, int *executed);
/* FLEXSC_IOC_CANCEL(g, idx): 1 if a call was interrupted, 0 if none, or -errno. */
int flexsc_km_cancel(struct flexsc_km *km, int g, int idx);
/* FLEXSC_IOC_WAKE_WAITERS(g): ends every WAIT sleep of group g; 0 or -errno. */
int flexsc_km_wake_waiters(struct flexsc_km *km, int g);
/* STOP, then join the SERVE threads (up to timeout_ns): 0, or -ETIMEDOUT if some are stuck. */
int flexsc_km_stop(struct flexsc_km *km, int64_t timeout_ns);
/* munmap, close, free; only after flexsc_km_stop returned 0. */
void flexsc_km_free(struct flexsc_km *km);
/* The registration's descriptor (for tests that close it from outside the engine). */
int flexsc_km_fd(struct flexsc_km *km);

#endif
