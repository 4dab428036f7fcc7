// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded-time fuzz: random ioctl commands and arguments, then processes
 * whose syscall pages are scribbled with random bytes and random submissions
 * while SERVE and WAIT threads run, killed at random points. The kernel must
 * survive (oops=panic would end the guest), every child must die when told,
 * and a fresh registration must work afterwards.
 */
#include "ft.h"
#include <sched.h>
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
	static const unsigned long cmds[] = { FLEXSC_IOC_REGISTER, FLEXSC_IOC_SERVE, FLEXSC_IOC_WAIT, FLEXSC_IOC_WAKE, FLEXSC_IOC_STOP };
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
		case 0: case 1: cmd = cmds[rnd() % 5]; break;
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

int main(int argc, char **argv)
{
	ft_require_device("fuzz");
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (ft_now_ns() ^ ((uint64_t)getpid() << 32));
	double secs = argc > 2 ? atof(argv[2]) : 6.0;

	rng = seed | 1;
	printf("# fuzz seed %#llx (rerun: t_fuzz %#llx)\n", (unsigned long long)seed, (unsigned long long)seed);
	guard_buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(guard_buf + 4096, 4096);

	ioctl_fuzz((uint64_t)(secs / 3 * 1e9));
	ft_pass("fuzz.random_ioctls_survived");

	uint64_t end = ft_now_ns() + (uint64_t)(secs * 2 / 3 * 1e9);
	int children = 0, stuck = 0, bad = 0;
	while (ft_now_ns() < end) {
		uint64_t cseed = rnd() | 1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			page_fuzz_child(cseed);
		usleep(50000 + rnd() % 400000);
		kill(pid, SIGKILL);
		int st = -1;
		for (int i = 0; i < 5000; i++) {
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
	ft_check(bad == 0 && children >= 3, "fuzz.scribbled_processes_ran", "%d of %d children failed to register", bad, children);

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
