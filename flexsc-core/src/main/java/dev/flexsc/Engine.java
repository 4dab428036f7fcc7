package dev.flexsc;

/**
 * The ways FlexSC can execute system calls. All share one ABI (the syscall page)
 * and one API ({@link Syscalls}); they differ in where a call executes.
 */
public enum Engine {
    /**
     * The first available engine in the order of {@link #autoOrder(int)} for this machine's
     * CPUs; see {@link Flexsc#probe()}.
     */
    AUTO,
    /** In-kernel syscall threads of the process, from the {@code /dev/flexsc} module. */
    KERNEL_MODULE,
    /** io_uring with a kernel polling thread on another core (I/O calls only). */
    IO_URING_SQPOLL,
    /** io_uring with one {@code io_uring_enter} per batch on the same core (I/O calls only). */
    IO_URING,
    /** Pinned native syscall threads of {@code libflexsc}: the portable fallback. */
    SYSCALL_THREADS;

    /**
     * The order in which {@link #AUTO} tries engines on a machine with more than
     * {@link #FEW_CPUS} CPUs (see {@link #autoOrder(int)}), and the order in which
     * {@link Flexsc#probe()} lists them.
     */
    public static final java.util.List<Engine> AUTO_ORDER =
            java.util.List.of(KERNEL_MODULE, IO_URING_SQPOLL, IO_URING, SYSCALL_THREADS);

    /**
     * At or below this many CPUs {@link #AUTO} tries {@link #IO_URING} before
     * {@link #IO_URING_SQPOLL}: the SQ polling thread would spin on the one syscall CPU that
     * the fallback's syscall threads, the JIT, the GC and every other process share with it
     * (docs/engines.md, "AUTO on few CPUs", has the measurements).
     */
    public static final int FEW_CPUS = 2;

    /**
     * The order in which {@link #AUTO} tries engines on a machine with {@code cpus} CPUs:
     * {@link #AUTO_ORDER}, with {@link #IO_URING} moved before {@link #IO_URING_SQPOLL} when
     * {@code cpus <= FEW_CPUS}.
     */
    public static java.util.List<Engine> autoOrder(int cpus) {
        return cpus <= FEW_CPUS ? java.util.List.of(KERNEL_MODULE, IO_URING, IO_URING_SQPOLL, SYSCALL_THREADS) : AUTO_ORDER;
    }
}
