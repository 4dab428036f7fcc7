package dev.flexsc.bench.http;

import dev.flexsc.ErrnoException;
import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What this process has used so far, from getrusage(RUSAGE_SELF): user and system CPU time
 * and voluntary and involuntary context switches, summed by the kernel over every thread
 * the process has had, those that exited included (io_uring's io-wq workers come and go;
 * a sum over /proc/PID/task would lose theirs).
 *
 * @param userNanos CPU time in user mode
 * @param systemNanos CPU time in the kernel
 * @param voluntarySwitches switches because a thread blocked (ru_nvcsw)
 * @param involuntarySwitches switches because a thread was preempted (ru_nivcsw)
 */
public record ProcessUsage(long userNanos, long systemNanos, long voluntarySwitches, long involuntarySwitches) {
    private static final int SYS_GETRUSAGE = 98, RUSAGE_SELF = 0;
    /** struct rusage on x86-64: two struct timeval (16 bytes each), then 14 longs; ru_nvcsw is the 13th. */
    private static final long UTIME = 0, STIME = 16, NVCSW = 32 + 12 * 8, NIVCSW = 32 + 13 * 8, SIZE = 32 + 14 * 8;

    /** This process's usage now. */
    public static ProcessUsage self() throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ru = a.allocate(SIZE, 8);
            long r = DirectSyscalls.raw(SYS_GETRUSAGE, RUSAGE_SELF, ru.address(), 0, 0, 0, 0);
            if (r < 0) throw new ErrnoException("getrusage(RUSAGE_SELF)", (int) -r);
            return new ProcessUsage(timeval(ru, UTIME), timeval(ru, STIME), ru.get(ValueLayout.JAVA_LONG, NVCSW),
                    ru.get(ValueLayout.JAVA_LONG, NIVCSW));
        }
    }

    private static long timeval(MemorySegment ru, long at) {
        return ru.get(ValueLayout.JAVA_LONG, at) * 1_000_000_000L + ru.get(ValueLayout.JAVA_LONG, at + 8) * 1000;
    }

    /** CPU time, user and system. */
    public long cpuNanos() {
        return userNanos + systemNanos;
    }

    /** Context switches, voluntary and involuntary. */
    public long switches() {
        return voluntarySwitches + involuntarySwitches;
    }

    /** The usage from {@code earlier} to this one. */
    public ProcessUsage minus(ProcessUsage earlier) {
        return new ProcessUsage(userNanos - earlier.userNanos, systemNanos - earlier.systemNanos,
                voluntarySwitches - earlier.voluntarySwitches, involuntarySwitches - earlier.involuntarySwitches);
    }

    /** The protocol form: four numbers separated by spaces. */
    public String encode() {
        return userNanos + " " + systemNanos + " " + voluntarySwitches + " " + involuntarySwitches;
    }

    /** Parses {@link #encode()}'s form from {@code f[from..from+3]}. */
    public static ProcessUsage decode(String[] f, int from) {
        return new ProcessUsage(Long.parseLong(f[from]), Long.parseLong(f[from + 1]), Long.parseLong(f[from + 2]),
                Long.parseLong(f[from + 3]));
    }
}
