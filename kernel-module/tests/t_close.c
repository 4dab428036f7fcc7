// SPDX-License-Identifier: GPL-2.0
/* close, exit, kill and signals with calls in flight: threads return, nothing hangs. */
#include "ft.h"
#include <sys/wait.h>

static void on_sig(int s) { (void)s; }

/* Wait for a child at most ms; returns its status or -1 if it is still there. */
static int wait_child(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(1000);
	}
	return -1;
}

struct hammer { int fd; volatile int stop; long wakes; };
static void *hammer_main(void *p)
{
	struct hammer *h = p;
	unsigned int g = 0;

	while (!h->stop) {
		if (ioctl(h->fd, FLEXSC_IOC_WAKE, &g) < 0)
			break;          /* EBADF once the fd is closed (or reused: EPERM/ENOTTY) */
		struct flexsc_wait w = { .group = 0, .timeout_ns = 0 };
		ioctl(h->fd, FLEXSC_IOC_WAIT, &w);
		h->wakes++;
	}
	return NULL;
}

int main(void)
{
	ft_require_device("close");
	struct ft_reg R;
	int p[2];
	char buf[8];

	/* (a) close() with a read blocked in a SERVE thread. */
	if (ft_open(&R, 1, 1) == 0) {
		ft_pool_start(&R, 0, 2);
		pipe(p);
		ft_submit(&R, 0, 0, SYS_read, p[0], (uint64_t)(uintptr_t)buf, sizeof(buf), 0, 0, 0);
		ft_submit(&R, 0, 1, SYS_getpid, 0, 0, 0, 0, 0, 0);
		usleep(100000);
		struct flexsc_entry *en = ft_entry(&R, 0, 0);
		ft_check(en->status == FLEXSC_BUSY, "close.read_in_flight", "status %u", en->status);
		uint64_t t0 = ft_now_ns();
		close(R.fd);
		int joined = ft_pool_join(&R, 5000);
		ft_check(joined, "close.serve_threads_return", "SERVE threads still in the kernel 5 s after close()");
		ft_check(joined && R.pool_rc[0] == 0 && R.pool_rc[1] == 0, "close.serve_returns_0",
			 "rc %ld/%ld", R.pool_rc[0], R.pool_rc[1]);
		printf("# close: SERVE threads returned %llu ms after close()\n", (unsigned long long)(ft_now_ns() - t0) / 1000000);
		ft_check(en->status == FLEXSC_DONE && en->ret == -EINTR, "close.blocked_read_completes_EINTR",
			 "status %u ret %lld", en->status, (long long)en->ret);
		ft_check(ft_group(&R, 0)->flags & FLEXSC_GROUP_STOPPING, "close.stopping_flag", "flags %#x", ft_group(&R, 0)->flags);
		/* The pages stay valid until munmap. */
		ft_check(R.ctrl->magic == FLEXSC_MAGIC, "close.mapping_valid_until_munmap", "magic %#x", R.ctrl->magic);
		munmap(R.map, R.size);
		close(p[0]);
		close(p[1]);
	} else {
		ft_fail("close.register", "%s", strerror(errno));
	}

	/* (b) exit_group with a blocked read, a WAIT sleeper and a pool. */
	pid_t pid = fork();
	if (pid == 0) {
		struct ft_reg C;
		int q[2];
		char b[8];

		if (ft_open(&C, 1, 1))
			_exit(3);
		ft_pool_start(&C, 0, 2);
		pipe(q);
		ft_submit(&C, 0, 0, SYS_read, q[0], (uint64_t)(uintptr_t)b, sizeof(b), 0, 0, 0);
		usleep(100000);
		_exit(0);
	}
	int st = wait_child(pid, 10000);
	ft_check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "close.exit_with_calls_in_flight", "child %s (status %#x)",
		 st < 0 ? "did not exit in 10 s" : "exited abnormally", st);
	if (st < 0) { kill(pid, SIGKILL); waitpid(pid, NULL, 0); }

	/* (c) SIGKILL with a blocked read and a sleeping WAIT. */
	pid = fork();
	if (pid == 0) {
		struct ft_reg C;
		int q[2];
		char b[8];

		if (ft_open(&C, 1, 1))
			_exit(3);
		ft_pool_start(&C, 0, 2);
		pipe(q);
		ft_submit(&C, 0, 0, SYS_read, q[0], (uint64_t)(uintptr_t)b, sizeof(b), 0, 0, 0);
		struct flexsc_wait w = { .group = 0, .timeout_ns = -1, .done_seq = ft_group(&C, 0)->done_seq };
		ioctl(C.fd, FLEXSC_IOC_WAIT, &w);
		_exit(4);
	}
	usleep(200000);
	kill(pid, SIGKILL);
	st = wait_child(pid, 10000);
	ft_check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "close.sigkill_with_calls_in_flight", "child %s (status %#x)",
		 st < 0 ? "did not die in 10 s" : "ended otherwise", st);
	if (st < 0) waitpid(pid, NULL, 0);

	/* (d) signals to a SERVE thread: EINTR without SA_RESTART, transparent restart with it. */
	if (ft_open(&R, 1, 1) == 0) {
		struct sigaction sa = { .sa_handler = on_sig };
		sigaction(SIGUSR1, &sa, NULL);
		ft_pool_start(&R, 0, 1);
		pthread_kill(R.pool[0], SIGUSR1);
		ft_check(ft_pool_join(&R, 3000) && R.pool_rc[0] < 0 && R.pool_errno[0] == EINTR, "close.signal_ends_serve_EINTR",
			 "rc %ld errno %s", R.pool_rc[0], strerror(R.pool_errno[0]));
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
		ft_pool_start(&R, 0, 1);
		pthread_kill(R.pool[0], SIGUSR1);
		usleep(100000);
		long r = ft_call(&R, 0, 3, SYS_getpid, 0, 0, 0, 0, 0, 0);
		ft_check(!R.pool_done[0] && r == getpid(), "close.sa_restart_keeps_serving", "SERVE returned (%ld) or call failed (%ld)",
			 R.pool_rc[0], r);
		ft_close(&R);
		ft_check(R.npool == 0, "close.stop_after_restart", "SERVE did not return");
		signal(SIGUSR1, SIG_DFL);
	}

	/* (e) WAKE and WAIT hammered from two threads while close() runs, 50 rounds. */
	int rounds_ok = 0;
	for (int round = 0; round < 50; round++) {
		if (ft_open(&R, 1, 1))
			break;
		ft_pool_start(&R, 0, 1);
		struct hammer h = { .fd = R.fd };
		pthread_t t1, t2;
		pthread_create(&t1, NULL, hammer_main, &h);
		pthread_create(&t2, NULL, hammer_main, &h);
		ft_submit(&R, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0);
		usleep(round * 200);
		close(R.fd);
		int joined = ft_pool_join(&R, 3000);
		h.stop = 1;
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		munmap(R.map, R.size);
		if (joined)
			rounds_ok++;
	}
	ft_check(rounds_ok == 50, "close.wake_wait_race_with_close", "%d of 50 rounds ended cleanly", rounds_ok);

	/* (f) munmap first, then close; and close of a never-mapped registration. */
	if (ft_open(&R, 2, 8) == 0) {
		munmap(R.map, R.size);
		ft_check(close(R.fd) == 0, "close.munmap_then_close", "%s", strerror(errno));
	}
	int fd = open("/dev/flexsc", O_RDWR);
	struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = 3, .pages = 3 };
	ft_check(ioctl(fd, FLEXSC_IOC_REGISTER, &reg) == 0 && close(fd) == 0, "close.registered_never_mapped", "%s", strerror(errno));
	return ft_exit();
}
