package dev.flexsc;

/**
 * The ways FlexSC can execute system calls. All share one ABI (the syscall page)
 * and one API ({@link Syscalls}); they differ in where a call executes.
 */
public enum Engine {
    /** The first available engine in the order below; see {@link Flexsc#probe()}. */
    AUTO,
    /** In-kernel syscall threads of the process, from the {@code /dev/flexsc} module. */
    KERNEL_MODULE,
    /** io_uring with a kernel polling thread on another core (I/O calls only). */
    IO_URING_SQPOLL,
    /** io_uring with one {@code io_uring_enter} per batch on the same core (I/O calls only). */
    IO_URING,
    /** Pinned native syscall threads of {@code libflexsc}: the portable fallback. */
    SYSCALL_THREADS;

    /** The order in which {@link #AUTO} tries engines. */
    public static final java.util.List<Engine> AUTO_ORDER =
            java.util.List.of(KERNEL_MODULE, IO_URING_SQPOLL, IO_URING, SYSCALL_THREADS);
}
