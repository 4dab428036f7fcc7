// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall audit: every entry a SERVE thread runs falls into the audit context
 * of its one long ioctl, where getname() reuses an earlier call's struct
 * filename found by the same user pointer (audit_reusename): once, with an
 * audit rule loaded, a posted unlinkat("b") removed nothing because it acted
 * on the earlier unlinkat's "a" at the same address. The module refuses
 * (EOPNOTSUPP) to REGISTER, SERVE or WAIT(EXECUTE) in a thread that audit
 * rules apply to, and a refusal after REGISTER stops the registration with
 * FLEXSC_STOP_AUDIT. Needs root (CAP_AUDIT_CONTROL) for the netlink rules.
 */
#include "ft.h"
#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int audit_send(int type, const void *data, size_t len)
{
	struct {
		struct nlmsghdr h;
		char body[sizeof(struct audit_rule_data) + 64];
	} m;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);

	if (s < 0)
		return -errno;
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = NLMSG_LENGTH(len);
	m.h.nlmsg_type = type;
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m.h.nlmsg_seq = 1;
	memcpy(NLMSG_DATA(&m.h), data, len);
	if (sendto(s, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	/* The ACK: an NLMSG_ERROR whose error is 0 on success. */
	char buf[8192];
	long n = recv(s, buf, sizeof(buf), 0);
	int rerr = errno;
	close(s);
	if (n < 0)
		return -rerr;
	if (n < (long)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -EIO;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (h->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	return 0;
}

static int audit_enable(int on)
{
	struct audit_status st = { .mask = AUDIT_STATUS_ENABLED, .enabled = (uint32_t)on };
	return audit_send(AUDIT_SET, &st, sizeof(st));
}

/* "-a always,exit -F arch=b64 -S unlinkat": the rule that makes the context non-dummy. */
static int audit_rule(int add)
{
	struct audit_rule_data r;

	memset(&r, 0, sizeof(r));
	r.flags = AUDIT_FILTER_EXIT;
	r.action = AUDIT_ALWAYS;
	r.field_count = 1;
	r.fields[0] = AUDIT_ARCH;
	r.fieldflags[0] = AUDIT_EQUAL;
	r.values[0] = AUDIT_ARCH_X86_64;
	r.mask[SYS_unlinkat / 32] |= 1u << (SYS_unlinkat % 32);
	return audit_send(add ? AUDIT_ADD_RULE : AUDIT_DEL_RULE, &r, sizeof(r));
}

/* With the rule loaded, in a process forked after audit was enabled. */
static int register_refused(void)
{
	struct ft_reg R;
	int e = ft_open(&R, 1, 1);

	if (e == EOPNOTSUPP)
		return 0;
	if (e)
		return 10;
	/* Not refused: show what the shared audit context does to two unlinks. */
	static char path[16];
	close(open("/tmp/audit_a", O_CREAT | O_WRONLY, 0600));
	close(open("/tmp/audit_b", O_CREAT | O_WRONLY, 0600));
	ft_pool_start(&R, 0, 1);
	strcpy(path, "/tmp/audit_a");
	long r1 = ft_call(&R, 0, 0, SYS_unlinkat, AT_FDCWD, (uint64_t)(uintptr_t)path, 0, 0, 0, 0);
	strcpy(path, "/tmp/audit_b");
	long r2 = ft_call(&R, 0, 1, SYS_unlinkat, AT_FDCWD, (uint64_t)(uintptr_t)path, 0, 0, 0, 0);
	int b_left = access("/tmp/audit_b", F_OK) == 0;
	printf("# REGISTER was not refused; unlinkat(a) = %ld, unlinkat(b) = %ld, b %s\n", r1, r2,
	       b_left ? "still exists (the second call acted on the first call's name)" : "removed");
	unlink("/tmp/audit_b");
	ft_close(&R);
	return 20;
}

/*
 * Registered before the rule. R runs a SERVE thread from before the rule: its
 * ioctl is not audited, so the first entry it claims after the rule stops R
 * (FLEXSC_STOP_AUDIT) instead of running unaudited. Q's SERVE starts after the
 * rule (a new, audited syscall): refused, and Q stops.
 */
static int pipe_go[2], pipe_ready[2];
static int serve_refused_after_rule(void)
{
	struct ft_reg R, Q;
	char c;

	if (ft_open(&R, 1, 1) || ft_open(&Q, 1, 1))
		return 10;
	ft_pool_start(&R, 0, 1);
	if (ft_call(&R, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0) != getpid())
		return 12;
	if (write(pipe_ready[1], "r", 1) != 1 || read(pipe_go[0], &c, 1) != 1)
		return 11;
	ft_submit(&R, 0, 1, SYS_getpid, 0, 0, 0, 0, 0, 0);
	long got = ft_reap(&R, 0, 1, 2000);
	if (got != FT_TIMEOUT) {
		printf("# the running SERVE thread executed getpid (%ld) after the audit rule was added\n", got);
		return 22;
	}
	if (!ft_pool_join(&R, 3000) || R.pool_rc[0] != 0 || R.ctrl->stop_reason != FLEXSC_STOP_AUDIT)
		return 23;
	unsigned int g = 0;
	long r = ioctl(Q.fd, FLEXSC_IOC_SERVE, &g);
	if (r != -1 || errno != EOPNOTSUPP) {
		printf("# SERVE returned %ld (%s)\n", r, r ? strerror(errno) : "ok");
		return 20;
	}
	if (!(__atomic_load_n(&ft_group(&Q, 0)->flags, __ATOMIC_ACQUIRE) & FLEXSC_GROUP_STOPPING) ||
	    Q.ctrl->stop_reason != FLEXSC_STOP_AUDIT)
		return 21;
	return 0;
}

/* The child's exit status, or 124 if it had to be killed after 10 s (a SERVE that never returned). */
static int wait_child(pid_t pid)
{
	int st;

	for (int i = 0; i < 10000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 124;
}

int main(void)
{
	ft_require_device("audit");
	int e = audit_enable(1);

	if (e) {
		ft_skip("audit.register_refused_with_rules", "cannot enable audit over netlink: %s", strerror(-e));
		ft_skip("audit.serve_refused_after_rule_added", "cannot enable audit over netlink: %s", strerror(-e));
		return ft_exit();
	}
	/* A child forked now has an audit context, dummy while no rule applies. */
	if (pipe(pipe_go) || pipe(pipe_ready))
		return 1;
	fflush(stdout);
	pid_t late = fork();
	if (late == 0)
		_exit(serve_refused_after_rule());
	char c;
	if (read(pipe_ready[0], &c, 1) != 1)
		c = 0;
	e = audit_rule(1);
	if (e) {
		ft_skip("audit.register_refused_with_rules", "cannot add an audit rule: %s", strerror(-e));
		ft_skip("audit.serve_refused_after_rule_added", "cannot add an audit rule: %s", strerror(-e));
		kill(late, SIGKILL);
		wait_child(late);
		audit_enable(0);
		return ft_exit();
	}
	if (write(pipe_go[1], "g", 1) != 1)
		return 1;
	int rc = wait_child(late);
	ft_check(rc == 0, "audit.serve_refused_after_rule_added",
		 "child status %d (10: REGISTER failed before the rule, 20: SERVE not refused with EOPNOTSUPP, 21: no stop"
		 " with FLEXSC_STOP_AUDIT, 22: a SERVE thread from before the rule ran a call after it, 23: it did not"
		 " stop with FLEXSC_STOP_AUDIT, 124: SERVE was not refused and stayed)", rc);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0)
		_exit(register_refused());
	rc = wait_child(p);
	ft_check(rc == 0, "audit.register_refused_with_rules",
		 "child status %d (10: REGISTER failed otherwise, 20: REGISTER not refused with EOPNOTSUPP)", rc);
	audit_rule(0);
	audit_enable(0);
	/* Without rules the (now allocated) audit contexts are dummy again: registration works. */
	p = fork();
	if (p == 0) {
		struct ft_reg R;
		if (ft_open(&R, 1, 1))
			_exit(10);
		R.batch = 1;
		_exit(ft_call(&R, 0, 0, SYS_getpid, 0, 0, 0, 0, 0, 0) == getpid() ? 0 : 11);
	}
	rc = wait_child(p);
	ft_check(rc == 0, "audit.works_again_without_rules", "child status %d", rc);
	return ft_exit();
}
