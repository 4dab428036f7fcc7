// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed entries are harmless: a bit whose entry is not SUBMITTED is
 * skipped and the entry left as it is; bits past the group's entries and
 * garbage in submit_bits are dropped; bad pointers give -EFAULT; scribbled
 * control fields do not break the group. Runs with a SERVE pool and in
 * WAIT(EXECUTE) mode.
 */
#include "ft.h"

static void run(const char *mode, int batch)
{
	struct ft_reg R;
	char name[128];
	int e = ft_open(&R, 2, 1);

#define NM(s) (snprintf(name, sizeof(name), "malformed.%s.%s", mode, s), name)
	if (e) {
		ft_fail(NM("register"), "%s", strerror(e));
		return;
	}
	R.batch = batch;
	if (!batch)
		ft_pool_start(&R, 0, 2);
	struct flexsc_group *g = ft_group(&R, 0);

	/* Entries in FREE, BUSY, DONE and a garbage status, with their bits set. */
	static const uint32_t statuses[] = { FLEXSC_FREE, FLEXSC_BUSY, FLEXSC_DONE, 7, 0xffffffffu };
	for (unsigned i = 0; i < 5; i++) {
		struct flexsc_entry *en = ft_entry(&R, 0, 10 + i);
		en->sysnr = SYS_getpid;
		en->ret = 12345;
		en->status = statuses[i];
	}
	uint64_t before_refused = g->stat_refused;
	__atomic_fetch_or(&g->submit_bits[0], 0x1full << 10, __ATOMIC_SEQ_CST);
	/* Bits past the group's 64 entries, in every other word. */
	for (unsigned w = 1; w < FLEXSC_BITMAP_WORDS; w++)
		__atomic_store_n(&g->submit_bits[w], ~0ull, __ATOMIC_SEQ_CST);
	/* A valid entry behind them proves the executor went past the garbage. */
	long r = ft_call(&R, 0, 40, SYS_getpid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getpid(), NM("valid_entry_after_garbage"), "ret %ld", r);
	int untouched = 1;
	for (unsigned i = 0; i < 5; i++) {
		struct flexsc_entry *en = ft_entry(&R, 0, 10 + i);
		if (en->status != statuses[i] || en->ret != 12345)
			untouched = 0;
	}
	ft_check(untouched, NM("non_submitted_entries_left_alone"), "an entry not SUBMITTED was executed or changed");
	/*
	 * Entry 40 is in word 0: a SERVE thread completes it before it claims the
	 * garbage words after it, so give it (a bounded) while to get there.
	 */
	int words_clear = 0;
	for (int t = 0; t < 2000; t++) {
		words_clear = 1;
		for (unsigned w = 0; w < FLEXSC_BITMAP_WORDS; w++)
			if (__atomic_load_n(&g->submit_bits[w], __ATOMIC_ACQUIRE))
				words_clear = 0;
		/* The pass's statistics are flushed to the page when it ends. */
		if (words_clear && __atomic_load_n(&g->stat_refused, __ATOMIC_RELAXED) >= before_refused + 5 + 7 * 64)
			break;
		usleep(1000);
	}
	ft_check(words_clear, NM("garbage_bits_consumed"), "submit_bits still set");
	ft_check(g->stat_refused >= before_refused + 5 + 7 * 64, NM("garbage_counted_refused"),
		 "stat_refused %llu, was %llu", (unsigned long long)g->stat_refused, (unsigned long long)before_refused);

	/* A SUBMITTED entry without its bit is not run (no scanning of statuses). */
	struct flexsc_entry *lone = ft_entry(&R, 0, 50);
	lone->sysnr = SYS_getpid;
	__atomic_store_n(&lone->status, FLEXSC_SUBMITTED, __ATOMIC_RELEASE);
	r = ft_call(&R, 0, 51, SYS_getppid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getppid() && lone->status == FLEXSC_SUBMITTED, NM("submitted_without_bit_not_run"), "status %u", lone->status);
	lone->status = FLEXSC_FREE;

	/* Bad pointers in args: -EFAULT, never an oops. */
	r = ft_call(&R, 0, 1, SYS_write, 1, 0xffff888000000000ull, 16, 0, 0, 0);
	ft_check(r == -EFAULT, NM("kernel_pointer_EFAULT"), "ret %ld", r);
	int vfd = open("/proc/version", O_RDONLY);
	r = ft_call(&R, 0, 2, SYS_read, vfd, 0x10, 16, 0, 0, 0);
	ft_check(r == -EFAULT, NM("low_pointer_read_EFAULT"), "ret %ld", r);
	close(vfd);
	r = ft_call(&R, 0, 3, SYS_uname, (uint64_t)R.map + 0x100000000ull, 0, 0, 0, 0, 0);
	ft_check(r == -EFAULT, NM("unmapped_pointer_EFAULT"), "ret %ld", r);
	/* A call whose buffer is the syscall page itself: legal, the process's own memory. */
	r = ft_call(&R, 0, 4, SYS_getrandom, (uint64_t)(uintptr_t)ft_entry(&R, 1, 0), 64, 0, 0, 0, 0);
	ft_check(r == 64, NM("buffer_in_shared_page"), "ret %ld", r);
	memset(ft_entry(&R, 1, 0), 0, 64);

	/* Scribbled control fields: flags, done_seq, running, executors, stats. */
	struct flexsc_group saved = *g;
	g->flags = 0xffffffffu;
	g->running = 77;
	g->executors = 0;
	g->done_seq = 0xfffffff0u;
	g->done_waiters = 99;
	g->stat_executed = ~0ull;
	memset(g->pad1, 0xab, sizeof(g->pad1));
	r = ft_call(&R, 0, 5, SYS_getpid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getpid(), NM("scribbled_control_block"), "ret %ld", r);
	g->flags = saved.flags & ~FLEXSC_GROUP_NEED_WAKEUP;   /* a lie: no wake-ups asked */
	ft_submit(&R, 0, 6, SYS_getpid, 0, 0, 0, 0, 0, 0);     /* sees no NEED_WAKEUP: no WAKE */
	unsigned int g0 = 0;
	ioctl(R.fd, FLEXSC_IOC_WAKE, &g0);                     /* an explicit WAKE still works */
	r = ft_reap(&R, 0, 6, 10000);
	ft_check(r == getpid(), NM("cleared_need_wakeup_then_wake"), "ret %ld", r);

	/* Scribbled header (magic, sizes): the kernel keeps its own copy. */
	R.ctrl->groups = 1000;
	R.ctrl->entries = 100000;
	__atomic_store_n(&g->submit_bits[0], ~0ull, __ATOMIC_SEQ_CST);
	r = ft_call(&R, 0, 7, SYS_getpid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getpid(), NM("scribbled_header"), "ret %ld", r);
	ft_close(&R);
#undef NM
}

int main(void)
{
	ft_require_device("malformed");
	run("serve", 0);
	run("wait", 1);
	return ft_exit();
}
