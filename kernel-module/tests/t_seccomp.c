// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp: entries are not system call entries, so a filter never sees them.
 * The module runs entries only in threads without a filter: a filter that
 * reaches an executor (TSYNC, or inherited by a thread created later) stops
 * the registration with FLEXSC_STOP_SECCOMP, unexecuted entries stay
 * SUBMITTED, and SERVE / WAIT(EXECUTE) / REGISTER refuse with EPERM. Once a
 * posted openat returned a descriptor while the same openat made directly
 * failed with the filter's EPERM. Each case runs in a child (filters stay).
 */
#include "ft.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* openat fails with EPERM; everything else is allowed. */
static int install_filter(unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static uint32_t stop_reason(struct ft_reg *r)
{
	/* Acquire on flags: stop_reason is written before STOPPING. */
	if (!(__atomic_load_n(&ft_group(r, 0)->flags, __ATOMIC_ACQUIRE) & FLEXSC_GROUP_STOPPING))
		return 0xffffffffu;
	return __atomic_load_n(&r->ctrl->stop_reason, __ATOMIC_RELAXED);
}

/* Codes: 0 pass, 10+ setup, 20+ check failures (printed by the parent). */
static int tsync_reaches_serve_threads(void)
{
	struct ft_reg R;
	int spare = open("/dev/flexsc", O_RDWR);       /* before the filter denies openat */

	if (ft_open(&R, 1, 1) || spare < 0)
		return 10;
	ft_pool_start(&R, 0, 2);
	if (ft_call(&R, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0) != getpid())
		return 11;
	if (install_filter(SECCOMP_FILTER_FLAG_TSYNC) != 0)
		return 12;
	if (openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY) != -1 || errno != EPERM)
		return 13;      /* the filter itself does not work */
	ft_submit(&R, 0, 1, SYS_openat, AT_FDCWD, (uint64_t)(uintptr_t)"/", O_RDONLY | O_DIRECTORY, 0, 0, 0);
	long r = ft_reap(&R, 0, 1, 2000);
	if (r != FT_TIMEOUT) {
		printf("# the posted openat returned %ld under a filter that denies openat\n", r);
		return 20;
	}
	if (ft_entry(&R, 0, 1)->status != FLEXSC_SUBMITTED)
		return 21;      /* not left for the owner */
	if (!ft_pool_join(&R, 3000))
		return 22;      /* SERVE threads did not leave */
	if (R.pool_rc[0] != 0 || R.pool_rc[1] != 0)
		return 23;
	uint32_t why = stop_reason(&R);
	if (why != FLEXSC_STOP_SECCOMP) {
		printf("# stop_reason %#x\n", why);
		return 24;
	}
	struct flexsc_wait w = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE };
	if (ioctl(R.fd, FLEXSC_IOC_WAIT, &w) != -1 || errno != ESHUTDOWN)
		return 25;
	struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = 1, .pages = 1 };
	if (ioctl(spare, FLEXSC_IOC_REGISTER, &reg) != -1 || errno != EPERM)
		return 26;      /* REGISTER under a filter */
	return 0;
}

/* A filtered thread calling WAIT(EXECUTE) is refused, and the registration stops. */
static int wait_execute_in_filtered_thread(void)
{
	struct ft_reg R;

	if (ft_open(&R, 1, 1))
		return 10;
	ft_submit(&R, 0, 0, SYS_openat, AT_FDCWD, (uint64_t)(uintptr_t)"/", O_RDONLY | O_DIRECTORY, 0, 0, 0);
	if (install_filter(0) != 0)
		return 12;
	struct flexsc_wait w = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE };
	long r = ioctl(R.fd, FLEXSC_IOC_WAIT, &w);
	if (r != -1 || errno != EPERM) {
		printf("# WAIT(EXECUTE) returned %ld (%s), executed %u, entry ret %lld\n", r,
		       r ? strerror(errno) : "ok", w.executed, (long long)ft_entry(&R, 0, 0)->ret);
		return 20;
	}
	if (ft_entry(&R, 0, 0)->status != FLEXSC_SUBMITTED)
		return 21;
	if (stop_reason(&R) != FLEXSC_STOP_SECCOMP)
		return 24;
	return 0;
}

/* A SERVE thread created after a filter inherits it: SERVE refuses with EPERM. */
static int serve_thread_inherits_filter(void)
{
	struct ft_reg R;

	if (ft_open(&R, 1, 1))
		return 10;
	if (install_filter(0) != 0)
		return 12;
	ft_pool_start(&R, 0, 1);
	if (!ft_pool_join(&R, 3000))
		return 22;
	if (R.pool_rc[0] != -1 || R.pool_errno[0] != EPERM) {
		printf("# SERVE returned %ld (%s)\n", R.pool_rc[0], strerror(R.pool_errno[0]));
		return 20;
	}
	if (stop_reason(&R) != FLEXSC_STOP_SECCOMP)
		return 24;
	return 0;
}

static int in_child(int (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	ft_require_device("seccomp");
	int rc;

	rc = in_child(tsync_reaches_serve_threads);
	ft_check(rc == 0, "seccomp.tsync_filter_stops_serve_threads",
		 "child status %d (20: the posted openat ran, 21: entry not left SUBMITTED, 22/23: SERVE threads did not"
		 " return 0, 24: stop_reason, 25: WAIT after the stop, 26: REGISTER not refused)", rc);
	rc = in_child(wait_execute_in_filtered_thread);
	ft_check(rc == 0, "seccomp.wait_execute_refused_in_filtered_thread",
		 "child status %d (20: not refused with EPERM, 21: entry executed, 24: stop_reason)", rc);
	rc = in_child(serve_thread_inherits_filter);
	ft_check(rc == 0, "seccomp.serve_refused_in_thread_inheriting_filter",
		 "child status %d (20: SERVE not refused with EPERM, 22: SERVE did not return, 24: stop_reason)", rc);
	return ft_exit();
}
