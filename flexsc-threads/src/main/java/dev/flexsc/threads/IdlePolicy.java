package dev.flexsc.threads;

/**
 * How an idle carrier waits for work, in phases: spin (cheap to leave; catches a
 * completion that is about to arrive), then yield the core (to other OS threads of the
 * process), then block in the engine's completion wait or park. Never an unbounded yield
 * loop. Immutable.
 *
 * @param spins        idle rounds that spin (each polls the queues and pending calls once)
 * @param yields       idle rounds after the spins that call {@link Thread#yield()}
 * @param blockTimeoutNanos safety timeout of a completion wait on one word
 * @param multiWordTimeoutNanos timeout when pending calls wait on several words (engines or
 *                     groups) and the carrier can sleep on only one of them
 */
record IdlePolicy(int spins, int yields, long blockTimeoutNanos, long multiWordTimeoutNanos) {
    enum Phase { SPIN, YIELD, BLOCK }

    static final IdlePolicy DEFAULT = new IdlePolicy(2_000, 8, 50_000_000L, 200_000L);

    Phase phase(int round) {
        if (round < spins) return Phase.SPIN;
        if (round < spins + yields) return Phase.YIELD;
        return Phase.BLOCK;
    }
}
