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
import java.util.concurrent.TimeUnit;

/**
 * The seeds' cost study, one call in flight: a Java method call, a native function call,
 * getpid through syscall() (no vDSO), a system call that returns ENOSYS at once, and
 * getpid through each FlexSC engine. Average nanoseconds per call.
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

    private FlexscEngine engine;
    private SyscallInvoker flexsc;
    private long x;

    @Setup
    public void setup() throws IOException {
        engine = SyscallThreadsEngine.open(FlexscConfig.builder().engine(Engine.SYSCALL_THREADS)
                .policy(dev.flexsc.CallPolicy.EXCEPTIONLESS).build());
        flexsc = (SyscallInvoker) engine;
    }

    @TearDown
    public void tearDown() {
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
    public long getpidViaFlexscSyscallThreads() throws IOException {
        return flexsc.invoke(SyscallTable.GETPID, 0, 0, 0, 0, 0, 0);
    }
}
