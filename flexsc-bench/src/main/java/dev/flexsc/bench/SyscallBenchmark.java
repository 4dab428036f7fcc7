package dev.flexsc.bench;

import dev.flexsc.FlexscEngine;
import dev.flexsc.spi.SyscallInvoker;
import org.openjdk.jmh.annotations.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * JMH: getpid, 64-byte write to /dev/null and 4 KiB pwrite through each variant.
 * Run with {@code ./flexsc bench --jmh SyscallBenchmark -t N}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED"})
public class SyscallBenchmark {
    @Param({"DIRECT_FFM", "DIRECT_JNA", "SYSCALL_THREADS"})
    public Variant variant;

    @Param({"GETPID", "WRITE64", "PWRITE4K"})
    public CallKind call;

    private FlexscEngine engine;
    private SyscallInvoker inv;
    private Arena arena;
    private Path file;
    private int nr;
    private long a0, a1, a2;

    @Setup
    public void setup() throws IOException {
        engine = variant.open();
        inv = variant.invoker(engine);
        arena = Arena.ofShared();
        file = Files.createTempFile("flexsc-jmh", ".dat");
        dev.flexsc.Syscalls direct = dev.flexsc.nativeimpl.DirectSyscalls.syscalls();
        a0 = switch (call) {
            case GETPID -> -1;
            case WRITE64 -> direct.openat(dev.flexsc.Syscalls.AT_FDCWD, "/dev/null", 01, 0);
            case PWRITE4K -> direct.openat(dev.flexsc.Syscalls.AT_FDCWD, file.toString(), 02, 0);
        };
        MemorySegment buf = arena.allocate(4096, 4096);
        a1 = buf.address();
        a2 = call.size();
        nr = call.nr();
    }

    @TearDown
    public void tearDown() throws IOException {
        if (a0 >= 0) dev.flexsc.nativeimpl.DirectSyscalls.syscalls().close((int) a0);
        if (engine != null) engine.close();
        arena.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public long call() throws IOException {
        return inv.invoke(nr, a0, a1, a2, 0, 0, 0);
    }
}
