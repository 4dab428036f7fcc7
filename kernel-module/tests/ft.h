/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ft.h - helpers for the flexsc.ko conformance suite (standalone programs run
 * in the QEMU guest by test-kernel.sh).
 *
 * Every check prints one line: "PASS name", "FAIL name: why" or
 * "SKIP name: why"; the runner counts them. A program exits 1 if any check
 * failed, 0 otherwise.
 */
#ifndef FT_H
#define FT_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "flexsc/flexsc_abi.h"
#include "flexsc/flexsc_calls.h"

static int ft_failures;

static void ft_result(const char *what, const char *name, const char *fmt, va_list ap)
{
	printf("%s %s", what, name);
	if (fmt && *fmt) {
		printf(": ");
		vprintf(fmt, ap);
	}
	printf("\n");
	fflush(stdout);
}

static inline void ft_pass(const char *name)
{
	printf("PASS %s\n", name);
	fflush(stdout);
}

static inline __attribute__((format(printf, 2, 3))) void ft_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ft_result("FAIL", name, fmt, ap);
	va_end(ap);
	ft_failures++;
}

static inline __attribute__((format(printf, 2, 3))) void ft_skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ft_result("SKIP", name, fmt, ap);
	va_end(ap);
}

/* check(cond, name, "why it failed", ...) */
#define ft_check(cond, name, ...) \
	do { if (cond) ft_pass(name); else ft_fail(name, __VA_ARGS__); } while (0)

static inline int ft_exit(void)
{
	return ft_failures ? 1 : 0;
}

static inline uint64_t ft_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */

struct ft_reg {
	int fd;
	void *map;
	size_t size;
	struct flexsc_ctrl *ctrl;
	unsigned int groups, pages, entries;
	int batch;                      /* complete entries with WAIT(EXECUTE) */
	pthread_t pool[16];
	long pool_rc[16];
	int pool_errno[16];
	unsigned int pool_group[16];
	int npool;
	volatile int pool_done[16];
};

static inline int ft_ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

/* Open /dev/flexsc, REGISTER, mmap. Returns 0 or an errno (and names the step). */
static inline int ft_open(struct ft_reg *r, unsigned int groups, unsigned int pages)
{
	struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = groups, .pages = pages };

	memset(r, 0, sizeof(*r));
	r->fd = open("/dev/flexsc", O_RDWR | O_CLOEXEC);
	if (r->fd < 0) {
		fprintf(stderr, "open(/dev/flexsc): %s\n", strerror(errno));
		return errno;
	}
	if (ioctl(r->fd, FLEXSC_IOC_REGISTER, &reg) < 0) {
		int e = errno;

		fprintf(stderr, "ioctl(FLEXSC_IOC_REGISTER): %s\n", strerror(e));
		close(r->fd);
		return e;
	}
	r->size = reg.mapping_size;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		int e = errno;

		fprintf(stderr, "mmap(/dev/flexsc, %zu): %s\n", r->size, strerror(e));
		close(r->fd);
		return e;
	}
	r->ctrl = r->map;
	r->groups = groups;
	r->pages = pages;
	r->entries = pages * FLEXSC_ENTRIES_PER_PAGE;
	return 0;
}

static inline struct flexsc_group *ft_group(struct ft_reg *r, unsigned int g)
{
	return &r->ctrl->group[g];
}

static inline struct flexsc_entry *ft_entry(struct ft_reg *r, unsigned int g, unsigned int i)
{
	return (struct flexsc_entry *)((char *)r->map + FLEXSC_GROUP_PAGES_OFFSET(r->groups, r->pages, g)) + i;
}

/* The submitter side of the ABI protocol. */
static inline void ft_submit(struct ft_reg *r, unsigned int g, unsigned int i, long nr,
			     uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct flexsc_entry *e = ft_entry(r, g, i);
	struct flexsc_group *grp = ft_group(r, g);

	e->sysnr = (uint32_t)nr;
	e->args[0] = a0; e->args[1] = a1; e->args[2] = a2;
	e->args[3] = a3; e->args[4] = a4; e->args[5] = a5;
	e->ret = 0;
	/* Release: sysnr/args are visible before SUBMITTED (pairs with the executor's CAS-acquire). */
	__atomic_store_n(&e->status, FLEXSC_SUBMITTED, __ATOMIC_RELEASE);
	__atomic_fetch_or(&grp->submit_bits[i / 64], 1ull << (i % 64), __ATOMIC_SEQ_CST);
	/*
	 * Full fence: orders the bit OR before the flags load; pairs with the
	 * executor's barrier between setting NEED_WAKEUP and rescanning.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&grp->flags, __ATOMIC_RELAXED) & FLEXSC_GROUP_NEED_WAKEUP)
		ioctl(r->fd, FLEXSC_IOC_WAKE, &g);
}

#define FT_TIMEOUT ((long)0x7fffffff00000000ll)

/* Wait until entry i is DONE (at most timeout_ms), free it, return its ret. */
static inline long ft_reap(struct ft_reg *r, unsigned int g, unsigned int i, long timeout_ms)
{
	struct flexsc_entry *e = ft_entry(r, g, i);
	struct flexsc_group *grp = ft_group(r, g);
	uint64_t deadline = ft_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		/* Acquire: ret is read after DONE (pairs with the executor's release of DONE). */
		if (__atomic_load_n(&e->status, __ATOMIC_ACQUIRE) == FLEXSC_DONE) {
			long ret = e->ret;

			__atomic_store_n(&e->status, FLEXSC_FREE, __ATOMIC_RELEASE);
			return ret;
		}
		if (ft_now_ns() > deadline)
			return FT_TIMEOUT;
		/* Acquire: statuses loaded after this see every DONE counted by it. */
		uint32_t seq = __atomic_load_n(&grp->done_seq, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&e->status, __ATOMIC_ACQUIRE) == FLEXSC_DONE)
			continue;
		struct flexsc_wait w = {
			.group = g, .flags = r->batch ? FLEXSC_WAIT_EXECUTE : 0,
			.timeout_ns = 20 * 1000000ll, .done_seq = seq,
		};
		ioctl(r->fd, FLEXSC_IOC_WAIT, &w);
	}
}

static inline long ft_call(struct ft_reg *r, unsigned int g, unsigned int i, long nr,
			   uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	ft_submit(r, g, i, nr, a0, a1, a2, a3, a4, a5);
	return ft_reap(r, g, i, 10000);
}

/*
 * Wait until an executor has claimed entry i (status no longer SUBMITTED), at most
 * timeout_ms; returns the status. Tests that need a call to be running (a read asleep in
 * a pipe) wait for this instead of sleeping a fixed time: a slow host (QEMU sharing a
 * CPU) may take far longer than usual to claim it.
 */
static inline uint32_t ft_wait_claimed(struct ft_reg *r, unsigned int g, unsigned int i, long timeout_ms)
{
	struct flexsc_entry *e = ft_entry(r, g, i);
	uint64_t deadline = ft_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	uint32_t s;

	while ((s = __atomic_load_n(&e->status, __ATOMIC_ACQUIRE)) == FLEXSC_SUBMITTED && ft_now_ns() < deadline)
		usleep(1000);
	return s;
}

/* A SERVE thread: stays in the kernel until STOP/close/signal. */
struct ft_serve_arg { struct ft_reg *r; int k; };

static void *ft_serve_main(void *p)
{
	struct ft_serve_arg *a = p;
	struct ft_reg *r = a->r;
	int k = a->k;
	unsigned int g = r->pool_group[k];

	free(a);
	r->pool_rc[k] = ioctl(r->fd, FLEXSC_IOC_SERVE, &g);
	r->pool_errno[k] = r->pool_rc[k] < 0 ? errno : 0;
	__atomic_store_n(&r->pool_done[k], 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline void ft_pool_start(struct ft_reg *r, unsigned int g, int n)
{
	for (int i = 0; i < n; i++) {
		struct ft_serve_arg *a = malloc(sizeof(*a));
		int k = r->npool++;

		a->r = r;
		a->k = k;
		r->pool_group[k] = g;
		r->pool_done[k] = 0;
		pthread_create(&r->pool[k], NULL, ft_serve_main, a);
	}
	/* Let them reach the kernel: the group's executor count says so. */
	uint64_t deadline = ft_now_ns() + 3000000000ull;
	while (__atomic_load_n(&ft_group(r, g)->executors, __ATOMIC_RELAXED) < (unsigned)n &&
	       ft_now_ns() < deadline)
		usleep(1000);
}

/* Wait (bounded) for every pool thread to leave SERVE. Returns 1 if all did. */
static inline int ft_pool_join(struct ft_reg *r, long timeout_ms)
{
	uint64_t deadline = ft_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int all = 1;

	for (int k = 0; k < r->npool; k++) {
		while (!__atomic_load_n(&r->pool_done[k], __ATOMIC_ACQUIRE) && ft_now_ns() < deadline)
			usleep(1000);
		if (!__atomic_load_n(&r->pool_done[k], __ATOMIC_ACQUIRE))
			all = 0;
		else
			pthread_join(r->pool[k], NULL);
	}
	if (all)
		r->npool = 0;
	return all;
}

static inline void ft_close(struct ft_reg *r)
{
	if (r->npool) {
		ioctl(r->fd, FLEXSC_IOC_STOP);
		ft_pool_join(r, 5000);
	}
	munmap(r->map, r->size);
	close(r->fd);
}

static inline int ft_allowed(unsigned int nr)
{
#define FT_ALLOWED_CASE(n, name, flags) case n: return 1;
	switch (nr) {
	FLEXSC_CALL_TABLE(FT_ALLOWED_CASE)
	}
#undef FT_ALLOWED_CASE
	return 0;
}

/* Skip the whole program (exit 77) when the device is missing. */
static inline void ft_require_device(const char *prog)
{
	if (access("/dev/flexsc", R_OK | W_OK) != 0) {
		printf("SKIP %s: /dev/flexsc is missing (flexsc.ko not loaded): %s\n", prog, strerror(errno));
		exit(77);
	}
}

#endif /* FT_H */
