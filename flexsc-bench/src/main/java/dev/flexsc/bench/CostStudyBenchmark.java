package dev.flexsc.bench;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.SyscallThreadsEngine;
import dev.flexsc.spi.SyscallInvoker;
import org.openjdk.jmh.annotations.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The seeds' cost study, one call in flight: a Java method call, a native function call,
 * getpid through syscall() (no vDSO), a system call that returns ENOSYS at once, and
 * getpid through each FlexSC engine; and what the default call policy's direct path costs for
 * a 64-byte write to /dev/null: the plain write(2), the pwritev2(RWF_NOWAIT) it tries where the
 * descriptor's kind is unknown, and the fstat(2) and fcntl(F_GETFL) that asking the kernel for
 * the kind would add (docs/io.md, "Call policies", point 6). Average nanoseconds per call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED"})
public class CostStudyBenchmark {
    /** A number no kernel implements: the kernel returns -ENOSYS right after the trap. */
    static final int NR_NONE = 511;

    private static final int F_GETFL = 3;

    private FlexscEngine engine;
    private SyscallInvoker flexsc;
    private long x;
    private Arena arena;
    /** /dev/null, write-only, and 64 bytes to write to it. */
    private int devNull;
    private MemorySegment buf64, stat;

    @Setup
    public void setup() throws IOException {
        engine = SyscallThreadsEngine.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
        flexsc = (SyscallInvoker) engine;
        arena = Arena.ofShared();
        buf64 = arena.allocate(64);
        stat = arena.allocate(dev.flexsc.Stat.SIZE, 8);
        devNull = DirectSyscalls.syscalls().openat(dev.flexsc.Syscalls.AT_FDCWD, "/dev/null",
                dev.flexsc.OpenFlags.O_WRONLY | dev.flexsc.OpenFlags.O_CLOEXEC, 0);
    }

    @TearDown
    public void tearDown() throws IOException {
        DirectSyscalls.syscalls().close(devNull);
        arena.close();
        engine.close();
    }

    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private long javaMethod(long v) {
        return v + 1;
    }

    @Benchmark
    public long javaMethodCall() {
        return x = javaMethod(x);
    }

    @Benchmark
    public long nativeFunctionCall() {
        return x = DirectSyscalls.nop(x);
    }

    @Benchmark
    public long getpidViaSyscall() {
        return DirectSyscalls.raw(SyscallTable.GETPID, 0, 0, 0, 0, 0, 0);
    }

    @Benchmark
    public long enosysSyscall() {
        return DirectSyscalls.raw(NR_NONE, 0, 0, 0, 0, 0, 0);
    }

    @Benchmark
    public long write64DevNull() {
        return DirectSyscalls.raw(SyscallTable.WRITE, devNull, buf64.address(), 64, 0, 0, 0);
    }

    @Benchmark
    public long pwritev2NowaitDevNull() {
        return DirectSyscalls.invoker().readWriteNowait(true, devNull, buf64.address(), 64);
    }

    @Benchmark
    public long fstatDevNull() {
        return DirectSyscalls.raw(SyscallTable.FSTAT, devNull, stat.address(), 0, 0, 0, 0);
    }

    @Benchmark
    public long fcntlGetflDevNull() {
        return DirectSyscalls.raw(SyscallTable.FCNTL, devNull, F_GETFL, 0, 0, 0, 0);
    }

    @Benchmark
    public long getpidViaFlexscSyscallThreads() throws IOException {
        return flexsc.invoke(SyscallTable.GETPID, 0, 0, 0, 0, 0, 0);
    }
}
