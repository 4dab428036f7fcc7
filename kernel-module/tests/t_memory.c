// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel memory of a registration (up to 60 groups x 8 pages, about 1.9 MiB):
 * charged to the registering process's memory cgroup, and to its user's locked
 * memory against RLIMIT_MEMLOCK (unless CAP_IPC_LOCK), as io_uring charges its
 * rings. Over either limit REGISTER fails with ENOMEM (never an OOM kill), and
 * both charges return after close. Once it was unaccounted vmalloc memory.
 */
#include "ft.h"
#include <grp.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CG "/sys/fs/cgroup"
#define BIG_GROUPS 60
#define BIG_PAGES 8

static long read_long(const char *path)
{
	char b[64] = "";
	int fd = open(path, O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(b, NULL, 10) : -1;
}

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	long n = fd < 0 ? -1 : write(fd, v, strlen(v));

	if (fd >= 0)
		close(fd);
	return n == (long)strlen(v) ? 0 : -1;
}

/* A memory cgroup for this test, or a reason it cannot be had. */
static const char *memcg_setup(void)
{
	if (access(CG "/cgroup.controllers", F_OK) != 0) {
		mkdir(CG, 0755);
		if (mount("none", CG, "cgroup2", 0, NULL) != 0)
			return "cannot mount cgroup2";
	}
	if (write_str(CG "/cgroup.subtree_control", "+memory") != 0)
		return "cannot enable the memory controller";
	mkdir(CG "/flexsc_t", 0755);
	if (access(CG "/flexsc_t/memory.current", F_OK) != 0)
		return "no memory.current in the test cgroup";
	return NULL;
}

/* Move the calling process into the test cgroup. */
static int join_cgroup(void)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_str(CG "/flexsc_t/cgroup.procs", pid);
}

/* In a child inside the cgroup: 0 pass, 20 not charged, 21 not returned. */
static int charged_child(void)
{
	struct ft_reg R;

	if (join_cgroup())
		return 10;
	long size = (long)FLEXSC_MAPPING_SIZE(BIG_GROUPS, BIG_PAGES);
	long before = read_long(CG "/flexsc_t/memory.current");
	if (ft_open(&R, BIG_GROUPS, BIG_PAGES))
		return 11;
	long during = read_long(CG "/flexsc_t/memory.current");
	ft_close(&R);
	usleep(100000);         /* the final fput runs on return to user space; settle */
	long after = read_long(CG "/flexsc_t/memory.current");
	printf("# memcg: registration of %ld KiB: memory.current %ld -> %ld -> %ld KiB\n",
	       size >> 10, before >> 10, during >> 10, after >> 10);
	if (during - before < size * 9 / 10)
		return 20;
	if (during - after < size * 9 / 10)
		return 21;
	return 0;
}

/* memory.max leaves room for a small registration but not a big one: ENOMEM, no OOM kill. */
static int limited_child(void)
{
	char v[32];
	struct ft_reg R;

	if (join_cgroup())
		return 10;
	long cur = read_long(CG "/flexsc_t/memory.current");
	snprintf(v, sizeof(v), "%ld", cur + 512 * 1024);
	if (write_str(CG "/flexsc_t/memory.max", v))
		return 12;
	int e = ft_open(&R, BIG_GROUPS, BIG_PAGES);
	if (e != ENOMEM) {
		printf("# REGISTER of %u groups x %u pages under memory.max = current + 512 KiB: %s\n",
		       BIG_GROUPS, BIG_PAGES, e ? strerror(e) : "succeeded");
		return 20;
	}
	if (ft_open(&R, 1, 8))
		return 21;      /* a small one still fits */
	ft_close(&R);
	return 0;
}

static int wait_child(pid_t pid)
{
	int st;

	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int in_child(int (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	return wait_child(pid);
}

/*
 * RLIMIT_MEMLOCK as an unprivileged user: 256 KiB. A (9 pages) and B (49) fit,
 * C (9) does not (ENOMEM); after A is closed, C fits: the charge came back.
 */
static int memlock_child(void)
{
	struct rlimit rl = { 256 * 1024, 256 * 1024 };
	struct ft_reg A, B, C;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return 10;
	if (ft_open(&A, 1, 8))
		return 11;
	if (ft_open(&B, 6, 8))
		return 12;
	int e = ft_open(&C, 1, 8);
	if (e != ENOMEM) {
		printf("# third registration over RLIMIT_MEMLOCK: %s\n", e ? strerror(e) : "succeeded");
		return 20;
	}
	ft_close(&A);
	usleep(100000);         /* release (and the unaccounting) runs on return to user space */
	e = ft_open(&C, 1, 8);
	if (e) {
		printf("# after closing A: %s\n", strerror(e));
		return 21;
	}
	ft_close(&B);
	ft_close(&C);
	/* Over the limit from the start: */
	e = ft_open(&A, BIG_GROUPS, BIG_PAGES);
	return e == ENOMEM ? 0 : 22;
}

int main(void)
{
	ft_require_device("memory");
	const char *why = memcg_setup();
	int rc;

	if (why) {
		ft_skip("memory.memcg_charged_and_returned", "%s", why);
		ft_skip("memory.memcg_limit_gives_ENOMEM", "%s", why);
	} else {
		rc = in_child(charged_child);
		ft_check(rc == 0, "memory.memcg_charged_and_returned",
			 "child status %d (20: the registration was not charged to memory.current, 21: not returned)", rc);
		rc = in_child(limited_child);
		ft_check(rc == 0, "memory.memcg_limit_gives_ENOMEM",
			 "child status %d (20: a registration over memory.max did not fail with ENOMEM, 21: a small one"
			 " failed, 137: OOM-killed)", rc);
		rmdir(CG "/flexsc_t");
	}
	rc = in_child(memlock_child);
	ft_check(rc == 0, "memory.memlock_limit_per_user",
		 "child status %d (20: over RLIMIT_MEMLOCK not ENOMEM, 21: the charge did not come back after close,"
		 " 22: a registration larger than the limit succeeded)", rc);
	return ft_exit();
}
