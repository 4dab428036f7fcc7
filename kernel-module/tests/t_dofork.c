// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping is never inherited by fork: a child (which may have dropped
 * privileges) must not post calls that the parent's syscall threads run with
 * the parent's credentials. madvise(MADV_DOFORK) would clear VM_DONTCOPY; the
 * module marks the mapping VM_IO, on which MADV_DOFORK fails with EINVAL,
 * whether the madvise is made directly or posted (madvise is allow-listed).
 * Once both succeeded and the child inherited the pages.
 */
#include "ft.h"
#include <sys/wait.h>

/* 1 if a child forked now has the mapping (mincore: ENOMEM where nothing is mapped). */
static int child_inherits(struct ft_reg *r)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		unsigned char vec[1];
		if (mincore(r->map, 4096, vec) == 0) {
			/* Inherited: show what it allows (the parent's SERVE thread runs it). */
			printf("# the child has the pages: magic %#x\n", r->ctrl->magic);
			_exit(1);
		}
		_exit(errno == ENOMEM ? 0 : 2);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

int main(void)
{
	ft_require_device("dofork");
	struct ft_reg R;

	if (ft_open(&R, 1, 1)) {
		ft_fail("dofork.register", "%s", strerror(errno));
		return ft_exit();
	}
	ft_pool_start(&R, 0, 1);
	int c = child_inherits(&R);
	ft_check(c == 0, "dofork.not_inherited_by_default", "child status %d", c);

	int r = madvise(R.map, R.size, MADV_DOFORK);
	ft_check(r == -1 && errno == EINVAL, "dofork.direct_madvise_dofork_refused",
		 "madvise(MADV_DOFORK) returned %d (%s)", r, r ? strerror(errno) : "ok");
	c = child_inherits(&R);
	ft_check(c == 0, "dofork.not_inherited_after_direct_madvise", "child status %d (1: inherited)", c);

	long pr = ft_call(&R, 0, 0, SYS_madvise, (uint64_t)(uintptr_t)R.map, R.size, MADV_DOFORK, 0, 0, 0);
	ft_check(pr == -EINVAL, "dofork.posted_madvise_dofork_refused", "ret %ld", pr);
	c = child_inherits(&R);
	ft_check(c == 0, "dofork.not_inherited_after_posted_madvise", "child status %d (1: inherited)", c);

	/* Other advice on the mapping still works: DONTNEED zeroes nothing the module keeps. */
	pr = ft_call(&R, 0, 1, SYS_madvise, (uint64_t)(uintptr_t)R.map, 4096, MADV_NORMAL, 0, 0, 0);
	ft_check(pr == 0, "dofork.other_madvise_still_allowed", "MADV_NORMAL ret %ld", pr);
	ft_close(&R);
	return ft_exit();
}
