// SPDX-License-Identifier: GPL-2.0
/*
 * The flexsc:flexsc_call tracepoint: calls made through the module pass no
 * system call entry (raw_syscalls and syscalls tracepoints do not see them);
 * the module's own event does, one per executed entry, with the executing
 * thread as its pid, the call number, its arguments and its result.
 */
#include "ft.h"
#include <sys/mount.h>
#include <sys/stat.h>

#define TR "/sys/kernel/tracing"

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	long n = fd < 0 ? -1 : write(fd, v, strlen(v));

	if (fd >= 0)
		close(fd);
	return n == (long)strlen(v) ? 0 : -1;
}

static char trace_buf[1 << 16];

static const char *read_trace(void)
{
	int fd = open(TR "/trace", O_RDONLY);
	long n = 0, r;

	if (fd < 0)
		return "";
	while (n < (long)sizeof(trace_buf) - 1 && (r = read(fd, trace_buf + n, sizeof(trace_buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	trace_buf[n] = 0;
	return trace_buf;
}

int main(void)
{
	ft_require_device("trace");
	if (access(TR "/events", F_OK) != 0 && mount("tracefs", TR, "tracefs", 0, NULL) != 0) {
		ft_skip("trace.flexsc_call_event", "cannot mount tracefs: %s", strerror(errno));
		return ft_exit();
	}
	if (access(TR "/events/flexsc/flexsc_call/enable", F_OK) != 0) {
		ft_fail("trace.flexsc_call_event", "no events/flexsc/flexsc_call in tracefs");
		return ft_exit();
	}
	write_str(TR "/trace", "");
	write_str(TR "/events/flexsc/flexsc_call/enable", "1");

	struct ft_reg R;
	if (ft_open(&R, 1, 1)) {
		ft_fail("trace.register", "%s", strerror(errno));
		return ft_exit();
	}
	R.batch = 1;            /* WAIT(EXECUTE): this thread executes, so the event's pid is ours */
	long pid = ft_call(&R, 0, 5, SYS_getpid, 0, 0, 0, 0, 0, 0);
	long bad = ft_call(&R, 0, 6, SYS_close, 0x7ffffff0, 0, 0, 0, 0, 0);
	ft_close(&R);
	write_str(TR "/events/flexsc/flexsc_call/enable", "0");

	const char *t = read_trace();
	char want[128];
	snprintf(want, sizeof(want), "-%d ", getpid());         /* "t_trace-PID [cpu] ..." */
	const char *line = strstr(t, "flexsc_call: group=0 index=5 nr=39 ");
	ft_check(line && strstr(t, want), "trace.flexsc_call_event_for_each_entry",
		 "no flexsc_call event for getpid by pid %d in:\n%.400s", getpid(), t);
	char ret[64];
	snprintf(ret, sizeof(ret), "ret=%ld", pid);
	ft_check(line && strstr(line, ret), "trace.flexsc_call_event_has_result", "want %s", ret);
	snprintf(ret, sizeof(ret), "index=6 nr=3 args=(7ffffff0, ");
	char ebadf[32];
	snprintf(ebadf, sizeof(ebadf), "ret=%ld", bad);
	const char *l2 = strstr(t, ret);
	ft_check(bad == -EBADF && l2 && strstr(l2, ebadf), "trace.flexsc_call_event_has_args_and_errors",
		 "close(0x7ffffff0) = %ld; trace:\n%.400s", bad, t);
	return ft_exit();
}
