package dev.flexsc;

/**
 * The ways FlexSC can execute system calls. All share one ABI (the syscall page)
 * and one API ({@link Syscalls}); they differ in where a call executes.
 */
public enum Engine {
    /**
     * The first available engine in the order of {@link #autoOrder(FlexscConfig)} for the
     * configuration; see {@link Flexsc#probe()}.
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
     * The order in which {@link #AUTO} tries engines where the configuration sets CPUs aside
     * for the syscall side on a machine of more than {@link #FEW_CPUS} CPUs (the paper's
     * multi-core mode: see {@link #autoOrder(FlexscConfig)}), and the order in which
     * {@link Flexsc#probe()} lists them.
     */
    public static final java.util.List<Engine> AUTO_ORDER =
            java.util.List.of(KERNEL_MODULE, IO_URING_SQPOLL, IO_URING, SYSCALL_THREADS);

    /**
     * At or below this many CPUs {@link #AUTO} tries {@link #IO_URING} before
     * {@link #IO_URING_SQPOLL} even where syscall CPUs are set aside: the SQ polling thread
     * would spin on the one syscall CPU that the fallback's syscall threads, the JIT, the GC
     * and every other process share with it (docs/engines.md, "AUTO's order", has the
     * measurements).
     */
    public static final int FEW_CPUS = 2;

    /**
     * The order in which {@link #AUTO} tries engines for {@code config}: {@link #AUTO_ORDER}
     * where the configuration sets CPUs aside for the syscall side
     * ({@link FlexscConfig#syscallCpusSetAside()}) and uses more than {@link #FEW_CPUS} CPUs;
     * otherwise (the default: every CPU carries green threads) {@link #IO_URING} comes before
     * {@link #IO_URING_SQPOLL}, whose polling thread would take its CPU from a carrier that
     * submits and reaps its own calls (docs/engines.md, "AUTO's order").
     */
    public static java.util.List<Engine> autoOrder(FlexscConfig config) {
        int[] cpus = java.util.stream.IntStream.concat(java.util.Arrays.stream(config.userCpus()),
                java.util.Arrays.stream(config.syscallCpus())).distinct().toArray();
        return config.syscallCpusSetAside() && cpus.length > FEW_CPUS ? AUTO_ORDER
                : java.util.List.of(KERNEL_MODULE, IO_URING, IO_URING_SQPOLL, SYSCALL_THREADS);
    }
}
