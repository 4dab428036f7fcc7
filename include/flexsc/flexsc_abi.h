/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * flexsc_abi.h - the syscall-page ABI shared by libflexsc, the kernel module
 * (kernel-module/flexsc.c) and Java (dev.flexsc.abi.SyscallPageDescriptor).
 *
 * This is the one C definition of the layout. The Java descriptor is checked
 * against it by AbiConformanceTest, which reads flexsc_abi_describe() from the
 * compiled libflexsc. Change both in one commit and bump FLEXSC_ABI_VERSION.
 *
 * Layout of one registration (all offsets from the start of the mapping):
 *
 *   [0, FLEXSC_CTRL_SIZE)                 control area: header + one
 *                                         struct flexsc_group per group
 *   [FLEXSC_CTRL_SIZE + g*pages*4096, ..) group g: `pages` syscall pages of
 *                                         64 entries each
 *
 * Entry protocol (see docs/abi.md for every ordering point):
 *   owner:    FREE -> writes sysnr, args -> store-release SUBMITTED
 *             -> atomic OR of its bit into group.submit_bits (full barrier)
 *             -> if group.flags & NEED_WAKEUP: wake the group
 *   executor: atomic fetch-and-clear of a bit in submit_bits
 *             -> CAS SUBMITTED -> BUSY -> execute -> write ret
 *             -> store-release DONE -> bump done_seq, wake completion waiters
 *   owner:    load-acquire DONE -> read ret -> store FREE
 */
#ifndef FLEXSC_ABI_H
#define FLEXSC_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
typedef __u32 flexsc_u32;
typedef __s64 flexsc_s64;
typedef __u64 flexsc_u64;
#else
#include <stdint.h>
#include <sys/ioctl.h>
typedef uint32_t flexsc_u32;
typedef int64_t flexsc_s64;
typedef uint64_t flexsc_u64;
#endif

#define FLEXSC_ABI_VERSION        1u
#define FLEXSC_MAGIC              0x43534c46u /* "FLSC" little-endian */

#define FLEXSC_PAGE_SIZE          4096u
#define FLEXSC_ENTRY_SIZE         64u
#define FLEXSC_ENTRIES_PER_PAGE   (FLEXSC_PAGE_SIZE / FLEXSC_ENTRY_SIZE) /* 64 */
#define FLEXSC_MAX_PAGES          8u   /* per group: 512 entries, one bitmap line */
#define FLEXSC_MAX_ENTRIES        (FLEXSC_MAX_PAGES * FLEXSC_ENTRIES_PER_PAGE)
#define FLEXSC_BITMAP_WORDS       (FLEXSC_MAX_ENTRIES / 64u) /* 8 x u64 = 64 bytes */
#define FLEXSC_MAX_GROUPS         60u
#define FLEXSC_ARGS               6u

/* Entry status. */
#define FLEXSC_FREE               0u
#define FLEXSC_SUBMITTED          1u
#define FLEXSC_BUSY               2u
#define FLEXSC_DONE               3u

/* struct flexsc_group.flags */
#define FLEXSC_GROUP_NEED_WAKEUP  1u  /* executors sleep: a submitter must wake them */
#define FLEXSC_GROUP_STOPPING     2u  /* the engine is closing */

/*
 * struct flexsc_ctrl.stop_reason: why the kernel module stopped the
 * registration (the first reason wins; written before FLEXSC_GROUP_STOPPING
 * is set in any group, so a reader that sees STOPPING with acquire reads it).
 * libflexsc's SYSCALL_THREADS engine leaves it FLEXSC_STOP_NONE.
 */
#define FLEXSC_STOP_NONE          0u  /* running, or stopped before REGISTER */
#define FLEXSC_STOP_IOCTL         1u  /* FLEXSC_IOC_STOP */
#define FLEXSC_STOP_CLOSE         2u  /* the owner closed a descriptor of the registration (or exited) */
#define FLEXSC_STOP_SECCOMP       3u  /* an executing thread runs under a seccomp filter */
#define FLEXSC_STOP_AUDIT         4u  /* an executing thread is audited (audit rules apply to it) */

/* One syscall entry: one cache line. */
struct flexsc_entry {
	flexsc_u32 status;            /* FREE, SUBMITTED, BUSY, DONE */
	flexsc_u32 sysnr;             /* x86-64 system call number */
	flexsc_s64 ret;               /* raw kernel result: >= 0 value, < 0 -errno */
	flexsc_u64 args[FLEXSC_ARGS];
} __attribute__((aligned(64)));

/*
 * Per-group control block: four cache lines so that the line written by
 * submitters (submit_bits), the line written by executors (flags, done_seq)
 * and the statistics never share a line (no false sharing between cores).
 */
struct flexsc_group {
	/* line 0: submitters set bits, executors fetch-and-clear them */
	flexsc_u64 submit_bits[FLEXSC_BITMAP_WORDS];
	/* line 1: written by executors and by wakers */
	flexsc_u32 flags;             /* FLEXSC_GROUP_* */
	flexsc_u32 wake_seq;          /* futex word: executors sleep on it */
	flexsc_u32 running;           /* executors awake and not inside a blocking call */
	flexsc_u32 executors;         /* executor threads started for this group */
	flexsc_u32 pad1[12];
	/* line 2: completion side */
	flexsc_u32 done_seq;          /* futex word: bumped after each DONE */
	flexsc_u32 done_waiters;      /* threads sleeping on done_seq */
	flexsc_u32 pad2[14];
	/* line 3: statistics (written by executors only) */
	flexsc_u64 stat_executed;     /* entries executed */
	flexsc_u64 stat_refused;      /* entries refused (not allow-listed / malformed) */
	flexsc_u64 stat_sleeps;       /* times an executor went to sleep */
	flexsc_u64 stat_batches;      /* bitmap words claimed with at least one bit */
	flexsc_u64 pad3[4];
} __attribute__((aligned(64)));

/* The control area header, at offset 0 of the mapping. */
struct flexsc_ctrl {
	flexsc_u32 magic;             /* FLEXSC_MAGIC */
	flexsc_u32 abi_version;       /* FLEXSC_ABI_VERSION */
	flexsc_u32 groups;            /* number of groups, 1..FLEXSC_MAX_GROUPS */
	flexsc_u32 pages;             /* pages per group, 1..FLEXSC_MAX_PAGES */
	flexsc_u32 entries;           /* entries per group = pages * 64 */
	flexsc_u32 stop_reason;       /* FLEXSC_STOP_*: written by the module */
	flexsc_u32 pad[10];
	struct flexsc_group group[];  /* groups, from offset 64 */
} __attribute__((aligned(64)));

#define FLEXSC_GROUP_SIZE         256u
#define FLEXSC_CTRL_HEADER_SIZE   64u
/* Control area size: header + groups, rounded up to whole pages. */
#define FLEXSC_CTRL_SIZE(groups) \
	((FLEXSC_CTRL_HEADER_SIZE + (groups) * FLEXSC_GROUP_SIZE + FLEXSC_PAGE_SIZE - 1) \
	 & ~(FLEXSC_PAGE_SIZE - 1))
#define FLEXSC_GROUP_PAGES_OFFSET(groups, pages, g) \
	(FLEXSC_CTRL_SIZE(groups) + (flexsc_u64)(g) * (pages) * FLEXSC_PAGE_SIZE)
#define FLEXSC_MAPPING_SIZE(groups, pages) \
	(FLEXSC_CTRL_SIZE(groups) + (flexsc_u64)(groups) * (pages) * FLEXSC_PAGE_SIZE)

/*
 * Kernel-module ioctls on /dev/flexsc (see docs/kernel-module.md).
 */
struct flexsc_register {
	flexsc_u32 abi_version;       /* in: FLEXSC_ABI_VERSION */
	flexsc_u32 groups;            /* in */
	flexsc_u32 pages;             /* in: pages per group */
	flexsc_u32 flags;             /* in: 0 */
	flexsc_u64 mapping_size;      /* out: bytes to mmap at offset 0 */
};

struct flexsc_wait {
	flexsc_u32 group;             /* in */
	flexsc_u32 flags;             /* in: FLEXSC_WAIT_* */
	flexsc_s64 timeout_ns;        /* in: < 0 waits without limit */
	flexsc_u32 done_seq;          /* in: sleep only while group.done_seq == this */
	flexsc_u32 executed;          /* out: entries executed by this call */
};

#define FLEXSC_WAIT_EXECUTE       1u  /* run pending entries in the caller's context first */

struct flexsc_cancel {
	flexsc_u32 group;             /* in */
	flexsc_u32 index;             /* in: entry index within the group */
};

#define FLEXSC_IOC_MAGIC          0xF5
#define FLEXSC_IOC_REGISTER       _IOWR(FLEXSC_IOC_MAGIC, 1, struct flexsc_register)
#define FLEXSC_IOC_SERVE          _IOW(FLEXSC_IOC_MAGIC, 2, flexsc_u32)   /* group */
#define FLEXSC_IOC_WAIT           _IOWR(FLEXSC_IOC_MAGIC, 3, struct flexsc_wait)
#define FLEXSC_IOC_WAKE           _IOW(FLEXSC_IOC_MAGIC, 4, flexsc_u32)   /* group */
#define FLEXSC_IOC_STOP           _IO(FLEXSC_IOC_MAGIC, 5)
#define FLEXSC_IOC_CANCEL         _IOW(FLEXSC_IOC_MAGIC, 6, struct flexsc_cancel)
/* Bumps the group's done_seq and wakes every WAIT sleeper of the group. */
#define FLEXSC_IOC_WAKE_WAITERS   _IOW(FLEXSC_IOC_MAGIC, 7, flexsc_u32)   /* group */

#endif /* FLEXSC_ABI_H */
