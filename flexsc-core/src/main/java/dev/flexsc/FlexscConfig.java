package dev.flexsc;

import dev.flexsc.abi.SyscallPageDescriptor;

import java.util.Arrays;
import java.util.Locale;

/**
 * How to open an engine. Immutable; build with {@link #builder()}.
 *
 * <p>Defaults: {@link Engine#AUTO}; of the CPUs this process may run on (its affinity
 * mask, as a container's cpuset or {@code taskset} sets it, up to
 * {@link Runtime#availableProcessors()} of them), user CPUs = every one (carrier-local
 * execution: each carrier submits and reaps its own calls) and syscall CPUs = the last one,
 * shared with its carrier, for the engines that have a syscall side; naming syscall CPUs
 * sets them aside (see {@link #userCpus()}); 8 syscall pages (512 calls in flight) per
 * syscall CPU; at most 16 syscall threads per syscall CPU (spares take over while one
 * blocks); {@link CallPolicy#ADAPTIVE}.
 */
public final class FlexscConfig {
    private final Engine engine;
    private final int[] userCpus;
    private final int[] syscallCpus;
    private final int pages;
    private final int poolThreads;
    private final int executorSpin;
    private final int callerSpin;
    private final long closeTimeoutMillis;
    private final int sqThreadIdleMillis;
    private final int uringCqEntries;
    private final CallPolicy policy;

    private FlexscConfig(Builder b) {
        int[] cpus = defaultCpus(allowedCpus(), Runtime.getRuntime().availableProcessors());
        this.engine = b.engine;
        this.syscallCpus = b.syscallCpus != null ? b.syscallCpus.clone() : new int[] {cpus[cpus.length - 1]};
        if (b.userCpus != null) {
            this.userCpus = b.userCpus.clone();
        } else if (b.syscallCpus == null || cpus.length == 1) {
            // Carrier-local execution: every CPU the process may use carries green threads; the
            // syscall side (syscall threads, an SQ polling thread) shares the last one.
            this.userCpus = cpus.clone();
        } else {
            // Syscall CPUs named in the configuration are set aside for the syscall side.
            this.userCpus = Arrays.stream(cpus).filter(c -> Arrays.stream(syscallCpus).noneMatch(s -> s == c)).toArray();
            if (this.userCpus.length == 0) throw new IllegalArgumentException("syscallCpus "
                    + Arrays.toString(syscallCpus) + " leave no CPU of " + Arrays.toString(cpus) + " for the carriers");
        }
        this.pages = b.pages;
        this.poolThreads = b.poolThreads;
        this.executorSpin = b.executorSpin;
        this.callerSpin = b.callerSpin;
        this.closeTimeoutMillis = b.closeTimeoutMillis;
        this.sqThreadIdleMillis = b.sqThreadIdleMillis;
        this.uringCqEntries = b.uringCqEntries;
        this.policy = b.policy;
        SyscallPageDescriptor.checkGeometry(syscallCpus.length, pages);
        for (int c : syscallCpus) checkCpu("syscallCpus", c);
        for (int c : userCpus) checkCpu("userCpus", c);
        if (userCpus.length == 0) throw new IllegalArgumentException("userCpus is empty");
        if (poolThreads < 1 || poolThreads > 1024) {
            throw new IllegalArgumentException("poolThreads must be 1..1024, was " + poolThreads);
        }
        if (executorSpin < 0 || callerSpin < 0) throw new IllegalArgumentException("spin counts must be >= 0");
        if (closeTimeoutMillis < 1) throw new IllegalArgumentException("closeTimeoutMillis must be >= 1");
        if (sqThreadIdleMillis < 1 || sqThreadIdleMillis > 60_000) {
            throw new IllegalArgumentException("sqThreadIdleMillis must be 1..60000, was " + sqThreadIdleMillis);
        }
        int sqEntries = pages * SyscallPageDescriptor.ENTRIES_PER_PAGE;
        if (uringCqEntries != 0 && (uringCqEntries < sqEntries || uringCqEntries > 65536)) {
            throw new IllegalArgumentException("uringCqEntries must be 0 (twice the SQ) or " + sqEntries
                    + "..65536 (at least the SQ: pages x 64), was " + uringCqEntries);
        }
    }

    private static void checkCpu(String what, int c) {
        if (c < 0 || c >= 1024) throw new IllegalArgumentException(what + ": CPU " + c + " out of range");
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static FlexscConfig defaults() {
        return builder().build();
    }

    /**
     * The defaults overridden by system properties: {@code flexsc.engine} (an {@link Engine}
     * name, any case), {@code flexsc.userCpus} and {@code flexsc.syscallCpus} (lists such as
     * {@code 0,2-3}), {@code flexsc.pages}, {@code flexsc.poolThreads},
     * {@code flexsc.sqThreadIdleMillis}, {@code flexsc.uringCqEntries}, {@code flexsc.policy}
     * (a {@link CallPolicy} name, any case).
     *
     * @throws IllegalArgumentException naming the property when a value does not parse
     */
    public static FlexscConfig fromSystemProperties() {
        Builder b = builder();
        String v;
        if ((v = System.getProperty("flexsc.engine")) != null) {
            try {
                b.engine(Engine.valueOf(v.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("flexsc.engine=" + v + ": expected one of "
                        + Arrays.toString(Engine.values()));
            }
        }
        if ((v = System.getProperty("flexsc.userCpus")) != null) b.userCpus(parseCpus("flexsc.userCpus", v));
        if ((v = System.getProperty("flexsc.syscallCpus")) != null) b.syscallCpus(parseCpus("flexsc.syscallCpus", v));
        if ((v = System.getProperty("flexsc.pages")) != null) b.pages(parseInt("flexsc.pages", v));
        if ((v = System.getProperty("flexsc.poolThreads")) != null) b.poolThreads(parseInt("flexsc.poolThreads", v));
        if ((v = System.getProperty("flexsc.sqThreadIdleMillis")) != null) {
            b.sqThreadIdleMillis(parseInt("flexsc.sqThreadIdleMillis", v));
        }
        if ((v = System.getProperty("flexsc.uringCqEntries")) != null) b.uringCqEntries(parseInt("flexsc.uringCqEntries", v));
        if ((v = System.getProperty("flexsc.policy")) != null) b.policy(CallPolicy.parse("flexsc.policy", v));
        return b.build();
    }

    private static int parseInt(String prop, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(prop + "=" + v + ": not an integer");
        }
    }

    /**
     * The CPUs the default configuration divides between carriers and syscall threads: the
     * first {@code min(allowed.length, available)} of the CPUs this process may run on
     * ({@code allowed}, ascending), so that in a container confined to CPUs 4-5 FlexSC pins
     * to 4 and 5, not to 0 and 1 (which the kernel would refuse), and a CPU quota smaller
     * than the CPU set ({@code available}, {@link Runtime#availableProcessors()}) bounds how
     * many it uses. Without a readable set ({@code allowed} empty): 0 to available - 1.
     */
    static int[] defaultCpus(int[] allowed, int available) {
        int n = Math.max(1, available);
        if (allowed.length == 0) return java.util.stream.IntStream.range(0, n).toArray();
        return Arrays.copyOf(allowed, Math.min(allowed.length, n));
    }

    /**
     * The CPUs this process may run on, ascending: {@code Cpus_allowed_list} of
     * /proc/self/status (the sched_getaffinity mask, which a container's cpuset and
     * {@code taskset} restrict); empty if it cannot be read (not Linux).
     */
    static int[] allowedCpus() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return Arrays.stream(parseCpus("Cpus_allowed_list", line.substring(line.indexOf(':') + 1)))
                            .filter(c -> c >= 0 && c < 1024).sorted().distinct().toArray();
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: the CPUs are numbered from 0
        }
        return new int[0];
    }

    /** Parses a CPU list such as {@code 0,2-3}. */
    public static int[] parseCpus(String prop, String v) {
        try {
            return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).flatMapToInt(s -> {
                int dash = s.indexOf('-');
                if (dash < 0) return java.util.stream.IntStream.of(Integer.parseInt(s));
                return java.util.stream.IntStream.rangeClosed(Integer.parseInt(s.substring(0, dash)),
                        Integer.parseInt(s.substring(dash + 1)));
            }).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(prop + "=" + v + ": expected a CPU list such as 0,2-3");
        }
    }

    public Engine engine() { return engine; }

    /**
     * CPUs that run application threads (carriers). Default: every CPU the process may use
     * (carrier-local execution: each carrier submits and reaps its own calls); when the
     * configuration names {@link #syscallCpus()}, every CPU but those (the syscall side gets
     * CPUs of its own: docs/engines.md says which machines should).
     */
    public int[] userCpus() { return userCpus.clone(); }

    /**
     * CPUs that run the syscall side, where an engine has one (SYSCALL_THREADS' and
     * KERNEL_MODULE's syscall threads, one group of syscall pages per CPU; IO_URING_SQPOLL's
     * polling thread on the first). Default: the last CPU the process may use, shared with a
     * carrier unless the configuration names these CPUs.
     */
    public int[] syscallCpus() { return syscallCpus.clone(); }

    /**
     * True if no syscall CPU is also a user CPU: the syscall side (syscall threads, an SQ
     * polling thread) has CPUs of its own, the paper's multi-core mode. False by default,
     * where every CPU carries green threads ({@link Engine#autoOrder(FlexscConfig)} reads it).
     */
    public boolean syscallCpusSetAside() {
        for (int s : syscallCpus) {
            for (int u : userCpus) if (s == u) return false;
        }
        return true;
    }

    /** Syscall pages (64 entries each) per syscall CPU. */
    public int pages() { return pages; }

    /** Maximum syscall threads per syscall CPU (the pool that takes over while one blocks). */
    public int poolThreads() { return poolThreads; }

    /**
     * Busy-wait iterations (PAUSE instructions) of an idle syscall thread before it sleeps.
     * The io_uring engines' fallback ignores it on machines of at most
     * {@link Engine#FEW_CPUS} CPUs, where its threads sleep at once (docs/engines.md).
     */
    public int executorSpin() { return executorSpin; }

    /** Busy-wait iterations of a platform-thread caller before it sleeps until completion. */
    public int callerSpin() { return callerSpin; }

    /** How long {@link FlexscEngine#close()} waits for calls in flight. */
    public long closeTimeoutMillis() { return closeTimeoutMillis; }

    /**
     * io_uring engines: how long the kernel's SQ polling thread (IO_URING_SQPOLL) keeps
     * polling without work before it sleeps; a submission after that wakes it with one
     * system call (IORING_SQ_NEED_WAKEUP). Longer keeps submissions free of system calls
     * through gaps, at the price of a busy syscall CPU.
     */
    public int sqThreadIdleMillis() { return sqThreadIdleMillis; }

    /**
     * io_uring engines: completion-queue entries, or 0 for twice the submission queue
     * (the SQ has {@link #pages()} x 64 entries, the syscall-page capacity of one syscall CPU).
     * Up to SQ + CQ calls may be in flight; completions beyond the CQ wait in the kernel's
     * overflow list (IORING_FEAT_NODROP) and are collected as the CQ drains.
     */
    public int uringCqEntries() { return uringCqEntries; }

    /** When calls are posted and when they are made directly on the caller's thread; see {@link CallPolicy}. */
    public CallPolicy policy() { return policy; }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        return builder().engine(engine).userCpus(userCpus).syscallCpus(syscallCpus).pages(pages)
                .poolThreads(poolThreads).executorSpin(executorSpin).callerSpin(callerSpin)
                .closeTimeoutMillis(closeTimeoutMillis).sqThreadIdleMillis(sqThreadIdleMillis)
                .uringCqEntries(uringCqEntries).policy(policy);
    }

    @Override
    public String toString() {
        return "FlexscConfig[engine=" + engine + ", userCpus=" + Arrays.toString(userCpus) + ", syscallCpus="
                + Arrays.toString(syscallCpus) + ", pages=" + pages + ", poolThreads=" + poolThreads + ", policy=" + policy + "]";
    }

    /** Builder; not thread-safe. */
    public static final class Builder {
        private Engine engine = Engine.AUTO;
        private int[] userCpus;
        private int[] syscallCpus;
        private int pages = 8;
        private int poolThreads = 16;
        private int executorSpin = 20_000;
        private int callerSpin = 2_000;
        private long closeTimeoutMillis = 5_000;
        private int sqThreadIdleMillis = 50;
        private int uringCqEntries = 0;
        private CallPolicy policy = CallPolicy.ADAPTIVE;

        private Builder() {}

        public Builder engine(Engine engine) {
            this.engine = java.util.Objects.requireNonNull(engine, "engine");
            return this;
        }

        /** The carriers' CPUs (see {@link FlexscConfig#userCpus()}); they may overlap the syscall CPUs. */
        public Builder userCpus(int... cpus) {
            this.userCpus = cpus.clone();
            return this;
        }

        /**
         * The syscall side's CPUs (see {@link FlexscConfig#syscallCpus()}). Naming them sets them
         * aside: the default carriers then run on the other CPUs (name {@link #userCpus} too to
         * share them).
         */
        public Builder syscallCpus(int... cpus) {
            this.syscallCpus = cpus.clone();
            return this;
        }

        public Builder pages(int pages) {
            this.pages = pages;
            return this;
        }

        public Builder poolThreads(int n) {
            this.poolThreads = n;
            return this;
        }

        public Builder executorSpin(int iterations) {
            this.executorSpin = iterations;
            return this;
        }

        public Builder callerSpin(int iterations) {
            this.callerSpin = iterations;
            return this;
        }

        public Builder closeTimeoutMillis(long millis) {
            this.closeTimeoutMillis = millis;
            return this;
        }

        /** See {@link FlexscConfig#sqThreadIdleMillis()}; 1..60000, default 50. */
        public Builder sqThreadIdleMillis(int millis) {
            this.sqThreadIdleMillis = millis;
            return this;
        }

        /** See {@link FlexscConfig#uringCqEntries()}; 0 (default: twice the SQ) or SQ..65536. */
        public Builder uringCqEntries(int entries) {
            this.uringCqEntries = entries;
            return this;
        }

        /** See {@link FlexscConfig#policy()}; default {@link CallPolicy#ADAPTIVE}. */
        public Builder policy(CallPolicy policy) {
            this.policy = java.util.Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** @throws IllegalArgumentException naming the first bad value */
        public FlexscConfig build() {
            return new FlexscConfig(this);
        }
    }
}
