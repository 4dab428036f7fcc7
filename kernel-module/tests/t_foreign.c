// SPDX-License-Identifier: GPL-2.0
/* Another process cannot map or drive a registration, even holding its fd. */
#include "ft.h"
#include <sched.h>
#include <sys/wait.h>

static struct ft_reg R;
static volatile int vm_child_errno[3];

static int vm_child(void *arg)
{
	unsigned int g = 0;
	struct flexsc_wait w = { .group = 0, .timeout_ns = 0 };

	(void)arg;
	vm_child_errno[0] = ioctl(R.fd, FLEXSC_IOC_WAKE, &g) < 0 ? errno : 0;
	vm_child_errno[1] = ioctl(R.fd, FLEXSC_IOC_WAIT, &w) < 0 ? errno : 0;
	vm_child_errno[2] = ioctl(R.fd, FLEXSC_IOC_SERVE, &g) < 0 ? errno : 0;
	return 0;
}

int main(void)
{
	ft_require_device("foreign");
	if (ft_open(&R, 1, 1)) {
		ft_fail("foreign.register", "%s", strerror(errno));
		return 1;
	}
	ft_pool_start(&R, 0, 1);
	fflush(stdout);

	pid_t pid = fork();
	if (pid == 0) {
		unsigned int g = 0;
		struct flexsc_wait w = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = 0 };
		struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = 1, .pages = 1 };
		int e;

		e = ft_ioctl_errno(R.fd, FLEXSC_IOC_SERVE, &g);
		ft_check(e == EPERM, "foreign.child_serve_EPERM", "got %s", strerror(e));
		e = ft_ioctl_errno(R.fd, FLEXSC_IOC_WAIT, &w);
		ft_check(e == EPERM, "foreign.child_wait_EPERM", "got %s", strerror(e));
		e = ft_ioctl_errno(R.fd, FLEXSC_IOC_WAKE, &g);
		ft_check(e == EPERM, "foreign.child_wake_EPERM", "got %s", strerror(e));
		e = ft_ioctl_errno(R.fd, FLEXSC_IOC_WAKE_WAITERS, &g);
		ft_check(e == EPERM, "foreign.child_wake_waiters_EPERM", "got %s", strerror(e));
		e = ft_ioctl_errno(R.fd, FLEXSC_IOC_STOP, NULL);
		ft_check(e == EPERM, "foreign.child_stop_EPERM", "got %s", strerror(e));
		e = ft_ioctl_errno(R.fd, FLEXSC_IOC_REGISTER, &reg);
		ft_check(e == EBUSY, "foreign.child_register_EBUSY", "got %s", strerror(e));
		void *m = mmap(NULL, R.size, PROT_READ | PROT_WRITE, MAP_SHARED, R.fd, 0);
		ft_check(m == MAP_FAILED && errno == EPERM, "foreign.child_mmap_EPERM", "mmap gave %p (%s)", m, strerror(errno));
		ft_check(msync(R.map, 4096, MS_ASYNC) < 0 && errno == ENOMEM, "foreign.mapping_not_inherited_by_fork",
			 "the parent's syscall pages are mapped in the child");
		close(R.fd);    /* a foreign close must not stop the owner */
		fflush(stdout);
		_exit(ft_failures ? 1 : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		ft_fail("foreign.child_ran", "child status %#x", st);
	else if (WEXITSTATUS(st))
		ft_failures++;  /* the child printed its FAIL lines */

	long r = ft_call(&R, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0);
	ft_check(r == getpid() && !R.pool_done[0], "foreign.owner_unaffected_by_child_close", "ret %ld, SERVE done %d", r, R.pool_done[0]);

	/* Same mm, different thread group (clone(CLONE_VM) without CLONE_THREAD). */
	char *stack = malloc(65536);
	pid = clone(vm_child, stack + 65536, CLONE_VM | SIGCHLD, NULL);
	waitpid(pid, &st, 0);
	ft_check(vm_child_errno[0] == EPERM && vm_child_errno[1] == EPERM && vm_child_errno[2] == EPERM,
		 "foreign.clone_vm_other_tgid_EPERM", "wake %s, wait %s, serve %s", strerror(vm_child_errno[0]),
		 strerror(vm_child_errno[1]), strerror(vm_child_errno[2]));
	free(stack);

	/* A registration made in a child stays the child's: the parent cannot use it. */
	int fd = open("/dev/flexsc", O_RDWR);
	pid = fork();
	if (pid == 0) {
		struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = 1, .pages = 1 };
		_exit(ioctl(fd, FLEXSC_IOC_REGISTER, &reg) == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	unsigned int g = 0;
	int e = ft_ioctl_errno(fd, FLEXSC_IOC_WAKE, &g);
	void *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	ft_check(WIFEXITED(st) && WEXITSTATUS(st) == 0 && e == EPERM && m == MAP_FAILED && errno == EPERM,
		 "foreign.parent_cannot_use_dead_childs_registration", "child %#x, wake %s, mmap %p", st, strerror(e), m);
	close(fd);
	ft_close(&R);
	return ft_exit();
}
