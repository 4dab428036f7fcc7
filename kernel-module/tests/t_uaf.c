// SPDX-License-Identifier: GPL-2.0
/*
 * The registration's own descriptor closed by a call it executes. An ioctl on
 * a descriptor of a process whose fd table is not shared (single-threaded, or
 * a thread after unshare(CLONE_FILES)) holds no reference to the file, so an
 * executed close() of that descriptor, after munmap, drops the last one: the
 * module must not free the registration under the executor (it once did:
 * WARNING in flexsc_release from task_work_run, then a write to freed memory).
 * Each case runs in a child; a kernel bug ends the guest (oops=panic).
 */
#include "ft.h"
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Post an entry without WAKE (the poster may hold no descriptor). */
static void post(struct flexsc_entry *e, uint64_t *bits, unsigned int i, long nr,
		 uint64_t a0, uint64_t a1, uint64_t a2)
{
	e->sysnr = (uint32_t)nr;
	e->args[0] = a0; e->args[1] = a1; e->args[2] = a2;
	e->args[3] = e->args[4] = e->args[5] = 0;
	/* Release: sysnr/args before SUBMITTED (pairs with the executor's CAS-acquire). */
	__atomic_store_n(&e->status, FLEXSC_SUBMITTED, __ATOMIC_RELEASE);
	/* seq_cst OR: the bit after SUBMITTED (pairs with the executor's xchg). */
	__atomic_fetch_or(&bits[i / 64], 1ull << (i % 64), __ATOMIC_SEQ_CST);
}

/*
 * Single-threaded: post getpid and close(fd), munmap, WAIT(EXECUTE): the close
 * drops the last reference inside the ioctl. Exit 0 if all went as expected.
 */
static int wait_executes_own_close(int unused)
{
	struct ft_reg R;

	(void)unused;
	if (ft_open(&R, 1, 1))
		return 10;
	int fd = R.fd;
	uint64_t *bits = ft_group(&R, 0)->submit_bits;

	post(ft_entry(&R, 0, 0), bits, 0, SYS_getpid, 0, 0, 0);
	post(ft_entry(&R, 0, 1), bits, 1, SYS_close, fd, 0, 0);
	munmap(R.map, R.size);  /* the mapping's reference goes: only the fd table's is left */
	struct flexsc_wait w = { .group = 0, .flags = FLEXSC_WAIT_EXECUTE, .timeout_ns = 0 };
	long r = ioctl(fd, FLEXSC_IOC_WAIT, &w);
	if (r != 0 || w.executed != 2) {
		printf("# WAIT(EXECUTE) returned %ld (%s), executed %u\n", r, r ? strerror(errno) : "ok", w.executed);
		return 11;
	}
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF ? 0 : 12;
}

/* A SERVE thread with its own fd table executes the close of the only reference. */
static struct ft_reg S;
static int serve_fd = -1, pipefd[2];
static volatile int mapped, posted;
static long serve_rc = -99;

static void *unshared_server(void *p)
{
	(void)p;
	if (unshare(CLONE_FILES)) {
		serve_rc = -100;
		mapped = 1;
		return NULL;
	}
	/* The main thread closes its copy before REGISTER (no stop): ours is the only one. */
	while (!__atomic_load_n(&mapped, __ATOMIC_ACQUIRE))
		usleep(1000);
	struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION, .groups = 1, .pages = 1 };
	if (ioctl(serve_fd, FLEXSC_IOC_REGISTER, &reg)) {
		serve_rc = -101;
		__atomic_store_n(&posted, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	S.size = reg.mapping_size;
	S.map = mmap(NULL, S.size, PROT_READ | PROT_WRITE, MAP_SHARED, serve_fd, 0);
	S.ctrl = S.map;
	S.groups = S.pages = 1;
	S.entries = 64;
	__atomic_store_n(&posted, 1, __ATOMIC_RELEASE);   /* mapped: the main thread posts */
	while (__atomic_load_n(&posted, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	unsigned int g = 0;
	serve_rc = ioctl(serve_fd, FLEXSC_IOC_SERVE, &g);
	return NULL;
}

static int serve_executes_own_close(void)
{
	pthread_t t;
	char buf[4];

	if (pipe(pipefd))
		return 20;
	serve_fd = open("/dev/flexsc", O_RDWR);
	if (serve_fd < 0)
		return 21;
	pthread_create(&t, NULL, unshared_server, NULL);
	usleep(50000);          /* let it unshare (it copies our table: the fd included) */
	close(serve_fd);        /* not registered yet: no stop; the server's copy is the last */
	__atomic_store_n(&mapped, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&posted, __ATOMIC_ACQUIRE) == 0)
		usleep(1000);
	if (posted < 0) {
		pthread_join(t, NULL);
		return 22;
	}
	/* A read that blocks the only SERVE thread, then the close behind it (same word). */
	uint64_t *bits = ft_group(&S, 0)->submit_bits;
	post(ft_entry(&S, 0, 0), bits, 0, SYS_read, pipefd[0], (uint64_t)(uintptr_t)buf, 1);
	post(ft_entry(&S, 0, 1), bits, 1, SYS_close, serve_fd, 0, 0);
	__atomic_store_n(&posted, 2, __ATOMIC_RELEASE);
	if (ft_wait_claimed(&S, 0, 0, 5000) != FLEXSC_BUSY)
		return 23;
	usleep(20000);          /* inside the read */
	munmap(S.map, S.size);  /* the server's fd table now holds the only reference */
	if (write(pipefd[1], "x", 1) != 1)
		return 24;
	for (int i = 0; i < 5000 && serve_rc == -99; i++)
		usleep(1000);
	if (serve_rc == -99)
		return 25;      /* SERVE did not return after the close stopped the registration */
	pthread_join(t, NULL);
	return serve_rc == 0 ? 0 : 26;
}

static int in_child(int (*fn)(int), int arg)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int serve_case(int unused)
{
	(void)unused;
	return serve_executes_own_close();
}

/* t_uaf [wait|serve]: both cases, or one (each panicked the old module's guest on its own). */
int main(int argc, char **argv)
{
	ft_require_device("uaf");
	const char *only = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(only, "serve") != 0) {
		rc = in_child(wait_executes_own_close, 0);
		ft_check(rc == 0, "uaf.wait_execute_closes_own_fd_after_munmap",
			 "child status %d (11: WAIT failed, 12: the descriptor was not closed)", rc);
	}
	if (strcmp(only, "wait") == 0)
		return ft_exit();
	rc = in_child(serve_case, 0);
	ft_check(rc == 0, "uaf.unshared_serve_closes_own_fd_after_munmap",
		 "child status %d (2x: setup step, 25: SERVE did not return, 26: SERVE rc != 0)", rc);
	return ft_exit();
}
