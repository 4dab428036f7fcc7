// SPDX-License-Identifier: GPL-2.0
/*
 * The NEED_WAKEUP race: the executor sleeps after every entry (idle spin 0),
 * the submitter publishes its bit and wakes only if NEED_WAKEUP is set. No
 * submission may be lost: every cycle must complete within a bound.
 */
#include "ft.h"
#include <sched.h>

#define CYCLES 100000
/* A slow host (TCG sharing one CPU with other work) may not finish CYCLES in time: the
 * run stops after BUDGET_NS once MIN_CYCLES are done and says how many it did. */
#define MIN_CYCLES 5000
#define BUDGET_NS 20000000000ull
/* Nothing in the module re-wakes a sleeping executor: a lost wake-up never completes,
 * so this bound only separates "lost" from "slow". */
#define BOUND_NS 5000000000ull

static int set_param(const char *name, const char *val, char *old, size_t oldsz)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/flexsc/parameters/%s", name);
	if (old) {
		f = fopen(path, "r");
		if (!f || !fgets(old, (int)oldsz, f))
			return -1;
		fclose(f);
		old[strcspn(old, "\n")] = 0;
	}
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(val, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	ft_require_device("race");
	int cycles = argc > 1 ? atoi(argv[1]) : CYCLES;
	char old_spin[32] = "2000";
	struct ft_reg R;
	int e = ft_open(&R, 1, 1);

	if (e) {
		ft_fail("race.register", "%s", strerror(e));
		return 1;
	}
	if (set_param("idle_spin_ns", "0", old_spin, sizeof(old_spin)) != 0)
		ft_fail("race.idle_spin_0", "cannot set idle_spin_ns: %s", strerror(errno));
	ft_pool_start(&R, 0, 1);
	struct flexsc_group *g = ft_group(&R, 0);
	pid_t pid = getpid();
	int lost = 0, wrong = 0;
	uint64_t worst = 0, t_all = ft_now_ns(), sleeps0 = g->stat_sleeps;

	int c;
	for (c = 0; c < cycles; c++) {
		if (c >= MIN_CYCLES && (c & 255) == 0 && ft_now_ns() - t_all > BUDGET_NS)
			break;
		unsigned int i = c % 64;
		struct flexsc_entry *en = ft_entry(&R, 0, i);
		uint64_t t0 = ft_now_ns(), dt;
		long r;

		ft_submit(&R, 0, i, SYS_getpid, 0, 0, 0, 0, 0, 0);
		if (c & 1) {
			/* reap by spinning: the submitter never enters the kernel except for WAKE */
			while (__atomic_load_n(&en->status, __ATOMIC_ACQUIRE) != FLEXSC_DONE &&
			       ft_now_ns() - t0 < BOUND_NS)
				if ((c & 7) == 1)
					sched_yield();
			r = __atomic_load_n(&en->status, __ATOMIC_ACQUIRE) == FLEXSC_DONE ? en->ret : FT_TIMEOUT;
			__atomic_store_n(&en->status, FLEXSC_FREE, __ATOMIC_RELEASE);
		} else {
			r = ft_reap(&R, 0, i, BOUND_NS / 1000000);
		}
		dt = ft_now_ns() - t0;
		if (dt > worst)
			worst = dt;
		if (r == FT_TIMEOUT) {
			lost++;
			unsigned int g0 = 0;
			ioctl(R.fd, FLEXSC_IOC_WAKE, &g0);      /* recover, keep counting */
			ft_reap(&R, 0, i, 1000);
		} else if (r != pid) {
			wrong++;
		}
	}
	uint64_t total = ft_now_ns() - t_all, sleeps = g->stat_sleeps - sleeps0;
	cycles = c;

	ft_check(lost == 0, "race.need_wakeup_no_lost_submission", "%d of %d cycles did not complete within 5 s", lost, cycles);
	ft_check(wrong == 0, "race.results_right", "%d wrong results", wrong);
	ft_check(sleeps > (uint64_t)cycles / 10, "race.executor_slept", "only %llu sleeps in %d cycles: the sleep/wake window was not exercised",
		 (unsigned long long)sleeps, cycles);
	printf("# race: %d cycles in %llu ms, worst %llu us, %llu executor sleeps\n", cycles,
	       (unsigned long long)total / 1000000, (unsigned long long)worst / 1000, (unsigned long long)sleeps);
	set_param("idle_spin_ns", old_spin, NULL, 0);
	ft_close(&R);
	ft_check(R.npool == 0, "race.pool_stops", "SERVE did not return after STOP");
	return ft_exit();
}
