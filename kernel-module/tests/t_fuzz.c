// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded-time fuzz: random ioctl commands and arguments; seeded programs
 * mixing the ioctls with close/dup/munmap/mremap/mprotect/madvise/fork/
 * unshare/seccomp and posted calls (prog_op); then processes whose syscall
 * pages are scribbled with random bytes and random submissions while SERVE
 * and WAIT threads run, killed at random points. The kernel must survive
 * (oops=panic would end the guest), every child must die when told, and a
 * fresh registration must work afterwards.
 *
 *   t_fuzz [SEED [SECONDS]]   the whole run (default: a fresh seed, 6 s)
 *   t_fuzz prog SEED          replay one program
 */
#include "ft.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	/* xorshift64*: deterministic per seed, printed for reproduction */
	rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void on_sig(int s) { (void)s; }
static volatile int kicker_stop;
static void *kicker(void *p)
{
	pthread_t t = *(pthread_t *)p;

	while (!kicker_stop) {
		usleep(2000);
		pthread_kill(t, SIGUSR1);   /* ends a SERVE or an unbounded WAIT the fuzzer walked into */
	}
	return NULL;
}

static unsigned char *guard_buf;        /* a page followed by an unmapped page */

static uint64_t fuzz_ptr(void *good)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return rnd() % 4096;
	case 2: return 0xffff800000000000ull | (rnd() & 0x7fffffffffffull);
	case 3: return (uint64_t)(uintptr_t)(guard_buf + 4096 - (rnd() % 24));
	case 4: return rnd();
	default:
		for (int i = 0; i < 64; i++)
			((unsigned char *)good)[i] = (unsigned char)rnd();
		if (rnd() % 2) {
			/* plausible structs: small groups, known versions */
			struct flexsc_register *r = good;
			r->abi_version = rnd() % 3 ? FLEXSC_ABI_VERSION : (uint32_t)rnd();
			r->groups = (uint32_t)(rnd() % 70);
			r->pages = (uint32_t)(rnd() % 10);
			r->flags = rnd() % 4 ? 0 : (uint32_t)rnd();
			struct flexsc_wait *w = good;
			if (rnd() % 2) {
				w->group = (uint32_t)(rnd() % 4);
				w->flags = (uint32_t)(rnd() % 3);
				w->timeout_ns = (int64_t)(rnd() % 3) - 1 + (rnd() % 2) * 100000;
			}
		}
		return (uint64_t)(uintptr_t)good;
	}
}

static void ioctl_fuzz(uint64_t ns)
{
	static const unsigned long cmds[] = { FLEXSC_IOC_REGISTER, FLEXSC_IOC_SERVE, FLEXSC_IOC_WAIT, FLEXSC_IOC_WAKE, FLEXSC_IOC_STOP,
					      FLEXSC_IOC_CANCEL, FLEXSC_IOC_WAKE_WAITERS };
	unsigned char good[256] __attribute__((aligned(64)));
	pthread_t self = pthread_self(), k;
	struct sigaction sa = { .sa_handler = on_sig };
	uint64_t end = ft_now_ns() + ns;
	long n = 0;
	int fds[4];

	sigaction(SIGUSR1, &sa, NULL);
	kicker_stop = 0;
	pthread_create(&k, NULL, kicker, &self);
	for (int i = 0; i < 4; i++)
		fds[i] = open("/dev/flexsc", O_RDWR);
	while (ft_now_ns() < end) {
		int slot = (int)(rnd() % 4);
		unsigned long cmd;

		switch (rnd() % 4) {
		case 0: case 1: cmd = cmds[rnd() % (sizeof(cmds) / sizeof(cmds[0]))]; break;
		case 2: cmd = _IOC(rnd() % 4, FLEXSC_IOC_MAGIC, rnd() % 8, rnd() % 64); break;
		default: cmd = (unsigned long)(uint32_t)rnd(); break;
		}
		ioctl(fds[slot], cmd, (void *)(uintptr_t)fuzz_ptr(good));
		if (rnd() % 16 == 0) {
			void *m = mmap(NULL, (rnd() % 64) * 4096 + (rnd() % 2), PROT_READ | PROT_WRITE,
				       rnd() % 4 ? MAP_SHARED : MAP_PRIVATE, fds[slot], (rnd() % 4) * 4096);
			if (m != MAP_FAILED) {
				memset(m, (int)rnd(), 64);
				munmap(m, 4096);
			}
		}
		if (rnd() % 64 == 0) {
			close(fds[slot]);
			fds[slot] = open("/dev/flexsc", O_RDWR);
		}
		n++;
	}
	kicker_stop = 1;
	pthread_join(k, NULL);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	signal(SIGUSR1, SIG_DFL);
	printf("# fuzz: %ld random ioctls\n", n);
}

/* ------------------------------------------------------------------------ */
static struct ft_reg C;
static unsigned char scratch[8192] __attribute__((aligned(4096)));

static uint64_t fuzz_arg(void)
{
	switch (rnd() % 5) {
	case 0: return 0;
	case 1: return rnd() % 64;
	case 2: return (uint64_t)(uintptr_t)(scratch + rnd() % 4096);
	case 3: return (uint64_t)(uintptr_t)C.map + rnd() % C.size;
	default: return rnd();
	}
}

static void *waiter_main(void *p)
{
	(void)p;
	for (;;) {
		struct flexsc_wait w = { .group = (uint32_t)(rnd() % 3), .flags = (uint32_t)(rnd() % 2),
					 .timeout_ns = (int64_t)(rnd() % 2000000), .done_seq = (uint32_t)rnd() };
		ioctl(C.fd, FLEXSC_IOC_WAIT, &w);
	}
	return NULL;
}

static void page_fuzz_child(uint64_t seed)
{
	static const long calls[] = { 0, 1, 3, 5, 8, 17, 18, 19, 20, 28, 39, 40, 41, 42, 44, 45, 46, 47, 48, 49,
		50, 54, 55, 63, 74, 75, 77, 102, 104, 110, 217, 221, 257, 258, 262, 263, 275, 285, 288, 316, 318, 332,
		56, 57, 60, 62, 186, 231, 59, 202, 157 };
	pthread_t t;

	rng = seed;
	/* Contain path-taking calls: an empty root, and no terminal to write on. */
	mkdir("/tmp/fuzzroot", 0755);
	if (ft_open(&C, 2, 1))
		_exit(3);
	if (chroot("/tmp/fuzzroot") || chdir("/"))
		_exit(4);
	int nul = open("/proc/self/fd/0", O_RDONLY); (void)nul;
	for (int fd = 0; fd < 3; fd++) {
		close(fd);
		open("/", O_RDONLY | O_DIRECTORY);      /* fds 0-2: a directory, writes fail */
	}
	ft_pool_start(&C, 0, 2);
	ft_pool_start(&C, 1, 1);
	pthread_create(&t, NULL, waiter_main, NULL);
	for (;;) {
		unsigned int g = (unsigned int)(rnd() % 2), i = (unsigned int)(rnd() % 64);
		switch (rnd() % 6) {
		case 0: {   /* random bytes anywhere in the mapping */
			size_t off = rnd() % (C.size / 8);
			((uint64_t *)C.map)[off] = rnd();
			break;
		}
		case 1:     /* random submit bits */
			__atomic_fetch_or(&ft_group(&C, g)->submit_bits[rnd() % 8], rnd(), __ATOMIC_SEQ_CST);
			ioctl(C.fd, FLEXSC_IOC_WAKE, &g);
			break;
		case 2:     /* random status words */
			ft_entry(&C, g, i)->status = (uint32_t)(rnd() % 5);
			break;
		default: {  /* a submission with a random call and random arguments */
			long nr = rnd() % 4 ? calls[rnd() % (sizeof(calls) / sizeof(calls[0]))] : (long)(uint32_t)rnd();
			ft_submit(&C, g, i, nr, fuzz_arg(), fuzz_arg(), fuzz_arg(), fuzz_arg(), fuzz_arg(), fuzz_arg());
			break;
		}
		}
		if (rnd() % 4096 == 0)
			ioctl(C.fd, FLEXSC_IOC_STOP);
	}
}

/* ------------------------------------------------------------------------ */
/*
 * Programs: seeded sequences of registration ioctls mixed with what a process
 * can do around them (the spirit of syzkaller's io_uring descriptions): close,
 * dup and dup2 of the device fd, munmap, mremap, mprotect and madvise of the
 * mapping (MADV_DOFORK included), fork, unshare(CLONE_FILES), seccomp filters
 * (TSYNC or not), posted calls that close or reopen over the device fd, read
 * from pipes (blocking executors) or madvise the mapping, page scribbling, and
 * exit at a random point (SIGKILL from the parent, or the program's own exit
 * with threads in the kernel). Each program prints its seed; `t_fuzz prog SEED`
 * replays its operation sequence (thread interleavings may differ).
 */
struct prog {
	int fd, dup_fd, pipe_r, pipe_w;
	void *map;
	size_t size;
	int groups, pages, mapped_rw;
};
static struct prog P;

static void *prog_server(void *arg)
{
	unsigned int g = (unsigned int)(uintptr_t)arg;
	int fd = P.fd;

	if (rnd() % 4 == 0)
		unshare(CLONE_FILES);   /* its own fd table: fdget takes no reference */
	for (int i = 0; i < 4; i++)
		if (ioctl(fd, FLEXSC_IOC_SERVE, &g) == 0)
			break;
	return NULL;
}

static void *prog_waiter(void *arg)
{
	(void)arg;
	for (int i = 0; i < 64; i++) {
		struct flexsc_wait w = { .group = (uint32_t)(rnd() % 3), .flags = (uint32_t)(rnd() % 2),
					 .timeout_ns = (int64_t)(rnd() % 3000000), .done_seq = (uint32_t)rnd() };
		ioctl(P.fd, FLEXSC_IOC_WAIT, &w);
	}
	return NULL;
}

static void prog_post(long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (!P.map || !P.mapped_rw)
		return;
	struct ft_reg r = { .fd = P.fd, .map = P.map, .size = P.size, .ctrl = P.map,
			    .groups = (unsigned)P.groups, .pages = (unsigned)P.pages,
			    .entries = (unsigned)P.pages * FLEXSC_ENTRIES_PER_PAGE };
	unsigned int g = (unsigned int)(rnd() % (unsigned)P.groups), i = (unsigned int)(rnd() % r.entries);
	ft_submit(&r, g, i, nr, a0, a1, a2, 0, 0, 0);
}

static void prog_op(void)
{
	static const int advice[] = { MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, MADV_NORMAL, MADV_WILLNEED };
	pthread_t t;
	char c;

	switch (rnd() % 24) {
	case 0: case 1: {       /* REGISTER (+ mmap) on the current fd */
		struct flexsc_register reg = { .abi_version = FLEXSC_ABI_VERSION,
					       .groups = 1 + (uint32_t)(rnd() % 3), .pages = 1 + (uint32_t)(rnd() % 2) };
		if (ioctl(P.fd, FLEXSC_IOC_REGISTER, &reg) == 0) {
			void *m = mmap(NULL, reg.mapping_size, PROT_READ | PROT_WRITE, MAP_SHARED, P.fd, 0);
			if (m != MAP_FAILED) {
				P.map = m;
				P.size = reg.mapping_size;
				P.groups = (int)reg.groups;
				P.pages = (int)reg.pages;
				P.mapped_rw = 1;
			}
		}
		break;
	}
	case 2:                 /* a SERVE thread */
		pthread_create(&t, NULL, prog_server, (void *)(uintptr_t)(rnd() % 3));
		pthread_detach(t);
		break;
	case 3:
		pthread_create(&t, NULL, prog_waiter, NULL);
		pthread_detach(t);
		break;
	case 4: {
		struct flexsc_wait w = { .group = (uint32_t)(rnd() % 3), .flags = FLEXSC_WAIT_EXECUTE,
					 .timeout_ns = (int64_t)(rnd() % 2000000) };
		ioctl(P.fd, FLEXSC_IOC_WAIT, &w);
		break;
	}
	case 5: {
		unsigned int g = (unsigned int)(rnd() % 3);
		ioctl(P.fd, rnd() % 2 ? FLEXSC_IOC_WAKE : FLEXSC_IOC_WAKE_WAITERS, &g);
		break;
	}
	case 6:
		if (rnd() % 4 == 0)
			ioctl(P.fd, FLEXSC_IOC_STOP);
		break;
	case 7: {
		struct flexsc_cancel cn = { .group = (uint32_t)(rnd() % 3), .index = (uint32_t)(rnd() % 130) };
		ioctl(P.fd, FLEXSC_IOC_CANCEL, &cn);
		break;
	}
	case 8:                 /* close the device fd directly, or through a posted close */
		if (rnd() % 2)
			close(P.fd);
		else
			prog_post(SYS_close, (uint64_t)P.fd, 0, 0);
		break;
	case 9:                 /* dup, dup2 over the device fd, reopen */
		switch (rnd() % 3) {
		case 0: P.dup_fd = dup(P.fd); break;
		case 1: dup2(P.pipe_r, P.fd); break;
		default: P.fd = open("/dev/flexsc", O_RDWR); break;
		}
		break;
	case 10:                /* a posted openat over the freed number */
		prog_post(SYS_openat, AT_FDCWD, (uint64_t)(uintptr_t)"/dev/flexsc", O_RDWR);
		break;
	case 11:
		if (P.map) {
			munmap(P.map, rnd() % 2 ? P.size : 4096);
			P.map = NULL;
		}
		break;
	case 12:
		if (P.map) {
			void *m = mremap(P.map, P.size, P.size + (rnd() % 2) * 4096, MREMAP_MAYMOVE);
			if (m != MAP_FAILED)
				P.map = m;
		}
		break;
	case 13:
		if (P.map) {
			int prot = (int)(rnd() % 3);
			prot = prot == 0 ? PROT_NONE : prot == 1 ? PROT_READ : PROT_READ | PROT_WRITE;
			if (mprotect(P.map, P.size, prot | (rnd() % 8 == 0 ? PROT_EXEC : 0)) == 0)
				P.mapped_rw = prot == (PROT_READ | PROT_WRITE);
		}
		break;
	case 14:                /* madvise on the mapping, direct or posted */
		if (P.map) {
			int a = advice[rnd() % 5];
			if (rnd() % 2)
				madvise(P.map, P.size, a);
			else
				prog_post(SYS_madvise, (uint64_t)(uintptr_t)P.map, P.size, (uint64_t)a);
		}
		break;
	case 15: {              /* fork: the child pokes at what it inherited, then leaves */
		pid_t pid = fork();
		if (pid == 0) {
			unsigned int g = 0;
			ioctl(P.fd, FLEXSC_IOC_WAKE, &g);
			ioctl(P.fd, FLEXSC_IOC_STOP);
			if (P.map && P.mapped_rw && rnd() % 2)
				((volatile uint32_t *)P.map)[rnd() % 16] = (uint32_t)rnd();  /* SIGSEGV if not inherited */
			_exit(0);
		}
		break;
	}
	case 16:
		unshare(CLONE_FILES);
		break;
	case 17:                /* an allow-everything seccomp filter: executors must stop the registration */
		if (rnd() % 4 == 0) {
			struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
			struct sock_fprog fp = { .len = 1, .filter = f };
			prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
			syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, rnd() % 2 ? SECCOMP_FILTER_FLAG_TSYNC : 0, &fp);
		}
		break;
	case 18:                /* a read that blocks an executor; a write that ends it */
		prog_post(SYS_read, (uint64_t)P.pipe_r, (uint64_t)(uintptr_t)scratch, 1);
		break;
	case 19:
		if (write(P.pipe_w, "x", 1) != 1)
			c = 0;
		break;
	case 20:                /* scribble */
		if (P.map && P.mapped_rw)
			((uint64_t *)P.map)[rnd() % (P.size / 8)] = rnd();
		break;
	case 21:
		prog_post((long)(rnd() % 340), rnd() % 64, (uint64_t)(uintptr_t)(scratch + rnd() % 4096), rnd() % 64);
		break;
	case 22:
		prog_post(SYS_getpid, 0, 0, 0);
		break;
	default:                /* leave now, threads in the kernel or not */
		if (rnd() % 8 == 0)
			_exit(0);
		break;
	}
	(void)c;
}

static void prog_child(uint64_t seed)
{
	int p[2];

	rng = seed;
	mkdir("/tmp/fuzzroot", 0755);
	if (pipe(p))
		_exit(3);
	P = (struct prog){ .fd = open("/dev/flexsc", O_RDWR), .dup_fd = -1, .pipe_r = p[0], .pipe_w = p[1] };
	if (P.fd < 0)
		_exit(3);
	if (chroot("/tmp/fuzzroot") || chdir("/"))
		_exit(4);
	int n = 20 + (int)(rnd() % 200);
	for (int i = 0; i < n; i++)
		prog_op();
	_exit(0);
}

/* One program (replay): run it in a child and report how it ended. */
static int prog_run_one(uint64_t seed, int kill_after_ms)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		prog_child(seed);
	int st = -1;
	/* Wall-clock deadlines: a usleep(1000) can take tens of ms on a loaded TCG host. */
	uint64_t kill_at = ft_now_ns() + (uint64_t)kill_after_ms * 1000000, give_up = kill_at + 5000000000ull;
	bool killed = false;
	while (ft_now_ns() < give_up) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return 0;
		if (!killed && ft_now_ns() >= kill_at) {
			kill(pid, SIGKILL);
			killed = true;
		}
		usleep(1000);
	}
	printf("# fuzz program seed %#llx did not die in 5 s after SIGKILL (rerun: t_fuzz prog %#llx)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Programs and scribbling processes each phase runs at the least (coverage, not time). */
#define MIN_RUNS 3

static void prog_fuzz(uint64_t ns)
{
	uint64_t end = ft_now_ns() + ns;
	int programs = 0, stuck = 0;

	/* At least MIN_RUNS programs however slow the host: the budget bounds the extra ones. */
	while (programs < MIN_RUNS || ft_now_ns() < end) {
		uint64_t seed = rnd() | 1;
		if (prog_run_one(seed, 20 + (int)(rnd() % 300)))
			stuck++;
		programs++;
	}
	printf("# fuzz: %d programs\n", programs);
	ft_check(stuck == 0, "fuzz.programs_die_on_kill", "%d of %d programs hung after SIGKILL (seeds above)", stuck, programs);
}

int main(int argc, char **argv)
{
	ft_require_device("fuzz");
	if (argc > 2 && strcmp(argv[1], "prog") == 0) {
		/* Replay one program: t_fuzz prog SEED */
		uint64_t seed = strtoull(argv[2], NULL, 0);
		int rc = prog_run_one(seed, 2000);
		ft_check(rc == 0, "fuzz.program_replayed", "seed %#llx hung", (unsigned long long)seed);
		return ft_exit();
	}
	uint64_t seed = argc > 1 && *argv[1] ? strtoull(argv[1], NULL, 0) : (ft_now_ns() ^ ((uint64_t)getpid() << 32));
	double secs = argc > 2 ? atof(argv[2]) : 6.0;

	rng = seed | 1;
	printf("# fuzz seed %#llx, %.0f s (rerun: t_fuzz %#llx %.0f)\n", (unsigned long long)seed, secs,
	       (unsigned long long)seed, secs);
	guard_buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(guard_buf + 4096, 4096);

	ioctl_fuzz((uint64_t)(secs / 4 * 1e9));
	ft_pass("fuzz.random_ioctls_survived");

	prog_fuzz((uint64_t)(secs / 4 * 1e9));

	uint64_t end = ft_now_ns() + (uint64_t)(secs / 2 * 1e9);
	int children = 0, stuck = 0, bad = 0;
	while (children < MIN_RUNS || ft_now_ns() < end) {
		uint64_t cseed = rnd() | 1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			page_fuzz_child(cseed);
		usleep(50000 + rnd() % 400000);
		kill(pid, SIGKILL);
		int st = -1;
		for (uint64_t give_up = ft_now_ns() + 5000000000ull; ft_now_ns() < give_up;) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				break;
			usleep(1000);
		}
		if (st == -1) {
			stuck++;
			printf("# fuzz child seed %#llx did not die in 5 s after SIGKILL\n", (unsigned long long)cseed);
			waitpid(pid, &st, 0);
		} else if (WIFEXITED(st) && WEXITSTATUS(st) >= 3) {
			bad++;
			printf("# fuzz child seed %#llx could not set up (status %d)\n", (unsigned long long)cseed, WEXITSTATUS(st));
		}
		children++;
	}
	printf("# fuzz: %d scribbling processes\n", children);
	ft_check(stuck == 0, "fuzz.scribbled_processes_die_on_kill", "%d of %d children hung after SIGKILL", stuck, children);
	ft_check(bad == 0, "fuzz.scribbled_processes_ran", "%d of %d children failed to register", bad, children);

	struct ft_reg R;
	int e = ft_open(&R, 1, 1);
	if (!e) {
		R.batch = 1;
		long r = ft_call(&R, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0);
		ft_check(r == getpid(), "fuzz.fresh_registration_works", "ret %ld", r);
		ft_close(&R);
	} else {
		ft_fail("fuzz.fresh_registration_works", "register: %s", strerror(e));
	}
	return ft_exit();
}
