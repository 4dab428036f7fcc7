// SPDX-License-Identifier: GPL-2.0
/* WAIT: batch execution in the caller, done_seq sleeping, timeouts, signals, WAKE. */
#include "ft.h"

static void on_usr1(int s) { (void)s; }

struct later { struct ft_reg *r; unsigned int idx; useconds_t delay; };
static void *submit_later(void *p)
{
	struct later *l = p;

	usleep(l->delay);
	ft_submit(l->r, 0, l->idx, SYS_getpid, 0, 0, 0, 0, 0, 0);
	return NULL;
}

static void *kill_later(void *p)
{
	usleep(100000);
	pthread_kill(*(pthread_t *)p, SIGUSR1);
	return NULL;
}

int main(void)
{
	ft_require_device("wait");
	struct ft_reg R;
	int e = ft_open(&R, 1, 1);

	if (e) {
		ft_fail("wait.register", "%s", strerror(e));
		return 1;
	}
	struct flexsc_group *g = ft_group(&R, 0);
	char bufs[64][8];
	int pfd[2];
	pipe(pfd);

	/* 64 entries, no SERVE thread: one WAIT(EXECUTE) runs them all. */
	for (unsigned i = 0; i < 64; i++) {
		if (i % 2)
			ft_submit(&R, 0, i, SYS_getpid, 0, 0, 0, 0, 0, 0);
		else {
			snprintf(bufs[i], sizeof(bufs[i]), "%02u;", i);
			ft_submit(&R, 0, i, SYS_write, pfd[1], (uint64_t)(uintptr_t)bufs[i], 3, 0, 0, 0);
		}
	}
	ft_check(g->submit_bits[0] == ~0ull, "wait.batch_all_bits_set", "submit_bits %#llx", (unsigned long long)g->submit_bits[0]);
	uint32_t seq = g->done_seq;
	uint64_t batches = g->stat_batches;
	struct flexsc_wait w = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = -1, .done_seq = seq };
	int rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	ft_check(rc == 0 && w.executed == 64, "wait.batch_64_in_one_call", "rc %d executed %u", rc, w.executed);
	int ok = 1;
	for (unsigned i = 0; i < 64; i++) {
		struct flexsc_entry *en = ft_entry(&R, 0, i);
		if (en->status != FLEXSC_DONE || en->ret != (i % 2 ? getpid() : 3))
			ok = 0;
		en->status = FLEXSC_FREE;
	}
	ft_check(ok, "wait.batch_results", "an entry is not DONE with the right ret");
	char all[256] = { 0 };
	ssize_t n = read(pfd[0], all, sizeof(all) - 1);
	ft_check(n == 96 && !strncmp(all, "00;02;04;", 9), "wait.batch_writes_in_order", "read %zd '%.12s'", n, all);
	ft_check(g->done_seq == seq + 64 && g->stat_batches == batches + 1, "wait.batch_done_seq_and_one_batch",
		 "done_seq +%u, batches +%llu", g->done_seq - seq, (unsigned long long)(g->stat_batches - batches));

	/* Nothing pending, done_seq changed already: returns at once. */
	w = (struct flexsc_wait){ .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = -1, .done_seq = seq };
	rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	ft_check(rc == 0 && w.executed == 0, "wait.stale_done_seq_returns", "rc %d", rc);
	/* timeout 0: poll. */
	w = (struct flexsc_wait){ .group = 0, .timeout_ns = 0, .done_seq = g->done_seq };
	rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	ft_check(rc == 0, "wait.timeout0_no_sleep", "rc %d %s", rc, strerror(errno));
	/* A finite timeout: ETIMEDOUT after about that long. */
	w = (struct flexsc_wait){ .group = 0, .timeout_ns = 50000000, .done_seq = g->done_seq };
	uint64_t t0 = ft_now_ns();
	rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	uint64_t dt = ft_now_ns() - t0;
	ft_check(rc < 0 && errno == ETIMEDOUT && dt >= 45000000 && dt < 2000000000, "wait.timeout_ETIMEDOUT",
		 "rc %d (%s) after %llu ms", rc, strerror(errno), (unsigned long long)dt / 1000000);

	/* A signal ends an unbounded WAIT with EINTR. */
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t self = pthread_self(), k;
	pthread_create(&k, NULL, kill_later, &self);
	w = (struct flexsc_wait){ .group = 0, .timeout_ns = -1, .done_seq = g->done_seq };
	rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	ft_check(rc < 0 && errno == EINTR, "wait.signal_EINTR", "rc %d %s", rc, strerror(errno));
	pthread_join(k, NULL);

	/* Sleeping WAIT woken by a completion from a SERVE thread. */
	ft_pool_start(&R, 0, 1);
	struct later l = { &R, 9, 100000 };
	pthread_t s;
	seq = g->done_seq;
	pthread_create(&s, NULL, submit_later, &l);
	w = (struct flexsc_wait){ .group = 0, .timeout_ns = 5000000000ll, .done_seq = seq };
	t0 = ft_now_ns();
	rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	dt = ft_now_ns() - t0;
	ft_check(rc == 0 && g->done_seq != seq && ft_entry(&R, 0, 9)->status == FLEXSC_DONE && dt > 50000000,
		 "wait.woken_by_completion", "rc %d (%s), %llu ms, status %u", rc, rc ? strerror(errno) : "",
		 (unsigned long long)dt / 1000000, ft_entry(&R, 0, 9)->status);
	pthread_join(s, NULL);
	ft_reap(&R, 0, 9, 10000);

	/* done_waiters is visible while someone sleeps. */
	l.idx = 10;
	l.delay = 2000000;      /* the completion comes well after the waiter is asleep, even on a slow host */
	seq = g->done_seq;
	pthread_create(&s, NULL, submit_later, &l);
	struct flexsc_wait w2 = { .group = 0, .timeout_ns = 5000000000ll, .done_seq = seq };
	pthread_t waiter;
	struct targ { int fd; struct flexsc_wait *w; } ta = { R.fd, &w2 };
	void *wait_thread(void *p) { struct targ *t = p; ioctl(t->fd, FLEXSC_IOC_WAIT, t->w); return NULL; }
	pthread_create(&waiter, NULL, wait_thread, &ta);
	/* Poll for the waiter to go to sleep (a loaded host may take a while to run it). */
	for (int i = 0; i < 1500 && __atomic_load_n(&g->done_waiters, __ATOMIC_RELAXED) != 1; i++)
		usleep(1000);
	ft_check(g->done_waiters == 1, "wait.done_waiters_counts_sleeper", "done_waiters %u", g->done_waiters);
	pthread_join(s, NULL);
	pthread_join(waiter, NULL);
	ft_check(g->done_waiters == 0, "wait.done_waiters_back_to_0", "done_waiters %u", g->done_waiters);
	ft_reap(&R, 0, 10, 10000);

	/*
	 * WAKE_WAITERS ends a WAIT(EXECUTE) sleep from another thread (a carrier sleeping in its
	 * own group, given work by another thread), without a completion: rc 0 long before the
	 * 10 s timeout, done_seq moved by one.
	 */
	seq = g->done_seq;
	struct flexsc_wait w3 = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = 10000000000ll, .done_seq = seq };
	struct targ tb = { R.fd, &w3 };
	void *wait_rc(void *p) { struct targ *t = p; return (void *)(intptr_t)(ioctl(t->fd, FLEXSC_IOC_WAIT, t->w) ? errno : 0); }
	t0 = ft_now_ns();
	pthread_create(&waiter, NULL, wait_rc, &tb);
	for (int i = 0; i < 5000 && __atomic_load_n(&g->done_waiters, __ATOMIC_RELAXED) != 1; i++)
		usleep(1000);
	unsigned int g0w = 0;
	rc = ioctl(R.fd, FLEXSC_IOC_WAKE_WAITERS, &g0w);
	void *werr;
	pthread_join(waiter, &werr);
	dt = ft_now_ns() - t0;
	ft_check(rc == 0 && werr == NULL && w3.executed == 0 && g->done_seq == seq + 1 && dt < 9000000000ull,
		 "wait.wake_waiters_ends_sleep", "rc %d, WAIT errno %ld, executed %u, done_seq +%u, %llu ms",
		 rc, (long)(intptr_t)werr, w3.executed, g->done_seq - seq, (unsigned long long)dt / 1000000);
	/* A WAKE_WAITERS between the caller's read of done_seq and its WAIT: the WAIT returns at once. */
	seq = g->done_seq;
	rc = ioctl(R.fd, FLEXSC_IOC_WAKE_WAITERS, &g0w);
	w = (struct flexsc_wait){ .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = 10000000000ll, .done_seq = seq };
	t0 = ft_now_ns();
	int rc2 = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	dt = ft_now_ns() - t0;
	ft_check(rc == 0 && rc2 == 0 && dt < 9000000000ull, "wait.wake_waiters_before_wait_not_lost",
		 "rc %d/%d, %llu ms", rc, rc2, (unsigned long long)dt / 1000000);
	unsigned int bad = 1;
	ft_check(ft_ioctl_errno(R.fd, FLEXSC_IOC_WAKE_WAITERS, &bad) == EINVAL, "wait.wake_waiters_bad_group_EINVAL",
		 "group 1 of 1 not refused");

	/* After STOP: WAIT refuses with ESHUTDOWN and executes nothing. */
	ioctl(R.fd, FLEXSC_IOC_STOP);
	ft_check(ft_pool_join(&R, 3000), "wait.stop_returns_serve", "SERVE did not return");
	ft_check(R.pool_rc[0] == 0, "wait.serve_returns_0_on_stop", "SERVE returned %ld (%s)", R.pool_rc[0], strerror(R.pool_errno[0]));
	ft_check(g->flags & FLEXSC_GROUP_STOPPING, "wait.stopping_flag_set", "flags %#x", g->flags);
	ft_submit(&R, 0, 11, SYS_getpid, 0, 0, 0, 0, 0, 0);
	w = (struct flexsc_wait){ .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = -1, .done_seq = g->done_seq };
	rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	ft_check(rc < 0 && errno == ESHUTDOWN && ft_entry(&R, 0, 11)->status == FLEXSC_SUBMITTED, "wait.after_stop_ESHUTDOWN",
		 "rc %d %s status %u", rc, strerror(errno), ft_entry(&R, 0, 11)->status);
	unsigned int g0 = 0;
	rc = ioctl(R.fd, FLEXSC_IOC_SERVE, &g0);
	ft_check(rc == 0, "wait.serve_after_stop_returns_0", "rc %d %s", rc, strerror(errno));
	munmap(R.map, R.size);
	close(R.fd);
	return ft_exit();
}
