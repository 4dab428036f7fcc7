package dev.flexsc.spi;

import dev.flexsc.RefusedCallException;
import dev.flexsc.abi.SyscallTable;

import java.util.Arrays;

/**
 * The file descriptors an engine owns (the KERNEL_MODULE's {@code /dev/flexsc} descriptor,
 * an io_uring engine's ring): a call through {@link dev.flexsc.Syscalls} or
 * {@link dev.flexsc.SyscallBatch} that names one of them as a descriptor argument is
 * refused before anything runs, on the direct path of a call policy too. Through the
 * engine, {@code close(ring)} would stop or wreck the engine under every other caller,
 * and no other call on those descriptors is meant for applications either.
 *
 * <p>Immutable. The check costs a compare per descriptor argument and owned descriptor.
 */
public final class OwnedFds {
    /** An engine that owns no descriptor (SYSCALL_THREADS, the direct baseline). */
    public static final OwnedFds NONE = new OwnedFds(new int[0], "");

    private final int[] fds;
    private final String what;

    private OwnedFds(int[] fds, String what) {
        this.fds = fds;
        this.what = what;
    }

    /**
     * @param what what the descriptors are, for the refusal's message (e.g. "the io_uring
     *             ring of this IO_URING engine")
     * @return {@link #NONE} where {@code fds} is empty
     */
    public static OwnedFds of(String what, int... fds) {
        return fds.length == 0 ? NONE : new OwnedFds(fds.clone(), what);
    }

    /** The descriptors, in no particular order. */
    public int[] fds() {
        return fds.clone();
    }

    /** True if {@code fd} is one of them. */
    public boolean owns(long fd) {
        for (int f : fds) {
            if (f == fd) return true;
        }
        return false;
    }

    /**
     * Refuses {@code call} if one of its descriptor arguments is owned.
     *
     * @throws RefusedCallException naming the call, the descriptor and why
     */
    public void check(SyscallTable.Call call, long a0, long a1, long a2, long a3, long a4, long a5) {
        int mask = call.fdArgs();
        if (mask == 0 || fds.length == 0) return;
        if ((mask & 1) != 0 && owns(a0)) throw refused(call, a0);
        if ((mask & 2) != 0 && owns(a1)) throw refused(call, a1);
        if ((mask & 4) != 0 && owns(a2)) throw refused(call, a2);
        if ((mask & 8) != 0 && owns(a3)) throw refused(call, a3);
        if ((mask & 16) != 0 && owns(a4)) throw refused(call, a4);
        if ((mask & 32) != 0 && owns(a5)) throw refused(call, a5);
    }

    private RefusedCallException refused(SyscallTable.Call call, long fd) {
        return new RefusedCallException(call.nr(), call.name() + "(fd=" + fd + "): refused: descriptor " + fd + " is "
                + what + "; a call on it through the engine (close above all) would stop or wreck the engine for every"
                + " caller. Close the engine with FlexscEngine.close() instead");
    }

    @Override
    public String toString() {
        return fds.length == 0 ? "none" : what + " " + Arrays.toString(fds);
    }
}
