package dev.flexsc.spi;

/**
 * The threads that are starting FlexSC: probing or opening an engine. FlexSC cannot serve the
 * calls that start it (an engine reads {@code /proc} files as it opens; serving those through
 * FlexSC would open the engine again, from inside its own open), so FlexSC's file system
 * provider leaves the file opens of a marked thread to the JDK's provider. Code that starts
 * FlexSC marks its thread with {@link #enter()} in a try-with-resources; marks nest.
 *
 * <p>Thread-confined: a mark is the calling thread's, set and cleared by it.
 */
public final class Bootstrapping {
    private Bootstrapping() {}

    /** How deep this thread is in FlexSC's start; null when it is not starting it. */
    private static final ThreadLocal<Integer> DEPTH = new ThreadLocal<>();

    /** This thread's mark; {@link #close()} clears it. */
    public static final class Mark implements AutoCloseable {
        private Mark() {}

        @Override
        public void close() {
            int d = DEPTH.get();
            if (d == 1) DEPTH.remove();
            else DEPTH.set(d - 1);
        }
    }

    /** Marks this thread as starting FlexSC until the mark is closed. */
    public static Mark enter() {
        Integer d = DEPTH.get();
        DEPTH.set(d == null ? 1 : d + 1);
        return new Mark();
    }

    /** True while this thread holds a mark. */
    public static boolean onThisThread() {
        return DEPTH.get() != null;
    }
}
