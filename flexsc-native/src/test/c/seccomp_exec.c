/* SPDX-License-Identifier: MIT */
/*
 * seccomp_exec ERRNO PROGRAM [ARGS...]: runs PROGRAM under a seccomp filter that
 * makes io_uring_setup, io_uring_enter and io_uring_register fail with ERRNO (1 =
 * EPERM, 38 = ENOSYS), as Docker's default profile does. Test helper for the io_uring
 * engines' availability probe; PR_SET_NO_NEW_PRIVS lets an unprivileged user install it.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s ERRNO PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	unsigned int err = (unsigned int)atoi(argv[1]) & SECCOMP_RET_DATA;
	struct sock_filter code[] = {
		/* other architectures (x32, i386 entry points): allowed, not our concern here */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("prctl(PR_SET_NO_NEW_PRIVS)");
		return 3;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("prctl(PR_SET_SECCOMP)");
		return 3;
	}
	execvp(argv[2], &argv[2]);
	perror("execvp");
	return 127;
}
