// SPDX-License-Identifier: GPL-2.0
/*
 * The pool: a read on an empty pipe blocks one SERVE thread; a spare takes
 * over and the other entries still complete; the read completes when data
 * arrives. Also WAIT(EXECUTE) leaves a blocking call to the pool.
 */
#include "ft.h"

static const char *takeover_mode(void)
{
	static char buf[16];
	FILE *f = fopen("/sys/module/flexsc/parameters/takeover", "r");

	snprintf(buf, sizeof(buf), "takeover%c", f && fgets(buf, sizeof(buf), f) ? buf[0] : '?');
	if (f)
		fclose(f);
	return buf;
}

int main(void)
{
	ft_require_device("block");
	const char *tm = takeover_mode();
	char name[128];
#define NM(s) (snprintf(name, sizeof(name), "block.%s.%s", tm, s), name)
	struct ft_reg R;
	int e = ft_open(&R, 1, 1);

	if (e) {
		ft_fail(NM("register"), "%s", strerror(e));
		return 1;
	}
	ft_pool_start(&R, 0, 3);
	struct flexsc_group *g = ft_group(&R, 0);
	ft_check(g->executors == 3, NM("three_serve_threads"), "executors %u", g->executors);

	int p[2], p2[2];
	char buf[16] = { 0 }, buf2[16] = { 0 };
	pipe(p);
	pipe(p2);
	ft_submit(&R, 0, 0, SYS_read, p[0], (uint64_t)(uintptr_t)buf, sizeof(buf), 0, 0, 0);
	ft_wait_claimed(&R, 0, 0, 10000);
	usleep(100000);         /* the read is now asleep in a SERVE thread */
	ft_check(ft_entry(&R, 0, 0)->status == FLEXSC_BUSY, NM("read_blocks_BUSY"), "status %u", ft_entry(&R, 0, 0)->status);

	/* Entries behind it (and in the same bitmap word) complete meanwhile. */
	uint64_t t0 = ft_now_ns();
	int ok = 1;
	for (unsigned i = 1; i < 40; i++)
		ft_submit(&R, 0, i, SYS_getpid, 0, 0, 0, 0, 0, 0);
	for (unsigned i = 1; i < 40; i++)
		if (ft_reap(&R, 0, i, 10000) != getpid())
			ok = 0;
	ft_check(ok, NM("others_complete_while_read_blocks"), "some getpid entries did not complete in 10 s");
	printf("# block %s: 39 getpid entries completed in %llu us while a read blocked a SERVE thread\n", tm,
	       (unsigned long long)(ft_now_ns() - t0) / 1000);
	ft_check(ft_now_ns() - t0 < 10000000000ull, NM("others_bounded_time"), "%llu ms", (unsigned long long)(ft_now_ns() - t0) / 1000000);

	/* A second blocked read: the third thread takes over again. */
	ft_submit(&R, 0, 41, SYS_read, p2[0], (uint64_t)(uintptr_t)buf2, sizeof(buf2), 0, 0, 0);
	ft_wait_claimed(&R, 0, 41, 10000);
	usleep(100000);
	long r = ft_call(&R, 0, 42, SYS_getppid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getppid(), NM("second_blocker_still_served"), "ret %ld", r);
	ft_check(ft_entry(&R, 0, 0)->status == FLEXSC_BUSY, NM("first_read_still_blocked"), "status %u", ft_entry(&R, 0, 0)->status);

	write(p[1], "data!", 5);
	r = ft_reap(&R, 0, 0, 10000);
	ft_check(r == 5 && !memcmp(buf, "data!", 5), NM("read_completes_when_data_arrives"), "ret %ld '%s'", r, buf);
	write(p2[1], "xy", 2);
	r = ft_reap(&R, 0, 41, 10000);
	ft_check(r == 2 && !memcmp(buf2, "xy", 2), NM("second_read_completes"), "ret %ld", r);
	/* After both calls return the pool is whole again. */
	r = ft_call(&R, 0, 43, SYS_getpid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getpid(), NM("pool_serves_after_blockers"), "ret %ld", r);
	usleep(50000);
	ft_check(g->running <= 1, NM("running_at_most_one"), "running %u", g->running);

	/* WAIT(EXECUTE) with a pool: the blocking read goes to the pool, the caller does not block. */
	memset(buf, 0, sizeof(buf));
	ft_submit(&R, 0, 44, SYS_read, p[0], (uint64_t)(uintptr_t)buf, sizeof(buf), 0, 0, 0);
	struct flexsc_wait w = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = 0, .done_seq = g->done_seq };
	t0 = ft_now_ns();
	int rc = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	ft_check(rc == 0 && ft_now_ns() - t0 < 1000000000ull, NM("wait_execute_leaves_blocking_call_to_pool"), "rc %d, %llu ms", rc,
		 (unsigned long long)(ft_now_ns() - t0) / 1000000);
	write(p[1], "z", 1);
	r = ft_reap(&R, 0, 44, 10000);
	ft_check(r == 1 && buf[0] == 'z', NM("routed_read_completes"), "ret %ld", r);
	ft_close(&R);
	ft_check(R.npool == 0, NM("stop_joins_pool"), "SERVE threads did not return after STOP");
	return ft_exit();
}
