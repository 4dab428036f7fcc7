/**
 * FlexSC for Java: the API ({@code dev.flexsc}: {@code Flexsc}, {@code Syscalls},
 * {@code SyscallBatch}, the flag and errno constants), the system-call ABI tables
 * ({@code dev.flexsc.abi}), the JFR events ({@code dev.flexsc.jfr}) and the engine SPI
 * ({@code dev.flexsc.spi}, and {@code dev.flexsc.spi.page}, the shared-page data plane that the
 * page engines build on). Engines are found with {@link java.util.ServiceLoader}: a module
 * provides {@link dev.flexsc.spi.EngineProvider} (flexsc-native provides the four bundled ones).
 */
module dev.flexsc {
    requires jdk.jfr;

    exports dev.flexsc;
    exports dev.flexsc.abi;
    exports dev.flexsc.jfr;
    exports dev.flexsc.spi;
    exports dev.flexsc.spi.page;

    uses dev.flexsc.spi.EngineProvider;
}
