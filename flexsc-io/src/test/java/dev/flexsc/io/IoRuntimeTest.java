package dev.flexsc.io;

import dev.flexsc.Syscalls;
import dev.flexsc.threads.FlexscRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The setup the I/O test classes share: one runtime on the test engine
 * ({@link IoTestSupport#openRuntime()}), opened before a class's tests and closed after
 * them, and a fresh temporary directory per test. The fields are static, one runtime at
 * a time: test classes run one after another (JUnit's default; no parallel execution).
 */
abstract class IoRuntimeTest {
    static FlexscRuntime rt;
    /** {@code rt.syscalls()}. */
    static Syscalls sys;

    @TempDir
    Path dir;

    @BeforeAll
    static void openRuntime() throws Exception {
        rt = IoTestSupport.openRuntime();
        sys = rt.syscalls();
    }

    @AfterAll
    static void closeRuntime() {
        rt.close();
    }
}
