/* SPDX-License-Identifier: MIT */
/*
 * libflexsc: the control plane of the KERNEL_MODULE engine (/dev/flexsc,
 * kernel-module/flexsc.c). Open, REGISTER, mmap; a pool of native pthreads
 * per group that park in the kernel with FLEXSC_IOC_SERVE (so the JVM's own
 * threads are never turned into syscall threads); WAKE, WAIT, CANCEL, STOP.
 * The data plane (entries, submit_bits, done_seq) is Java's, over the mapping.
 */
#define _GNU_SOURCE
#include "flexsc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct km_thread {
	struct flexsc_km *km;
	pthread_t thread;
	uint32_t group;
	int cpu;
	int started;
	_Atomic int exited;
	int err;                /* errno of a SERVE failure other than EINTR, else 0 */
};

struct flexsc_km {
	int fd;
	dev_t dev;              /* fstat identity of fd at open: st_dev, st_ino, st_rdev */
	ino_t ino;
	dev_t rdev;
	void *base;
	size_t size;
	int groups, pages, nthreads;
	_Atomic int stopping;
	_Atomic int live;       /* SERVE threads that have not returned */
	struct km_thread *threads;
};

static int km_errno_at(int *stage, int s)
{
	if (stage)
		*stage = s;
	return errno;
}

int flexsc_km_probe(const char *path, int *stage)
{
	struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = 1, .pages = 1 };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return km_errno_at(stage, FLEXSC_KM_STAGE_OPEN);
	int rc = ioctl(fd, FLEXSC_IOC_REGISTER, &reg) < 0 ? km_errno_at(stage, FLEXSC_KM_STAGE_REGISTER) : 0;
	close(fd);      /* the module frees the trial registration */
	return rc;
}

static void *serve_main(void *arg)
{
	struct km_thread *t = arg;
	struct flexsc_km *km = t->km;
	sigset_t all;

	/* Every signal goes to the JVM's threads: a SERVE thread only leaves on STOP. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	flexsc_pin_self(t->cpu);
	/* Named so that tools and tests can find the syscall threads of this engine. */
	pthread_setname_np(pthread_self(), "flexsc-kserve");
	for (;;) {
		/* Stays in the kernel as a syscall thread of group t->group until STOP/close. */
		if (ioctl(km->fd, FLEXSC_IOC_SERVE, &t->group) == 0)
			break;
		if (errno == EINTR && !atomic_load(&km->stopping))
			continue;       /* a signal without SA_RESTART: serve again */
		if (errno != EINTR)
			t->err = errno;
		break;
	}
	atomic_fetch_sub(&km->live, 1);
	/* Release: the stopper that sees exited may join and free. */
	atomic_store_explicit(&t->exited, 1, memory_order_release);
	return NULL;
}

struct flexsc_km *flexsc_km_open(const char *path, int groups, const int *cpus, int pages,
				 int threads_per_group, int serve_groups, int *err, int *stage)
{
	if (groups < 1 || groups > (int)FLEXSC_MAX_GROUPS || pages < 1 || pages > (int)FLEXSC_MAX_PAGES ||
	    threads_per_group < 1 || threads_per_group > 1024 || !cpus || serve_groups < 1 || serve_groups > groups) {
		*stage = FLEXSC_KM_STAGE_REGISTER;
		*err = EINVAL;
		return NULL;
	}
	struct flexsc_km *km = calloc(1, sizeof(*km));
	struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = groups, .pages = pages };

	if (!km) {
		*stage = FLEXSC_KM_STAGE_REGISTER;
		*err = ENOMEM;
		return NULL;
	}
	km->fd = open(path, O_RDWR | O_CLOEXEC);
	if (km->fd < 0) {
		*err = km_errno_at(stage, FLEXSC_KM_STAGE_OPEN);
		free(km);
		return NULL;
	}
	if (ioctl(km->fd, FLEXSC_IOC_REGISTER, &reg) < 0) {
		*err = km_errno_at(stage, FLEXSC_KM_STAGE_REGISTER);
		goto fail_fd;
	}
	struct stat st;

	if (fstat(km->fd, &st) == 0) {
		km->dev = st.st_dev;
		km->ino = st.st_ino;
		km->rdev = st.st_rdev;
	}
	km->size = reg.mapping_size;
	km->base = mmap(NULL, km->size, PROT_READ | PROT_WRITE, MAP_SHARED, km->fd, 0);
	if (km->base == MAP_FAILED) {
		*err = km_errno_at(stage, FLEXSC_KM_STAGE_MMAP);
		goto fail_fd;
	}
	km->groups = groups;
	km->pages = pages;
	km->threads = calloc((size_t)serve_groups * threads_per_group, sizeof(*km->threads));
	if (!km->threads) {
		*stage = FLEXSC_KM_STAGE_THREADS;
		*err = ENOMEM;
		goto fail_map;
	}
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	/* The thread's user stack is barely used: it lives in the kernel. */
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* Groups past serve_groups are carriers' own: their carrier runs them (WAIT with EXECUTE). */
	for (int g = 0; g < serve_groups; g++) {
		for (int k = 0; k < threads_per_group; k++) {
			struct km_thread *t = &km->threads[km->nthreads];

			t->km = km;
			t->group = (uint32_t)g;
			t->cpu = cpus[g];
			atomic_fetch_add(&km->live, 1);
			int rc = pthread_create(&t->thread, &attr, serve_main, t);

			if (rc) {
				atomic_fetch_sub(&km->live, 1);
				pthread_attr_destroy(&attr);
				flexsc_km_stop(km, 5000000000LL);
				*stage = FLEXSC_KM_STAGE_THREADS;
				*err = rc;
				goto fail_map;
			}
			t->started = 1;
			km->nthreads++;
		}
	}
	pthread_attr_destroy(&attr);
	/*
	 * Return once every SERVE thread is inside the module, so the pool is serving (and its
	 * threads named) when open returns. The module writes each group's executors count
	 * (WRITE_ONCE) as a thread attaches. Relaxed: nothing is read through the count; the
	 * atomic load only keeps it inside the loop. Bounded (10 s): on a slow machine open
	 * returns anyway and the threads attach later; a thread whose SERVE failed lowers `live`,
	 * which ends the wait at once.
	 */
	for (int waited_ms = 0; waited_ms < 10000; waited_ms++) {
		int all = 1;

		for (int g = 0; g < serve_groups && all; g++) {
			struct flexsc_group *gr = (struct flexsc_group *)((char *)km->base + FLEXSC_CTRL_HEADER_SIZE +
									 (size_t)g * FLEXSC_GROUP_SIZE);
			if (__atomic_load_n(&gr->executors, __ATOMIC_RELAXED) < (flexsc_u32)threads_per_group)
				all = 0;
		}
		if (all || atomic_load(&km->live) < km->nthreads)
			break;
		usleep(1000);
	}
	return km;

fail_map:
	munmap(km->base, km->size);
fail_fd:
	close(km->fd);
	free(km->threads);
	free(km);
	return NULL;
}

void *flexsc_km_base(struct flexsc_km *km) { return km->base; }
uint64_t flexsc_km_mapping_size(struct flexsc_km *km) { return km->size; }
int flexsc_km_threads(struct flexsc_km *km) { return atomic_load(&km->live); }

int flexsc_km_wake(struct flexsc_km *km, int g)
{
	uint32_t group = (uint32_t)g;

	return ioctl(km->fd, FLEXSC_IOC_WAKE, &group) < 0 ? -errno : 0;
}

int flexsc_km_wait(struct flexsc_km *km, int g, int flags, int64_t timeout_ns, uint32_t done_seq, int *executed)
{
	struct flexsc_wait w = {
		.group = (uint32_t)g, .flags = (uint32_t)flags, .timeout_ns = timeout_ns, .done_seq = done_seq,
	};
	int rc = ioctl(km->fd, FLEXSC_IOC_WAIT, &w) < 0 ? -errno : 0;

	if (executed)
		*executed = (int)w.executed;
	return rc;
}

int flexsc_km_wake_waiters(struct flexsc_km *km, int g)
{
	uint32_t group = (uint32_t)g;

	return ioctl(km->fd, FLEXSC_IOC_WAKE_WAITERS, &group) < 0 ? -errno : 0;
}

int flexsc_km_cancel(struct flexsc_km *km, int g, int idx)
{
	struct flexsc_cancel c = { .group = (uint32_t)g, .index = (uint32_t)idx };
	int rc = ioctl(km->fd, FLEXSC_IOC_CANCEL, &c);

	return rc < 0 ? -errno : rc;
}

static int64_t km_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The module stopped the registration by itself (a close of a descriptor, seccomp, audit). */
static int km_stopped_by_module(struct flexsc_km *km)
{
	struct flexsc_ctrl *c = km->base;

	/* Acquire: stop_reason (read by the caller after this) is written before STOPPING. */
	return (__atomic_load_n(&c->group[0].flags, __ATOMIC_ACQUIRE) & FLEXSC_GROUP_STOPPING) &&
	       c->stop_reason != FLEXSC_STOP_IOCTL;
}

/*
 * Whether km->fd still is the descriptor open() returned. After the module stopped
 * the registration because a descriptor of it was closed, km->fd may be that very
 * descriptor, its number since reused by another file: never issue an ioctl on it
 * or close it then.
 */
static int km_fd_is_ours(struct flexsc_km *km)
{
	struct stat st;

	if (!km_stopped_by_module(km) || km->base == NULL)
		return 1;
	if (__atomic_load_n(&((struct flexsc_ctrl *)km->base)->stop_reason, __ATOMIC_RELAXED) != FLEXSC_STOP_CLOSE)
		return 1;
	return fstat(km->fd, &st) == 0 && st.st_dev == km->dev && st.st_ino == km->ino && st.st_rdev == km->rdev;
}

int flexsc_km_stop(struct flexsc_km *km, int64_t timeout_ns)
{
	int64_t deadline = km_now_ns() + timeout_ns;
	int stuck = 0;

	atomic_store(&km->stopping, 1);
	/*
	 * For good: SERVE threads return 0 (a call blocked in one completes with -EINTR),
	 * WAIT returns ESHUTDOWN. Not needed (and not safe: see km_fd_is_ours) when the
	 * module already stopped it.
	 */
	if (!km_stopped_by_module(km))
		ioctl(km->fd, FLEXSC_IOC_STOP);
	for (int i = 0; i < km->nthreads; i++) {
		struct km_thread *t = &km->threads[i];

		if (!t->started)
			continue;
		/* Acquire: pairs with the thread's release store of exited. */
		while (!atomic_load_explicit(&t->exited, memory_order_acquire) && km_now_ns() < deadline) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
		if (atomic_load_explicit(&t->exited, memory_order_acquire)) {
			pthread_join(t->thread, NULL);
		} else {
			pthread_detach(t->thread);      /* stuck in an uninterruptible call */
			stuck++;
		}
		t->started = 0;
	}
	return stuck ? -ETIMEDOUT : 0;
}

void flexsc_km_free(struct flexsc_km *km)
{
	if (!km)
		return;
	int ours = km_fd_is_ours(km);

	munmap(km->base, km->size);
	/* The module frees the pages with the last reference; a stranger's file is left alone. */
	if (ours)
		close(km->fd);
	free(km->threads);
	free(km);
}

int flexsc_km_fd(struct flexsc_km *km) { return km->fd; }
