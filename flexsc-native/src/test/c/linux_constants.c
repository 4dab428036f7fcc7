/*
 * Prints the Linux constants that Java declares once (dev.flexsc.Errno, OpenFlags, AtFlags,
 * MsgFlags, SocketConstants, dev.flexsc.abi.SyscallTable) as the C library's headers define
 * them, one CLASS.NAME=VALUE per line (system call numbers under the call's lower-case
 * name). LinuxConstantsConformanceTest compares both ways.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define C(cls, name) printf("%s.%s=%lld\n", cls, #name, (long long) (name))
#define NR(name) printf("SyscallTable.%s=%lld\n", #name, (long long) __NR_##name)

int main(void) {
    /* SyscallTable: every number, under its lower-case name */
    NR(read);
    NR(write);
    NR(close);
    NR(fstat);
    NR(lseek);
    NR(pread64);
    NR(pwrite64);
    NR(readv);
    NR(writev);
    NR(madvise);
    NR(getpid);
    NR(sendfile);
    NR(socket);
    NR(connect);
    NR(sendto);
    NR(recvfrom);
    NR(sendmsg);
    NR(recvmsg);
    NR(shutdown);
    NR(bind);
    NR(listen);
    NR(setsockopt);
    NR(getsockopt);
    NR(uname);
    NR(fsync);
    NR(fdatasync);
    NR(ftruncate);
    NR(getuid);
    NR(getgid);
    NR(getppid);
    NR(getdents64);
    NR(fadvise64);
    NR(openat);
    NR(mkdirat);
    NR(newfstatat);
    NR(unlinkat);
    NR(splice);
    NR(fallocate);
    NR(accept4);
    NR(renameat2);
    NR(getrandom);
    NR(statx);
    NR(mmap);
    NR(munmap);
    NR(rt_sigaction);
    NR(rt_sigprocmask);
    NR(rt_sigreturn);
    NR(mincore);
    NR(getsockname);
    NR(socketpair);
    NR(clone);
    NR(fork);
    NR(vfork);
    NR(execve);
    NR(exit);
    NR(kill);
    NR(fcntl);
    NR(prctl);
    NR(arch_prctl);
    NR(gettid);
    NR(tkill);
    NR(futex);
    NR(set_tid_address);
    NR(exit_group);
    NR(tgkill);
    NR(pipe2);
    NR(eventfd2);
    C("SyscallTable", GRND_RANDOM);
    NR(io_uring_setup);
    NR(io_uring_enter);
    NR(io_uring_register);
    NR(clone3);

    /* Errno */
    C("Errno", EPERM);
    C("Errno", ENOENT);
    C("Errno", ESRCH);
    C("Errno", EINTR);
    C("Errno", EIO);
    C("Errno", ENXIO);
    C("Errno", E2BIG);
    C("Errno", ENOEXEC);
    C("Errno", EBADF);
    C("Errno", ECHILD);
    C("Errno", EAGAIN);
    C("Errno", ENOMEM);
    C("Errno", EACCES);
    C("Errno", EFAULT);
    C("Errno", ENOTBLK);
    C("Errno", EBUSY);
    C("Errno", EEXIST);
    C("Errno", EXDEV);
    C("Errno", ENODEV);
    C("Errno", ENOTDIR);
    C("Errno", EISDIR);
    C("Errno", EINVAL);
    C("Errno", ENFILE);
    C("Errno", EMFILE);
    C("Errno", ENOTTY);
    C("Errno", ETXTBSY);
    C("Errno", EFBIG);
    C("Errno", ENOSPC);
    C("Errno", ESPIPE);
    C("Errno", EROFS);
    C("Errno", EMLINK);
    C("Errno", EPIPE);
    C("Errno", EDOM);
    C("Errno", ERANGE);
    C("Errno", EDEADLK);
    C("Errno", ENAMETOOLONG);
    C("Errno", ENOLCK);
    C("Errno", ENOSYS);
    C("Errno", ENOTEMPTY);
    C("Errno", ELOOP);
    C("Errno", ENODATA);
    C("Errno", ETIME);
    C("Errno", EPROTO);
    C("Errno", EOVERFLOW);
    C("Errno", EILSEQ);
    C("Errno", ENOTSOCK);
    C("Errno", EDESTADDRREQ);
    C("Errno", EMSGSIZE);
    C("Errno", EPROTOTYPE);
    C("Errno", ENOPROTOOPT);
    C("Errno", EPROTONOSUPPORT);
    C("Errno", ESOCKTNOSUPPORT);
    C("Errno", EOPNOTSUPP);
    C("Errno", EPFNOSUPPORT);
    C("Errno", EAFNOSUPPORT);
    C("Errno", EADDRINUSE);
    C("Errno", EADDRNOTAVAIL);
    C("Errno", ENETDOWN);
    C("Errno", ENETUNREACH);
    C("Errno", ENETRESET);
    C("Errno", ECONNABORTED);
    C("Errno", ECONNRESET);
    C("Errno", ENOBUFS);
    C("Errno", EISCONN);
    C("Errno", ENOTCONN);
    C("Errno", ESHUTDOWN);
    C("Errno", ETIMEDOUT);
    C("Errno", ECONNREFUSED);
    C("Errno", EHOSTDOWN);
    C("Errno", EHOSTUNREACH);
    C("Errno", EALREADY);
    C("Errno", EINPROGRESS);
    C("Errno", EDQUOT);
    C("Errno", ECANCELED);

    /* OpenFlags */
    C("OpenFlags", O_RDONLY);
    C("OpenFlags", O_WRONLY);
    C("OpenFlags", O_RDWR);
    C("OpenFlags", O_ACCMODE);
    C("OpenFlags", O_CREAT);
    C("OpenFlags", O_EXCL);
    C("OpenFlags", O_NOCTTY);
    C("OpenFlags", O_TRUNC);
    C("OpenFlags", O_APPEND);
    C("OpenFlags", O_NONBLOCK);
    C("OpenFlags", O_DSYNC);
    C("OpenFlags", O_DIRECT);
    C("OpenFlags", O_DIRECTORY);
    C("OpenFlags", O_NOFOLLOW);
    C("OpenFlags", O_NOATIME);
    C("OpenFlags", O_CLOEXEC);
    C("OpenFlags", O_SYNC);
    C("OpenFlags", O_PATH);
    C("OpenFlags", O_TMPFILE);

    /* AtFlags */
    C("AtFlags", AT_FDCWD);
    C("AtFlags", AT_SYMLINK_NOFOLLOW);
    C("AtFlags", AT_REMOVEDIR);
    C("AtFlags", AT_SYMLINK_FOLLOW);
    C("AtFlags", AT_NO_AUTOMOUNT);
    C("AtFlags", AT_EMPTY_PATH);
    C("AtFlags", AT_STATX_FORCE_SYNC);
    C("AtFlags", AT_STATX_DONT_SYNC);

    /* MsgFlags */
    C("MsgFlags", MSG_OOB);
    C("MsgFlags", MSG_PEEK);
    C("MsgFlags", MSG_DONTROUTE);
    C("MsgFlags", MSG_CTRUNC);
    C("MsgFlags", MSG_TRUNC);
    C("MsgFlags", MSG_DONTWAIT);
    C("MsgFlags", MSG_EOR);
    C("MsgFlags", MSG_WAITALL);
    C("MsgFlags", MSG_NOSIGNAL);
    C("MsgFlags", MSG_MORE);
    C("MsgFlags", MSG_CMSG_CLOEXEC);

    /* SocketConstants */
    C("SocketConstants", AF_UNIX);
    C("SocketConstants", AF_INET);
    C("SocketConstants", AF_INET6);
    C("SocketConstants", SOCK_STREAM);
    C("SocketConstants", SOCK_DGRAM);
    C("SocketConstants", SOCK_SEQPACKET);
    C("SocketConstants", SOCK_NONBLOCK);
    C("SocketConstants", SOCK_CLOEXEC);
    C("SocketConstants", SOL_SOCKET);
    C("SocketConstants", IPPROTO_TCP);
    C("SocketConstants", IPPROTO_IPV6);
    C("SocketConstants", SO_REUSEADDR);
    C("SocketConstants", SO_TYPE);
    C("SocketConstants", SO_ERROR);
    C("SocketConstants", SO_SNDBUF);
    C("SocketConstants", SO_RCVBUF);
    C("SocketConstants", SO_KEEPALIVE);
    C("SocketConstants", SO_LINGER);
    C("SocketConstants", SO_REUSEPORT);
    C("SocketConstants", TCP_NODELAY);
    C("SocketConstants", IPV6_V6ONLY);
    C("SocketConstants", SHUT_RD);
    C("SocketConstants", SHUT_WR);
    C("SocketConstants", SHUT_RDWR);
    return 0;
}
