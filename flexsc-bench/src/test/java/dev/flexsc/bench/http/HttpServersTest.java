package dev.flexsc.bench.http;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/** Each server serves every file byte-exact over keep-alive, answers 404, and honours Connection: close. */
class HttpServersTest {
    @TempDir
    Path dir;

    private void exercise(int port) throws IOException {
        HttpTestClient.exercise(dir, port);
    }

    @Test
    @Timeout(60)
    void directCallsOnAFixedPool() throws IOException {
        StaticFiles.create(dir);
        try (ExecutorService pool = Executors.newFixedThreadPool(8);
             SyscallHttpServer server = new SyscallHttpServer(DirectSyscalls.syscalls(), pool, dir)) {
            exercise(server.port());
            assertEquals(15, server.requests()); // 3 rounds x 4 files, two 404s, one Connection: close
        }
    }

    @Test
    @Timeout(60)
    void flexscCalls() throws IOException {
        StaticFiles.create(dir);
        try (FlexscEngine e = SyscallThreadsEngine.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS).policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
             ExecutorService pool = Executors.newFixedThreadPool(8)) {
            Syscalls sys = e.syscalls();
            try (SyscallHttpServer server = new SyscallHttpServer(sys, pool, dir)) {
                exercise(server.port());
                assertEquals(15, server.requests()); // 3 rounds x 4 files, two 404s, one Connection: close
            }
            assertTrue(e.stats().executed() > 50, "the calls did not go through the engine: " + e.stats());
        }
    }

    @Test
    @Timeout(60)
    void jdkIoOnStockVirtualThreads() throws IOException {
        StaticFiles.create(dir);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
             JdkHttpServer server = new JdkHttpServer(pool, dir)) {
            exercise(server.port());
            assertEquals(15, server.requests()); // 3 rounds x 4 files, two 404s, one Connection: close
        }
    }
}
