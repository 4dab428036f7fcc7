package dev.flexsc.bench;

/**
 * The unit of CPU-bound work the studies' competing threads do: about 1 us of arithmetic
 * (a thousand xorshift steps) with no memory traffic, so it measures a core's time and
 * nothing that other threads share (caches, memory bandwidth).
 */
public final class CpuWork {
    private CpuWork() {}

    /** A starting state: any non-zero value. */
    public static long seed() {
        return System.nanoTime() | 1;
    }

    /**
     * One unit from state {@code x}; returns the next state. A caller must use the final state
     * (publish it, or compare it) so that the JIT cannot drop the arithmetic.
     */
    public static long unit(long x) {
        for (int i = 0; i < 1000; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x;
    }
}
