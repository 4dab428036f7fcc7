// SPDX-License-Identifier: GPL-2.0
/*
 * Every allow-listed call through the module vs the same call made directly:
 * same results, same side effects in this process (pid, fds, offsets, files,
 * memory). Refused numbers give -ENOSYS and do nothing.
 *   t_calls serve   entries executed by a SERVE thread
 *   t_calls wait    entries executed by WAIT(EXECUTE) in the caller
 */
#include "ft.h"
#include <dirent.h>
#include <stddef.h>
#include <sched.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/stat.h>

static struct ft_reg R;
static const char *mode;
static unsigned char covered[FLEXSC_NR_LIMIT];
static unsigned int slot;

/* One call through the module; a rotating entry index exercises every page. */
static long fx(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	unsigned int i = slot++ % R.entries;

	if (nr >= 0 && nr < FLEXSC_NR_LIMIT)
		covered[nr] = 1;
	return ft_call(&R, 0, i, nr, a0, a1, a2, a3, a4, a5);
}
#define FX0(nr) fx(nr, 0, 0, 0, 0, 0, 0)
/* Each argument converted to u64 as the syscall ABI does (sign-extended ints). */
#define FX(nr, ...) fx_arr(nr, (uint64_t[]){ __VA_ARGS__ }, sizeof((uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))
static long fx_arr(long nr, const uint64_t *v, size_t n)
{
	uint64_t a[6] = { 0 };

	for (size_t i = 0; i < n && i < 6; i++)
		a[i] = v[i];
	return fx(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
#define U(x) ((uint64_t)(uintptr_t)(x))

/* Direct raw syscall, kernel convention (-errno on failure). */
static long direct(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	long r = syscall(nr, a0, a1, a2, a3, a4, a5);

	return r < 0 ? -errno : r;
}

static char name_buf[128];
static const char *N(const char *n)
{
	snprintf(name_buf, sizeof(name_buf), "calls.%s.%s", mode, n);
	return name_buf;
}

static void test_identity(void)
{
	long r;
	struct utsname a, b;

	r = FX0(SYS_getpid);
	ft_check(r == getpid(), N("getpid_is_process_pid"), "module %ld, getpid() %d", r, getpid());
	r = FX0(SYS_getppid);
	ft_check(r == getppid(), N("getppid"), "module %ld, direct %d", r, getppid());
	r = FX0(SYS_getuid);
	ft_check(r == (long)getuid(), N("getuid"), "module %ld, direct %d", r, getuid());
	r = FX0(SYS_getgid);
	ft_check(r == (long)getgid(), N("getgid"), "module %ld, direct %d", r, getgid());
	memset(&a, 1, sizeof(a));
	r = FX(SYS_uname, U(&a));
	uname(&b);
	ft_check(r == 0 && !memcmp(&a, &b, sizeof(a)), N("uname"), "ret %ld, struct %s", r,
		 memcmp(&a, &b, sizeof(a)) ? "differs" : "equal");
	unsigned char rnd[64] = { 0 }, zero[64] = { 0 };
	r = FX(SYS_getrandom, U(rnd), sizeof(rnd), 0);
	ft_check(r == sizeof(rnd) && memcmp(rnd, zero, sizeof(rnd)), N("getrandom_fills_process_buffer"), "ret %ld", r);
	r = FX(SYS_getrandom, U(8), 16, 0);
	ft_check(r == -EFAULT && r == direct(SYS_getrandom, 8, 16, 0, 0, 0, 0), N("getrandom_bad_pointer_EFAULT"), "ret %ld", r);
}

static void test_files(void)
{
	char path[] = "/tmp/ft-calls-XXXXXX";
	char buf[256];
	long r, d;
	int fd = mkstemp(path);

	/* write lands in the process's own fd, at its offset */
	r = FX(SYS_write, fd, U("hello, "), 7);
	ft_check(r == 7 && lseek(fd, 0, SEEK_CUR) == 7, N("write_lands_in_process_fd"), "ret %ld, offset %ld", r, (long)lseek(fd, 0, SEEK_CUR));
	write(fd, "world", 5);
	r = FX(SYS_lseek, fd, 0, SEEK_CUR);
	ft_check(r == 12, N("lseek_sees_direct_offset"), "ret %ld", r);
	r = FX(SYS_lseek, fd, 2, SEEK_SET);
	ft_check(r == 2 && lseek(fd, 0, SEEK_CUR) == 2, N("lseek_moves_process_offset"), "ret %ld", r);
	memset(buf, 0, sizeof(buf));
	r = FX(SYS_read, fd, U(buf), 5);
	ft_check(r == 5 && !memcmp(buf, "llo, ", 5) && lseek(fd, 0, SEEK_CUR) == 7, N("read_at_offset"), "ret %ld '%s'", r, buf);
	memset(buf, 0, sizeof(buf));
	r = FX(SYS_pread64, fd, U(buf), 5, 7);
	ft_check(r == 5 && !memcmp(buf, "world", 5) && lseek(fd, 0, SEEK_CUR) == 7, N("pread64_keeps_offset"), "ret %ld '%s'", r, buf);
	r = FX(SYS_pwrite64, fd, U("W"), 1, 7);
	pread(fd, buf, 1, 7);
	ft_check(r == 1 && buf[0] == 'W', N("pwrite64"), "ret %ld byte %c", r, buf[0]);
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	lseek(fd, 0, SEEK_END);
	r = FX(SYS_writev, fd, U(iov), 2);
	pread(fd, buf, 4, 12);
	ft_check(r == 4 && !memcmp(buf, "abcd", 4), N("writev"), "ret %ld", r);
	char x[3] = { 0 }, y[3] = { 0 };
	struct iovec riov[2] = { { x, 2 }, { y, 2 } };
	lseek(fd, 12, SEEK_SET);
	r = FX(SYS_readv, fd, U(riov), 2);
	ft_check(r == 4 && !memcmp(x, "ab", 2) && !memcmp(y, "cd", 2), N("readv"), "ret %ld", r);

	struct stat s1, s2;
	r = FX(SYS_fstat, fd, U(&s1));
	fstat(fd, &s2);
	ft_check(r == 0 && s1.st_ino == s2.st_ino && s1.st_size == s2.st_size && s1.st_size == 16, N("fstat"), "ret %ld size %ld", r, (long)s1.st_size);
	memset(&s1, 0, sizeof(s1));
	r = FX(SYS_newfstatat, AT_FDCWD, U(path), U(&s1), 0);
	ft_check(r == 0 && s1.st_ino == s2.st_ino, N("newfstatat"), "ret %ld", r);
	struct statx sx = { 0 };
	r = FX(SYS_statx, AT_FDCWD, U(path), 0, STATX_BASIC_STATS, U(&sx));
	ft_check(r == 0 && sx.stx_ino == s2.st_ino && sx.stx_size == 16, N("statx"), "ret %ld", r);
	r = FX(SYS_fsync, fd);
	ft_check(r == 0, N("fsync"), "ret %ld", r);
	r = FX(SYS_fdatasync, fd);
	ft_check(r == 0, N("fdatasync"), "ret %ld", r);
	r = FX(SYS_ftruncate, fd, 3);
	fstat(fd, &s2);
	ft_check(r == 0 && s2.st_size == 3, N("ftruncate"), "ret %ld size %ld", r, (long)s2.st_size);
	r = FX(SYS_fallocate, fd, 0, 0, 8192);
	d = direct(SYS_fallocate, fd, 0, 0, 8192, 0, 0);
	fstat(fd, &s2);
	ft_check(r == d && (r != 0 || s2.st_size == 8192), N("fallocate"), "module %ld direct %ld size %ld", r, d, (long)s2.st_size);
	r = FX(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ft_check(r == 0, N("fadvise64"), "ret %ld", r);
	r = FX(SYS_read, 9999, U(buf), 1);
	d = direct(SYS_read, 9999, U(buf), 1, 0, 0, 0);
	ft_check(r == -EBADF && r == d, N("read_bad_fd_EBADF_as_direct"), "module %ld direct %ld", r, d);
	r = FX(SYS_write, fd, 16, 4);
	ft_check(r == -EFAULT, N("write_bad_pointer_EFAULT"), "ret %ld", r);

	/* openat: the fd is installed in this process's table */
	int nfd = (int)FX(SYS_openat, AT_FDCWD, U(path), O_RDONLY, 0);
	ft_check(nfd >= 0 && fcntl(nfd, F_GETFD) >= 0 && read(nfd, buf, 3) == 3, N("openat_fd_usable_directly"), "ret %d", nfd);
	r = FX(SYS_close, nfd);
	ft_check(r == 0 && fcntl(nfd, F_GETFD) < 0 && errno == EBADF, N("close_removes_process_fd"), "ret %ld", r);
	close(fd);

	/* directories */
	char dir[64], dir2[64], file[80];
	snprintf(dir, sizeof(dir), "%s.d", path);
	snprintf(dir2, sizeof(dir2), "%s.e", path);
	r = FX(SYS_mkdirat, AT_FDCWD, U(dir), 0755);
	struct stat ds;
	ft_check(r == 0 && stat(dir, &ds) == 0 && S_ISDIR(ds.st_mode), N("mkdirat"), "ret %ld", r);
	r = FX(SYS_mkdirat, AT_FDCWD, U(dir), 0755);
	ft_check(r == -EEXIST, N("mkdirat_exists_EEXIST"), "ret %ld", r);
	for (int i = 0; i < 5; i++) {
		snprintf(file, sizeof(file), "%s/f%d", dir, i);
		close(open(file, O_CREAT | O_WRONLY, 0644));
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	char dbuf[4096];
	r = FX(SYS_getdents64, dfd, U(dbuf), sizeof(dbuf));
	int names = 0;
	for (long off = 0; r > 0 && off < r; ) {
		struct dirent64 { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *de = (void *)(dbuf + off);
		names++;
		off += de->reclen;
	}
	ft_check(names == 7, N("getdents64_lists_7"), "ret %ld, %d names (want . .. f0-f4)", r, names);
	r = FX(SYS_getdents64, dfd, U(dbuf), sizeof(dbuf));
	ft_check(r == 0, N("getdents64_offset_advanced"), "second call ret %ld", r);
	close(dfd);
	snprintf(file, sizeof(file), "%s/f0", dir);
	r = FX(SYS_unlinkat, AT_FDCWD, U(file), 0);
	ft_check(r == 0 && access(file, F_OK) != 0, N("unlinkat"), "ret %ld", r);
	r = FX(SYS_renameat2, AT_FDCWD, U(dir), AT_FDCWD, U(dir2), 0);
	ft_check(r == 0 && access(dir, F_OK) != 0 && access(dir2, F_OK) == 0, N("renameat2"), "ret %ld", r);
	for (int i = 1; i < 5; i++) {
		snprintf(file, sizeof(file), "%s/f%d", dir2, i);
		unlink(file);
	}
	r = FX(SYS_unlinkat, AT_FDCWD, U(dir2), AT_REMOVEDIR);
	ft_check(r == 0 && access(dir2, F_OK) != 0, N("unlinkat_removedir"), "ret %ld", r);
	unlink(path);
}

static void test_pipes(void)
{
	int p[2], q[2];
	char buf[64];
	long r;

	pipe(p);
	/* close through the module runs the final fput now: the reader sees EOF at once */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	r = FX(SYS_close, p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf));
	ft_check(r == 0 && n == 0, N("close_pipe_writer_gives_EOF_now"), "close ret %ld, read %zd (%s)", r, n, n < 0 ? strerror(errno) : "");
	close(p[0]);

	/* sendfile: file -> pipe; splice: pipe -> file */
	char path[] = "/tmp/ft-sf-XXXXXX";
	int fd = mkstemp(path);
	write(fd, "sendfile-data", 13);
	pipe(p);
	off_t off = 0;
	r = FX(SYS_sendfile, p[1], fd, U(&off), 13);
	memset(buf, 0, sizeof(buf));
	n = read(p[0], buf, sizeof(buf));
	ft_check(r == 13 && off == 13 && n == 13 && !memcmp(buf, "sendfile-data", 13), N("sendfile"), "ret %ld off %ld read %zd", r, (long)off, n);
	write(p[1], "splice", 6);
	pipe(q);
	loff_t o2 = 0;
	int fd2 = open(path, O_RDWR);
	r = FX(SYS_splice, p[0], 0, fd2, U(&o2), 6, 0);
	memset(buf, 0, sizeof(buf));
	pread(fd2, buf, 6, 0);
	ft_check(r == 6 && o2 == 6 && !memcmp(buf, "splice", 6), N("splice"), "ret %ld off %ld '%s'", r, (long)o2, buf);
	close(fd); close(fd2); close(p[0]); close(p[1]); close(q[0]); close(q[1]);
	unlink(path);
}

static void test_sockets(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	long r;
	char buf[64];
	socklen_t alen;

	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "ft-calls-%d-%s", getpid(), mode);
	alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
	int ls = (int)FX(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	ft_check(ls >= 0 && fcntl(ls, F_GETFD) >= 0, N("socket"), "ret %d", ls);
	r = FX(SYS_bind, ls, U(&a), alen);
	ft_check(r == 0, N("bind"), "ret %ld", r);
	r = FX(SYS_listen, ls, 4);
	ft_check(r == 0, N("listen"), "ret %ld", r);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	r = FX(SYS_connect, c, U(&a), alen);
	ft_check(r == 0, N("connect"), "ret %ld", r);
	int s = (int)FX(SYS_accept4, ls, 0, 0, SOCK_CLOEXEC);
	ft_check(s >= 0 && (fcntl(s, F_GETFD) & FD_CLOEXEC), N("accept4"), "ret %d", s);
	r = FX(SYS_sendto, s, U("ping"), 4, 0, 0, 0);
	memset(buf, 0, sizeof(buf));
	ssize_t n = recv(c, buf, sizeof(buf), 0);
	ft_check(r == 4 && n == 4 && !memcmp(buf, "ping", 4), N("sendto"), "ret %ld recv %zd", r, n);
	send(c, "pong", 4, 0);
	memset(buf, 0, sizeof(buf));
	r = FX(SYS_recvfrom, s, U(buf), sizeof(buf), 0, 0, 0);
	ft_check(r == 4 && !memcmp(buf, "pong", 4), N("recvfrom"), "ret %ld", r);
	struct iovec iov = { "msg!", 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	r = FX(SYS_sendmsg, s, U(&mh), 0);
	memset(buf, 0, sizeof(buf));
	n = recv(c, buf, sizeof(buf), 0);
	ft_check(r == 4 && n == 4 && !memcmp(buf, "msg!", 4), N("sendmsg"), "ret %ld", r);
	send(c, "back", 4, 0);
	char rb[8] = { 0 };
	struct iovec riov = { rb, sizeof(rb) };
	struct msghdr rmh = { .msg_iov = &riov, .msg_iovlen = 1 };
	r = FX(SYS_recvmsg, s, U(&rmh), 0);
	ft_check(r == 4 && !memcmp(rb, "back", 4), N("recvmsg"), "ret %ld", r);
	int v = 65536;
	r = FX(SYS_setsockopt, s, SOL_SOCKET, SO_SNDBUF, U(&v), sizeof(v));
	int got = 0, dgot = 0;
	socklen_t gl = sizeof(got), dl = sizeof(dgot);
	long r2 = FX(SYS_getsockopt, s, SOL_SOCKET, SO_SNDBUF, U(&got), U(&gl));
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &dgot, &dl);
	ft_check(r == 0 && r2 == 0 && got == dgot && got >= 65536, N("setsockopt_getsockopt"), "set %ld get %ld value %d direct %d", r, r2, got, dgot);
	r = FX(SYS_shutdown, s, SHUT_WR);
	n = recv(c, buf, sizeof(buf), 0);
	ft_check(r == 0 && n == 0, N("shutdown"), "ret %ld, peer recv %zd", r, n);
	close(c); close(s); close(ls);
}

/* The readiness calls: descriptors made through the module are the process's own. */
static void test_readiness(void)
{
	int p[2] = { -1, -1 };
	long r;
	char c = 0;

	r = FX(SYS_pipe2, U(p), O_CLOEXEC | O_NONBLOCK);
	ft_check(r == 0 && fcntl(p[0], F_GETFL) >= 0 && (fcntl(p[1], F_GETFL) & O_NONBLOCK) &&
		 (fcntl(p[0], F_GETFD) & FD_CLOEXEC), N("pipe2_fds_in_process"), "ret %ld fds %d %d", r, p[0], p[1]);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	r = FX(SYS_poll, U(&pf), 1, 0);
	ft_check(r == 0 && pf.revents == 0, N("poll_empty_pipe_times_out"), "ret %ld revents %#x", r, pf.revents);
	r = FX(SYS_poll, U(&pf), 1, 50);
	ft_check(r == 0, N("poll_timeout_50ms"), "ret %ld", r);
	write(p[1], "x", 1);
	r = FX(SYS_poll, U(&pf), 1, -1);
	ft_check(r == 1 && (pf.revents & POLLIN), N("poll_sees_data"), "ret %ld revents %#x", r, pf.revents);
	r = FX(SYS_poll, 16, 1, 0);
	ft_check(r == -EFAULT, N("poll_bad_pointer_EFAULT"), "ret %ld", r);

	int ep = (int)FX(SYS_epoll_create1, EPOLL_CLOEXEC);
	ft_check(ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC), N("epoll_create1"), "ret %d", ep);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234567890abcdefull };
	r = FX(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], U(&ev));
	ft_check(r == 0, N("epoll_ctl_add"), "ret %ld", r);
	r = FX(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], U(&ev));
	ft_check(r == -EEXIST, N("epoll_ctl_add_again_EEXIST"), "ret %ld", r);
	struct epoll_event out[4];
	memset(out, 0, sizeof(out));
	r = FX(SYS_epoll_wait, ep, U(out), 4, 1000);
	ft_check(r == 1 && out[0].data.u64 == 0x1234567890abcdefull && (out[0].events & EPOLLIN), N("epoll_wait_reports_data"),
		 "ret %ld events %#x", r, out[0].events);
	read(p[0], &c, 1);
	r = FX(SYS_epoll_wait, ep, U(out), 4, 0);
	ft_check(r == 0, N("epoll_wait_drained_0"), "ret %ld", r);
	r = FX(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], 0);
	ft_check(r == 0, N("epoll_ctl_del"), "ret %ld", r);

	int efd = (int)FX(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1, got = 0;
	ft_check(efd >= 0 && write(efd, &one, 8) == 8 && read(efd, &got, 8) == 8 && got == 1, N("eventfd2"), "ret %d", efd);
	close(efd);
	close(ep);
	close(p[0]);
	close(p[1]);

	/* getsockname/getpeername of a connected pair */
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	r = FX(SYS_getsockname, sv[0], U(&sa), U(&len));
	ft_check(r == 0 && sa.sun_family == AF_UNIX, N("getsockname"), "ret %ld family %d", r, sa.sun_family);
	len = sizeof(sa);
	r = FX(SYS_getpeername, sv[0], U(&sa), U(&len));
	ft_check(r == 0 && sa.sun_family == AF_UNIX, N("getpeername"), "ret %ld family %d", r, sa.sun_family);
	len = sizeof(sa);
	r = FX(SYS_getpeername, 9999, U(&sa), U(&len));
	ft_check(r == -EBADF, N("getpeername_bad_fd_EBADF"), "ret %ld", r);
	close(sv[0]);
	close(sv[1]);
}

static void test_memory(void)
{
	long r;
	char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(p, 0x77, 4 * 4096);
	r = FX(SYS_madvise, U(p), 4096, MADV_DONTNEED);
	ft_check(r == 0 && p[0] == 0 && p[4096] == 0x77, N("madvise_dontneed_on_process_memory"), "ret %ld first %d second %d", r, p[0], p[4096]);
	r = FX(SYS_madvise, U(p + 4096), 3 * 4096, 23 /* MADV_POPULATE_WRITE */);
	long d = direct(SYS_madvise, U(p + 4096), 3 * 4096, 23, 0, 0, 0);
	ft_check(r == d, N("madvise_populate_write_as_direct"), "module %ld direct %ld", r, d);
	munmap(p, 4 * 4096);
}

static void test_refused(void)
{
	static const struct { long nr; const char *name; } refused[] = {
		{ SYS_gettid, "gettid" }, { SYS_exit, "exit" }, { SYS_exit_group, "exit_group" },
		{ SYS_clone, "clone" }, { SYS_fork, "fork" }, { SYS_execve, "execve" },
		{ SYS_kill, "kill" }, { SYS_rt_sigreturn, "rt_sigreturn" }, { SYS_futex, "futex" },
		{ SYS_prctl, "prctl" }, { SYS_set_tid_address, "set_tid_address" },
		{ SYS_arch_prctl, "arch_prctl" }, { SYS_ioctl, "ioctl" }, { SYS_mmap, "mmap" },
		{ 332 + 1, "nr_limit" }, { 335, "unassigned_335" }, { 100000, "100000" }, { 0x7fffffff, "0x7fffffff" },
		{ -1, "0xffffffff" },
	};
	char name[96];
	pid_t before = getpid();

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		/* exit(0) / kill(getpid(), SIGKILL) would end us if they ran */
		long r = fx(refused[i].nr, refused[i].nr == SYS_kill ? (uint64_t)getpid() : 0, SIGKILL, 0, 0, 0, 0);
		snprintf(name, sizeof(name), "refused_%s_ENOSYS", refused[i].name);
		ft_check(r == -ENOSYS, N(name), "ret %ld", r);
	}
	/* clone/fork would have made a child: there is none */
	int st;
	pid_t w = waitpid(-1, &st, WNOHANG);
	ft_check(w < 0 && errno == ECHILD && getpid() == before, N("refused_calls_had_no_effect"), "waitpid %d", w);
}

int main(int argc, char **argv)
{
	mode = argc > 1 ? argv[1] : "serve";
	ft_require_device("calls");
	int e = ft_open(&R, 1, 4);

	if (e) {
		ft_fail(N("register"), "%s", strerror(e));
		return 1;
	}
	if (!strcmp(mode, "wait"))
		R.batch = 1;
	else
		ft_pool_start(&R, 0, 2);

	test_identity();
	test_files();
	test_pipes();
	test_sockets();
	test_readiness();
	test_memory();
	test_refused();

	/* The suite itself must cover every allow-listed call. */
	int missing = 0;
	char list[512] = "";
#define FT_COVER(nr, name, flags) if (!covered[nr]) { missing++; strcat(list, " " #name); }
	FLEXSC_CALL_TABLE(FT_COVER)
#undef FT_COVER
	ft_check(!missing, N("every_allow_listed_call_covered"), "%d not exercised:%s", missing, list);

	struct flexsc_group *g = ft_group(&R, 0);
	/* An executor adds its counts after it completes a batch: wait for them (at most 10 s). */
	for (int t = 0; t < 10000 && !(__atomic_load_n(&g->stat_executed, __ATOMIC_RELAXED) > 0 &&
				       __atomic_load_n(&g->stat_refused, __ATOMIC_RELAXED) >= 19); t++)
		usleep(1000);
	ft_check(g->stat_executed > 0 && g->stat_refused >= 19, N("stats_counted"), "executed %llu refused %llu",
		 (unsigned long long)g->stat_executed, (unsigned long long)g->stat_refused);
	ft_close(&R);
	return ft_exit();
}
