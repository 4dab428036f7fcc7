package dev.flexsc.nativeimpl;

import dev.flexsc.Engine;
import dev.flexsc.EngineAvailability;
import dev.flexsc.EngineClosedException;
import dev.flexsc.RefusedCallException;
import dev.flexsc.Errno;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.abi.SyscallPageDescriptor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static dev.flexsc.OpenFlags.*;
import dev.flexsc.spi.page.RawEntries;
import dev.flexsc.abi.SyscallTable;

/**
 * What is specific to KERNEL_MODULE: availability reasons, SERVE threads, batching with
 * WAIT(EXECUTE), close. The engine-independent behaviour is covered by DifferentialTest,
 * ErrorsTest and ConcurrencyTest run with -Dflexsc.test.engine=KERNEL_MODULE (the guest
 * run of kernel-module/test-kernel.sh). Without the module every test here that needs it
 * is skipped with the reason printed.
 */
class KernelModuleEngineTest {
    private static String cause() {
        return new KernelModuleProvider().unavailabilityCause();
    }

    /** Skips (printing why) unless the module is usable, or fails if the run requires it. */
    private static void requireModule() {
        String why = cause();
        if (why != null) {
            String msg = "KERNEL_MODULE unavailable: " + why;
            if (Boolean.getBoolean(REQUIRED_PROPERTY)) fail(msg);
            System.out.println("skipped: " + msg);
            Assumptions.abort(msg);
        }
    }

    private static FlexscConfig kmConfig() {
        return FlexscConfig.builder().engine(Engine.KERNEL_MODULE).poolThreads(3).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build();
    }

    @Test
    void withoutTheDeviceTheReasonSaysHowToLoadTheModule() {
        Assumptions.assumeFalse(Files.exists(Path.of(KernelModuleEngine.DEVICE)),
                "/dev/flexsc exists here: the missing-module message cannot be observed");
        String want = "/dev/flexsc not found (load kernel-module/flexsc.ko: see docs/kernel-module.md)";
        assertEquals(want, cause());
        EngineAvailability a = Flexsc.probe().stream().filter(x -> x.engine() == Engine.KERNEL_MODULE).findFirst().orElseThrow();
        assertFalse(a.available());
        assertEquals(want, a.reason());
        IOException e = assertThrows(IOException.class, () -> Flexsc.open(kmConfig()));
        assertTrue(e.getMessage().contains(want), e.getMessage());
    }

    @Test
    void eachRefusalHasItsOwnSentence() {
        assertTrue(KernelModuleEngine.describe(LibFlexsc.KM_STAGE_OPEN, Errno.EACCES).startsWith("permission denied opening /dev/flexsc"));
        assertTrue(KernelModuleEngine.describe(LibFlexsc.KM_STAGE_REGISTER, Errno.EPERM).contains("seccomp"));
        String abi = KernelModuleEngine.describe(LibFlexsc.KM_STAGE_REGISTER, 71 /* EPROTO */);
        assertTrue(abi.contains("another syscall-page ABI") && abi.contains("ABI " + SyscallPageDescriptor.ABI_VERSION), abi);
        assertTrue(KernelModuleEngine.describe(LibFlexsc.KM_STAGE_REGISTER, 25 /* ENOTTY */).contains("not the FlexSC module"));
        String audit = KernelModuleEngine.describe(LibFlexsc.KM_STAGE_REGISTER, 95 /* EOPNOTSUPP */);
        assertTrue(audit.contains("audit") && audit.contains("auditctl -D"), audit);
        String mem = KernelModuleEngine.describe(LibFlexsc.KM_STAGE_REGISTER, 12 /* ENOMEM */);
        assertTrue(mem.contains("RLIMIT_MEMLOCK") && mem.contains("memory cgroup"), mem);
        assertEquals("/dev/flexsc not found (load kernel-module/flexsc.ko: see docs/kernel-module.md)",
                KernelModuleEngine.describe(LibFlexsc.KM_STAGE_OPEN, Errno.ENOENT));
    }

    @Test
    void disabledByTheNativeSwitch() {
        System.setProperty(SyscallThreadsProvider.DISABLE_PROPERTY, "true");
        try {
            assertEquals("disabled by -Dflexsc.native.disable=true", cause());
        } finally {
            System.clearProperty(SyscallThreadsProvider.DISABLE_PROPERTY);
        }
    }

    /**
     * REGISTER refuses the carrier groups' pages with ENOMEM (over RLIMIT_MEMLOCK): the engine
     * opens in the multi-core mode, without them, and works. A child JVM as an unprivileged
     * user (no CAP_IPC_LOCK, so the module charges its pages against the limit) with a limit
     * of two pages: the control page and one syscall group fit, a carrier group more does
     * not. The same child under a limit that fits both gets its carrier group, so the limit
     * is what made the difference.
     */
    @Test
    @Timeout(300)
    void whenRegisterRefusesTheCarrierGroupsPagesTheEngineOpensWithoutThem() throws Exception {
        requireModule();
        for (String tool : new String[] {"/usr/bin/prlimit", "/usr/bin/setpriv"}) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(tool)), tool + " is missing: cannot run a child as an"
                    + " unprivileged user under a memlock limit");
        }
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "not root: cannot start a child"
                + " as another user");
        String fits = runFallbackChild(1 << 20), small = runFallbackChild(8192);
        String pid = "getpid=";
        assertTrue(fits.startsWith("carrierGroups=1 groups=2 " + pid), "with room for it: " + fits);
        assertTrue(small.startsWith("carrierGroups=0 groups=1 " + pid), "over RLIMIT_MEMLOCK: " + small);
    }

    /** Runs {@link ModuleFallbackMain} as user nobody under RLIMIT_MEMLOCK {@code memlock}; returns its output line. */
    private static String runFallbackChild(long memlock) throws Exception {
        StringBuilder cp = new StringBuilder();
        for (Class<?> c : new Class<?>[] {ModuleFallbackMain.class, KernelModuleEngine.class,
                dev.flexsc.spi.page.PageEngine.class, com.sun.jna.Native.class}) {
            if (!cp.isEmpty()) cp.append(':');
            cp.append(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("/usr/bin/prlimit", "--memlock=" + memlock + ":" + memlock,
                "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                javaBin, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-XX:-UsePerfData", "-Djna.tmpdir=/tmp", "-cp", cp.toString(), ModuleFallbackMain.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the child did not exit");
        assertEquals(0, p.exitValue(), () -> "the child failed: " + out);
        return out.lines().reduce((a, b) -> b).orElse("");
    }

    @Test
    @Timeout(120)
    void autoPicksTheModuleAndCallsRunInServeThreadsOfThisProcess() throws IOException {
        requireModule();
        long before = threadsNamed(KernelModuleEngine.THREAD_NAME);
        try (FlexscEngine e = Flexsc.open(FlexscConfig.builder().poolThreads(3).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build())) {
            // (the carrier groups have no SERVE threads: their carriers run them)
            assertEquals(Engine.KERNEL_MODULE, e.engine(), "AUTO tries KERNEL_MODULE first");
            assertInstanceOf(KernelModuleEngine.class, e);
            assertEquals(ProcessHandle.current().pid(), e.syscalls().getpid());
            // one group (the default syscall CPU), three SERVE threads
            assertEquals(before + 3, threadsNamed(KernelModuleEngine.THREAD_NAME));
            assertEquals(3, e.stats().executorThreads());
            // an fd opened through the module is this process's fd
            int fd = e.syscalls().openat(dev.flexsc.Syscalls.AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
            assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString().equals("/dev/null"));
            e.syscalls().close(fd);
            assertTrue(statsOnceExecuted(e, 3).executed() >= 3, e.stats().toString());
        }
        assertEquals(before, threadsNamed(KernelModuleEngine.THREAD_NAME), "SERVE threads left after close");
        assertFalse(deviceOpen(), "/dev/flexsc still open after close");
    }

    @Test
    @Timeout(120)
    void executePendingRunsABatchInTheCallersThread() throws IOException {
        requireModule();
        try (KernelModuleEngine e = (KernelModuleEngine) open(kmConfig())) {
            long pid = ProcessHandle.current().pid();
            int n = 48;
            int[] idx = new int[n];
            long executedBefore = e.stats().executed();
            for (int i = 0; i < n; i++) idx[i] = RawEntries.post(e, 0, SyscallPageDescriptor.STATUS_SUBMITTED, SyscallTable.GETPID);
            int mine = 0;
            for (int round = 0; round < 1000 && mine < n; round++) {
                int k = e.executePending(0);
                assertTrue(k >= 0 && k <= n, "executed " + k);
                mine += k;
                if (k == 0) break; // the SERVE threads took the rest
            }
            for (int i = 0; i < n; i++) assertEquals(pid, RawEntries.reap(e, 0, idx[i], 5000), "entry " + idx[i]);
            assertEquals(executedBefore + n, statsOnceExecuted(e, executedBefore + n).executed(), "each entry executed exactly once");
            System.out.printf("executePending: %d of %d entries ran in the caller's thread%n", mine, n);
            assertEquals(0, e.executePending(0), "nothing left");
            assertThrows(IndexOutOfBoundsException.class, () -> e.executePending(e.groups()));
        }
    }

    @Test
    void eachStopReasonHasItsOwnSentence() {
        assertTrue(ModuleExecutors.stopReason(SyscallPageDescriptor.STOP_CLOSE).contains("closed a descriptor"));
        assertTrue(ModuleExecutors.stopReason(SyscallPageDescriptor.STOP_SECCOMP).contains("seccomp"));
        assertTrue(ModuleExecutors.stopReason(SyscallPageDescriptor.STOP_AUDIT).contains("audit"));
        assertTrue(ModuleExecutors.stopReason(SyscallPageDescriptor.STOP_IOCTL).contains("FLEXSC_IOC_STOP"));
        assertTrue(ModuleExecutors.stopReason(77).contains("77"));
    }

    /**
     * The application closes the engine's own descriptor (a posted close: the module stops
     * the registration, FLEXSC_STOP_CLOSE). The next call must fail with EngineClosedException
     * naming that reason, instead of waiting forever for SERVE threads that have left, and the
     * engine must close itself (no SERVE thread left, the mapping released).
     */
    @Test
    @Timeout(60)
    void closingTheEnginesOwnDescriptorFailsCallsWithTheReason() throws Exception {
        requireModule();
        KernelModuleEngine e = (KernelModuleEngine) open(kmConfig());
        assertEquals(ProcessHandle.current().pid(), e.syscalls().getpid());
        // Through the engine the descriptor is refused (the next test); the application can
        // still close it behind the engine's back, and the module then stops the registration.
        assertEquals(0, DirectSyscalls.raw(SyscallTable.CLOSE, e.deviceFd(), 0, 0, 0, 0, 0));
        EngineClosedException x = assertThrows(EngineClosedException.class, () -> e.syscalls().getpid());
        assertTrue(x.getMessage().contains("closed a descriptor"), x.getMessage());
        long deadline = System.nanoTime() + 20_000_000_000L;
        while ((e.isOpen() || threadsNamed(KernelModuleEngine.THREAD_NAME) > 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertFalse(e.isOpen(), "the engine did not close itself after the module stopped");
        assertEquals(0, threadsNamed(KernelModuleEngine.THREAD_NAME), "SERVE threads left");
        x = assertThrows(EngineClosedException.class, () -> e.syscalls().getpid());
        assertTrue(x.getMessage().contains("closed a descriptor"), x.getMessage());
        e.close(); // idempotent
    }

    @Test
    @Timeout(60)
    void theEnginesOwnDescriptorIsRefusedAsAnArgument() throws Exception {
        requireModule();
        try (KernelModuleEngine e = (KernelModuleEngine) open(kmConfig())) {
            RefusedCallException x = assertThrows(RefusedCallException.class, () -> e.syscalls().close(e.deviceFd()));
            assertTrue(x.getMessage().contains("/dev/flexsc"), x.getMessage());
            assertEquals(ProcessHandle.current().pid(), e.syscalls().getpid(), "the engine still runs");
        }
    }

    @Test
    @Timeout(120)
    void closeFailsCallsAfterwardsAndLeavesNothingOpen() throws IOException {
        requireModule();
        KernelModuleEngine e = (KernelModuleEngine) open(kmConfig());
        e.syscalls().getpid();
        assertTrue(deviceOpen());
        e.close();
        assertThrows(EngineClosedException.class, () -> e.syscalls().getpid());
        assertEquals(0, e.executePending(0));
        assertFalse(deviceOpen(), "/dev/flexsc still open after close");
        e.close(); // idempotent
    }

    private static long threadsNamed(String name) throws IOException {
        return TestSupport.threadsMatching(name::equals);
    }

    private static boolean deviceOpen() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(f -> {
                try {
                    return Files.readSymbolicLink(f).toString().equals(KernelModuleEngine.DEVICE);
                } catch (IOException gone) {
                    return false;
                }
            });
        }
    }
}
