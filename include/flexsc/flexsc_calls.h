/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * flexsc_calls.h - the allow-list: the one table of system calls that may run
 * exception-less, shared by libflexsc and the kernel module, and checked
 * against the Java table (dev.flexsc.abi.SyscallTable) by AllowListTest.
 *
 * Only calls that behave the same from any thread of the process belong here.
 * Calls tied to the calling thread or to process life (gettid, signals, exit,
 * clone, execve, futex, prctl, ...) are refused by every engine.
 *
 * FLEXSC_CALL(nr, name, flags), x86-64 numbers.
 *   FLEXSC_MAY_BLOCK: may block without bound (pipes, sockets, FIFOs); an
 *   executor about to run one lets a spare executor take over the group.
 *   FLEXSC_NEVER_BLOCKS: returns without waiting for anything (no I/O, no
 *   other task): posting it can only cost more than making it, so the default
 *   call policy always makes it directly (getrandom: only without GRND_RANDOM,
 *   which the Java gate checks).
 */
#ifndef FLEXSC_CALLS_H
#define FLEXSC_CALLS_H

#define FLEXSC_MAY_BLOCK 1u
#define FLEXSC_NEVER_BLOCKS 2u

#define FLEXSC_CALL_TABLE(FLEXSC_CALL) \
	FLEXSC_CALL(0,   read,        FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(1,   write,       FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(3,   close,       0) \
	FLEXSC_CALL(5,   fstat,       FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(8,   lseek,       FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(17,  pread64,     0) \
	FLEXSC_CALL(18,  pwrite64,    0) \
	FLEXSC_CALL(19,  readv,       FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(20,  writev,      FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(28,  madvise,     0) \
	FLEXSC_CALL(39,  getpid,      FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(40,  sendfile,    FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(41,  socket,      FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(42,  connect,     FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(44,  sendto,      FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(45,  recvfrom,    FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(46,  sendmsg,     FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(47,  recvmsg,     FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(48,  shutdown,    FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(49,  bind,        FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(50,  listen,      FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(54,  setsockopt,  FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(55,  getsockopt,  FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(63,  uname,       FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(74,  fsync,       0) \
	FLEXSC_CALL(75,  fdatasync,   0) \
	FLEXSC_CALL(77,  ftruncate,   0) \
	FLEXSC_CALL(102, getuid,      FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(104, getgid,      FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(110, getppid,     FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(217, getdents64,  0) \
	FLEXSC_CALL(221, fadvise64,   0) \
	FLEXSC_CALL(257, openat,      FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(258, mkdirat,     0) \
	FLEXSC_CALL(262, newfstatat,  0) \
	FLEXSC_CALL(263, unlinkat,    0) \
	FLEXSC_CALL(275, splice,      FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(285, fallocate,   0) \
	FLEXSC_CALL(288, accept4,     FLEXSC_MAY_BLOCK) \
	FLEXSC_CALL(316, renameat2,   0) \
	FLEXSC_CALL(318, getrandom,   FLEXSC_NEVER_BLOCKS) \
	FLEXSC_CALL(332, statx,       0)

/* Highest allow-listed number + 1: tables indexed by number are this long. */
#define FLEXSC_NR_LIMIT 333u

#endif /* FLEXSC_CALLS_H */
