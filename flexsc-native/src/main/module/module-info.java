/**
 * The bundled engines (SYSCALL_THREADS, KERNEL_MODULE, IO_URING, IO_URING_SQPOLL) and the
 * bindings to libflexsc, provided to {@code dev.flexsc} as {@link dev.flexsc.spi.EngineProvider}
 * services. The engines' packages are internals: exported only to the FlexSC modules that
 * reach into them (the scheduler pins carriers through {@code LibFlexsc} and reads the io_uring
 * engine's statistics; the JDK I/O types make direct calls through {@code DirectSyscalls}).
 * JNA is an automatic module, {@code com.sun.jna}.
 */
module dev.flexsc.nativeimpl {
    requires transitive dev.flexsc;
    requires com.sun.jna;

    exports dev.flexsc.nativeimpl to dev.flexsc.threads, dev.flexsc.io;
    exports dev.flexsc.nativeimpl.uring to dev.flexsc.threads;

    provides dev.flexsc.spi.EngineProvider with
            dev.flexsc.nativeimpl.SyscallThreadsProvider,
            dev.flexsc.nativeimpl.KernelModuleProvider,
            dev.flexsc.nativeimpl.uring.UringSqpollProvider,
            dev.flexsc.nativeimpl.uring.UringProvider;
}
