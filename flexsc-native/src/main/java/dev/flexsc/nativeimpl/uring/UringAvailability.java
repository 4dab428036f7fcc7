package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.nativeimpl.LibFlexsc;
import dev.flexsc.nativeimpl.SyscallThreadsProvider;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.flexsc.nativeimpl.uring.IoUringDescriptor.*;

/**
 * Whether the io_uring engines can run here, and if not, why, in words a user can act on
 * (the way Netty's {@code IOUring.unavailabilityCause()} works). Probes once per engine by
 * setting up a small ring and closing it; the answer is cached for the life of the JVM.
 *
 * <p>What it detects: the {@code kernel.io_uring_disabled} sysctl (Linux 6.6+), a seccomp
 * filter that makes io_uring_setup fail with EPERM or ENOSYS (Docker's default profile),
 * a kernel without io_uring, RLIMIT_MEMLOCK too small for the rings (Linux before 5.12),
 * and kernels older than the features the engines need (Linux 5.11: IORING_FEAT_EXT_ARG,
 * SQPOLL without registered files).
 */
public final class UringAvailability {
    private UringAvailability() {}

    /** System property that disables both io_uring engines (AUTO then passes them over). */
    public static final String DISABLE_PROPERTY = "flexsc.uring.disable";

    private static final String AVAILABLE = "";
    private static final Map<Engine, String> CACHE = new ConcurrentHashMap<>();
    private static final Map<Engine, boolean[]> ROUTES = new ConcurrentHashMap<>();

    /** Null if {@code kind} can be opened, else the reason. Cheap after the first call. */
    public static String unavailabilityCause(Engine kind) {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) return "disabled by -D" + DISABLE_PROPERTY + "=true";
        if (Boolean.getBoolean(SyscallThreadsProvider.DISABLE_PROPERTY)) {
            return "disabled by -D" + SyscallThreadsProvider.DISABLE_PROPERTY + "=true";
        }
        String lib = LibFlexsc.unavailabilityCause();
        if (lib != null) return lib;
        String why = CACHE.computeIfAbsent(kind, UringAvailability::probe);
        return why.isEmpty() ? null : why;
    }

    /**
     * Which calls run on the rings of {@code kind} and which are made directly, and the setup
     * flags of its rings on this kernel ({@link RingSetup}); null if unavailable.
     */
    public static String routing(Engine kind) {
        if (unavailabilityCause(kind) != null) return null;
        boolean[] supported = ROUTES.get(kind);
        return supported == null ? null : UringOps.describe(UringOps.route(supported)) + "; "
                + UringOps.describeReadiness(supported) + "; " + RingSetup.of(kind).describe();
    }

    private static String probe(Engine kind) {
        int flags = kind == Engine.IO_URING_SQPOLL ? SETUP_SQPOLL : 0;
        try (IoUring ring = IoUring.setup(8, 0, flags, 0, 10)) {
            List<String> missing = new java.util.ArrayList<>();
            if (!ring.hasFeature(FEAT_NODROP)) missing.add("IORING_FEAT_NODROP (5.5)");
            if (!ring.hasFeature(FEAT_SUBMIT_STABLE)) missing.add("IORING_FEAT_SUBMIT_STABLE (5.5)");
            if (!ring.hasFeature(FEAT_RW_CUR_POS)) missing.add("IORING_FEAT_RW_CUR_POS (5.6)");
            if (!ring.hasFeature(FEAT_EXT_ARG)) missing.add("IORING_FEAT_EXT_ARG (5.11)");
            if (kind == Engine.IO_URING_SQPOLL && !ring.hasFeature(FEAT_SQPOLL_NONFIXED)) {
                missing.add("IORING_FEAT_SQPOLL_NONFIXED (5.11)");
            }
            if (!missing.isEmpty()) {
                return "the kernel's io_uring lacks " + String.join(", ", missing) + "; FlexSC needs Linux 5.11 or newer";
            }
            boolean[] ops = ring.probeOpcodes();
            if (!ops[OP_READ] || !ops[OP_WRITE] || !ops[OP_ASYNC_CANCEL]) {
                return "the kernel's io_uring has no READ/WRITE/ASYNC_CANCEL operations (Linux < 5.6)";
            }
            ROUTES.put(kind, ops);
            return AVAILABLE;
        } catch (ErrnoException e) {
            return explain(kind, e);
        } catch (RuntimeException | LinkageError e) {
            return "io_uring probe failed: " + e;
        }
    }

    private static String explain(Engine kind, ErrnoException e) {
        String seccomp = seccompMode();
        String filter = "2".equals(seccomp)
                ? "; a seccomp filter is active in this process (/proc/self/status Seccomp: 2), as under Docker's"
                  + " default profile, which blocks io_uring: run with a profile that allows io_uring_setup,"
                  + " io_uring_enter and io_uring_register"
                : "";
        switch (e.errno()) {
            case Errno.ENOSYS:
                return e.getMessage() + ": the kernel has no io_uring (CONFIG_IO_URING off or Linux < 5.1)"
                        + (filter.isEmpty() ? "" : " or it is filtered" + filter);
            case Errno.EPERM: {
                String sysctl = read("/proc/sys/kernel/io_uring_disabled");
                if ("2".equals(sysctl)) {
                    return e.getMessage() + ": io_uring is disabled system-wide by sysctl kernel.io_uring_disabled=2";
                }
                if ("1".equals(sysctl)) {
                    return e.getMessage() + ": sysctl kernel.io_uring_disabled=1 allows io_uring only to the group"
                            + " kernel.io_uring_group (" + read("/proc/sys/kernel/io_uring_group") + ") and to"
                            + " CAP_SYS_ADMIN; add the user to that group";
                }
                return e.getMessage() + ": not permitted" + (filter.isEmpty() ? " (a security policy denies io_uring)" : filter);
            }
            case Errno.ENOMEM:
                return e.getMessage() + ": on Linux < 5.12 the rings count against RLIMIT_MEMLOCK ("
                        + memlock() + "); raise it (ulimit -l) or use a newer kernel";
            case Errno.EINVAL:
                return e.getMessage() + (kind == Engine.IO_URING_SQPOLL
                        ? ": the kernel refuses SQPOLL rings for this user (Linux < 5.11 needs CAP_SYS_ADMIN)"
                        : ": the kernel refuses the ring parameters");
            default:
                return e.getMessage() + filter;
        }
    }

    private static String seccompMode() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Seccomp:")) return line.substring(8).trim();
            }
        } catch (IOException ignored) {
            // not Linux procfs: no detail
        }
        return "?";
    }

    private static String memlock() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max locked memory")) return line.replaceAll("\\s+", " ").trim();
            }
        } catch (IOException ignored) {
            // no detail
        }
        return "limit unknown";
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path)).trim();
        } catch (IOException e) {
            return "absent";
        }
    }
}
