// SPDX-License-Identifier: GPL-2.0
/*
 * FLEXSC_IOC_CANCEL: interrupts exactly the call of one entry (it completes
 * with -EINTR), never another blocked call, never the next call of the same
 * SERVE thread; an entry that is not inside a call is left alone (0).
 */
#include "ft.h"

int main(void)
{
	ft_require_device("cancel");
	struct ft_reg R;
	int e = ft_open(&R, 1, 1);

	if (e) {
		ft_fail("cancel.register", "%s", strerror(e));
		return 1;
	}
	ft_pool_start(&R, 0, 3);
	int p[2], q[2];
	char buf[16], qbuf[16] = { 0 };

	pipe(p);
	pipe(q);

	/* A bystander: a second read blocked on another pipe must not be touched. */
	ft_submit(&R, 0, 1, SYS_read, q[0], (uint64_t)(uintptr_t)qbuf, sizeof(qbuf), 0, 0, 0);

	struct flexsc_cancel c = { .group = 0, .index = 5 };
	long rc = ioctl(R.fd, FLEXSC_IOC_CANCEL, &c);
	ft_check(rc == 0, "cancel.free_entry_is_left_alone", "rc %ld errno %d", rc, rc < 0 ? errno : 0);
	c.group = 1;
	rc = ioctl(R.fd, FLEXSC_IOC_CANCEL, &c);
	ft_check(rc < 0 && errno == EINVAL, "cancel.bad_group_EINVAL", "rc %ld errno %d", rc, errno);
	c.group = 0;
	c.index = R.entries;
	rc = ioctl(R.fd, FLEXSC_IOC_CANCEL, &c);
	ft_check(rc < 0 && errno == EINVAL, "cancel.bad_index_EINVAL", "rc %ld errno %d", rc, errno);

	/*
	 * 20 rounds: a read on an empty pipe is cancelled (-EINTR, promptly); the
	 * next blocking read, possibly on the same SERVE thread, really blocks
	 * (the cancel did not leak into it) and completes with its data.
	 */
	int ok_cancel = 1, ok_next = 1, ok_ret = 1, ok_prompt = 1;
	uint64_t worst = 0;

	for (int round = 0; round < 20; round++) {
		ft_submit(&R, 0, 0, SYS_read, p[0], (uint64_t)(uintptr_t)buf, sizeof(buf), 0, 0, 0);
		ft_wait_claimed(&R, 0, 0, 10000);
		usleep(20000);  /* asleep in the pipe by now */
		uint64_t t0 = ft_now_ns();
		struct flexsc_cancel cc = { .group = 0, .index = 0 };

		rc = ioctl(R.fd, FLEXSC_IOC_CANCEL, &cc);
		if (rc != 1) {
			if (ok_cancel)
				ft_fail("cancel.running_call_interrupted", "round %d: CANCEL returned %ld (errno %d)", round, rc, errno);
			ok_cancel = 0;
		}
		long r = ft_reap(&R, 0, 0, 10000);
		uint64_t dt = ft_now_ns() - t0;

		if (dt > worst)
			worst = dt;
		if (r != -EINTR) {
			if (ok_ret)
				ft_fail("cancel.entry_completes_EINTR", "round %d: ret %ld", round, r);
			ok_ret = 0;
		}
		if (dt > 5000000000ull)   /* a slow host's margin: a CANCEL that fails never completes */
			ok_prompt = 0;
		memset(buf, 0, sizeof(buf));
		ft_submit(&R, 0, 2, SYS_read, p[0], (uint64_t)(uintptr_t)buf, sizeof(buf), 0, 0, 0);
		ft_wait_claimed(&R, 0, 2, 10000);
		usleep(20000);
		if (ft_entry(&R, 0, 2)->status != FLEXSC_BUSY) {
			if (ok_next)
				ft_fail("cancel.does_not_leak_into_next_call", "round %d: the next read did not block (status %u, ret %ld)",
					round, ft_entry(&R, 0, 2)->status, (long)ft_entry(&R, 0, 2)->ret);
			ok_next = 0;
		}
		write(p[1], "abc", 3);
		r = ft_reap(&R, 0, 2, 10000);
		if (r != 3 || memcmp(buf, "abc", 3)) {
			if (ok_next)
				ft_fail("cancel.does_not_leak_into_next_call", "round %d: next read ret %ld", round, r);
			ok_next = 0;
		}
	}
	if (ok_cancel)
		ft_pass("cancel.running_call_interrupted");
	if (ok_ret)
		ft_pass("cancel.entry_completes_EINTR");
	if (ok_next)
		ft_pass("cancel.does_not_leak_into_next_call");
	ft_check(ok_prompt, "cancel.prompt", "worst %llu ms", (unsigned long long)worst / 1000000);
	printf("# cancel: 20 blocked reads cancelled, worst %llu us from CANCEL to -EINTR\n",
	       (unsigned long long)worst / 1000);

	ft_check(ft_entry(&R, 0, 1)->status == FLEXSC_BUSY, "cancel.bystander_untouched",
		 "the other blocked read has status %u", ft_entry(&R, 0, 1)->status);
	long r = ft_call(&R, 0, 3, SYS_getpid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getpid(), "cancel.group_still_serves", "ret %ld", r);
	write(q[1], "q", 1);
	r = ft_reap(&R, 0, 1, 10000);
	ft_check(r == 1 && qbuf[0] == 'q', "cancel.bystander_completes", "ret %ld", r);

	/* STOP after cancels still stops every SERVE thread. */
	ft_close(&R);
	ft_check(R.npool == 0, "cancel.stop_after_cancels", "SERVE threads did not return after STOP");
	return ft_exit();
}
