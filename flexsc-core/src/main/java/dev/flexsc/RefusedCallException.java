package dev.flexsc;

/**
 * A system call that FlexSC never runs exception-less: it is tied to the calling
 * thread or to the life of the process (gettid, exit, clone, execve, futex, signals,
 * prctl, ...), the number is unknown, or it names one of the engine's own descriptors as
 * an argument ({@link dev.flexsc.spi.OwnedFds}). Thrown before anything is submitted.
 */
public class RefusedCallException extends IllegalArgumentException {
    private final int number;

    public RefusedCallException(int number, String message) {
        super(message);
        this.number = number;
    }

    /** The refused system call number. */
    public int number() {
        return number;
    }
}
