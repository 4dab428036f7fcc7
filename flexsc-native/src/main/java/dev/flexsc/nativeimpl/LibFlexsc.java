package dev.flexsc.nativeimpl;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * JNA direct-mapped bindings to libflexsc: the control plane (create, stop, futex
 * wait and wake, pin, cancel). Never called per system call on the fast path.
 */
public final class LibFlexsc {
    private LibFlexsc() {}

    private static final NativeLibrary LIB;
    private static final Throwable LOAD_ERROR;

    static {
        NativeLibrary lib = null;
        Throwable err = null;
        try {
            lib = NativeLibrary.getInstance("flexsc", LibFlexsc.class.getClassLoader());
            Native.register(LibFlexsc.class, lib);
        } catch (Throwable t) {
            err = t;
        }
        LIB = lib;
        LOAD_ERROR = err;
    }

    /** Null if libflexsc loaded, else why not. */
    public static String unavailabilityCause() {
        if (LOAD_ERROR != null) {
            return "libflexsc could not be loaded (" + LOAD_ERROR.getMessage() + ")";
        }
        if (!"amd64".equals(System.getProperty("os.arch")) || !System.getProperty("os.name").startsWith("Linux")) {
            return "libflexsc is built for Linux x86-64 only; this is " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch");
        }
        return null;
    }

    /** Throws if the library is not loaded. */
    public static void ensureAvailable() {
        String why = unavailabilityCause();
        if (why != null) throw new UnsatisfiedLinkError(why);
    }

    /**
     * Address of an exported function of the loaded library, for FFM downcalls into the
     * same copy JNA loaded (JNA may delete its extracted file once loaded, so a second
     * dlopen by path is not an option).
     */
    public static long symbol(String name) {
        ensureAvailable();
        return Pointer.nativeValue(LIB.getFunction(name));
    }

    public static native Pointer flexsc_st_create(int groups, int[] cpus, int pages, int poolMax, int spinIters, int[] err);
    public static native Pointer flexsc_st_base(Pointer st);
    public static native long flexsc_st_mapping_size(Pointer st);
    public static native int flexsc_st_threads(Pointer st);
    public static native int flexsc_st_stop(Pointer st, long timeoutNs);
    public static native void flexsc_st_free(Pointer st);
    public static native int flexsc_st_cancel(Pointer st, int g, int idx);
    public static native int flexsc_futex_wait(Pointer addr, int expected, long timeoutNs);
    public static native int flexsc_futex_wake(Pointer addr, int count);
    public static native int flexsc_pin_self(int cpu);
    public static native long flexsc_raw(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
    public static native int flexsc_abi_describe(byte[] buf, int len);
    public static native int flexsc_calls_describe(byte[] buf, int len);
    public static native int flexsc_call_allowed(int nr, int[] mayBlock);

    // KERNEL_MODULE control plane (flexsc_km.c)
    public static final int KM_STAGE_OPEN = 1, KM_STAGE_REGISTER = 2, KM_STAGE_MMAP = 3, KM_STAGE_THREADS = 4;
    public static native int flexsc_km_probe(String path, int[] stage);
    public static native Pointer flexsc_km_open(String path, int groups, int[] cpus, int pages, int threadsPerGroup,
                                                int serveGroups, int[] err, int[] stage);
    public static native Pointer flexsc_km_base(Pointer km);
    public static native long flexsc_km_mapping_size(Pointer km);
    public static native int flexsc_km_threads(Pointer km);
    public static native int flexsc_km_wake(Pointer km, int g);
    public static native int flexsc_km_wait(Pointer km, int g, int flags, long timeoutNs, int doneSeq, int[] executed);
    public static native int flexsc_km_cancel(Pointer km, int g, int idx);
    public static native int flexsc_km_wake_waiters(Pointer km, int g);
    public static native int flexsc_km_stop(Pointer km, long timeoutNs);
    public static native void flexsc_km_free(Pointer km);
    public static native int flexsc_km_fd(Pointer km);

    /** flexsc_abi_describe as a string. */
    public static String abiDescription() {
        return describe(true);
    }

    /** flexsc_calls_describe as a string. */
    public static String callsDescription() {
        return describe(false);
    }

    private static String describe(boolean abi) {
        byte[] buf = new byte[16384];
        int n = abi ? flexsc_abi_describe(buf, buf.length) : flexsc_calls_describe(buf, buf.length);
        if (n >= buf.length) throw new IllegalStateException("description truncated");
        return new String(buf, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
