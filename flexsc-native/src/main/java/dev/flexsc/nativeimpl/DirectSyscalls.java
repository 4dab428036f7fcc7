package dev.flexsc.nativeimpl;

import dev.flexsc.FdKind;
import dev.flexsc.Stat;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.spi.DirectPath;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Direct system calls from the calling thread through an FFM downcall (no syscall
 * page, no other thread): the baseline every FlexSC figure is compared with, and
 * the path of the DIRECT policy. Refuses nothing: the typed {@link Syscalls} layer
 * over it applies the allow-list like every engine.
 */
public final class DirectSyscalls implements DirectPath {
    private static final MethodHandle RAW;
    private static final MethodHandle NOP;
    private static final MethodHandle RW_NOWAIT;

    static {
        LibFlexsc.ensureAvailable();
        RAW = Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(LibFlexsc.symbol("flexsc_raw")),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        NOP = Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(LibFlexsc.symbol("flexsc_nop")),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        RW_NOWAIT = Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(LibFlexsc.symbol("flexsc_rw_nowait")),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    /** An empty native function through the same kind of downcall: the cost of a native call. */
    public static long nop(long x) {
        try {
            return (long) NOP.invokeExact(x);
        } catch (Throwable t) {
            throw new AssertionError("flexsc_nop downcall failed", t);
        }
    }

    private static final DirectSyscalls INSTANCE = new DirectSyscalls();
    private static final Syscalls SYSCALLS = new Syscalls(INSTANCE);

    private DirectSyscalls() {}

    /** The shared instance. */
    public static DirectSyscalls invoker() {
        return INSTANCE;
    }

    /** Typed direct calls. */
    public static Syscalls syscalls() {
        return SYSCALLS;
    }

    /** One direct system call: the raw kernel result. */
    public static long raw(int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        try {
            return (long) RAW.invokeExact((long) nr, a0, a1, a2, a3, a4, a5);
        } catch (Throwable t) {
            throw new AssertionError("flexsc_raw downcall failed", t);
        }
    }

    @Override
    public long readWriteNowait(boolean write, long fd, long buf, long len) {
        try {
            return (long) RW_NOWAIT.invokeExact(write ? 1L : 0L, fd, buf, len);
        } catch (Throwable t) {
            throw new AssertionError("flexsc_rw_nowait downcall failed", t);
        }
    }

    @Override
    public FdKind fdKind(long fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(Stat.SIZE, 8);
            return raw(SyscallTable.FSTAT, fd, st.address(), 0, 0, 0, 0) < 0 ? FdKind.UNKNOWN : Stat.from(st).fdKind();
        }
    }

    @Override
    public long invoke(int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        return raw(nr, a0, a1, a2, a3, a4, a5);
    }
}
