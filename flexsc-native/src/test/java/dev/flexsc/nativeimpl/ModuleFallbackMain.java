package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;

/**
 * Opens KERNEL_MODULE in the carrier-local mode with the smallest registration that has a
 * carrier group (one syscall CPU and one user CPU, both CPU 0, one page per group), makes a
 * posted getpid and prints {@code carrierGroups=N groups=M getpid=P}. Run in a child JVM by
 * {@link KernelModuleEngineTest}, under a low RLIMIT_MEMLOCK.
 */
final class ModuleFallbackMain {
    private ModuleFallbackMain() {}

    public static void main(String[] args) throws Exception {
        FlexscConfig c = FlexscConfig.builder().engine(Engine.KERNEL_MODULE).userCpus(0).syscallCpus(0).pages(1)
                .poolThreads(2).policy(CallPolicy.EXCEPTIONLESS).build();
        try (KernelModuleEngine e = KernelModuleEngine.open(c)) {
            System.out.println("carrierGroups=" + e.carrierGroups() + " groups=" + e.groups() + " getpid="
                    + e.syscalls().getpid());
        }
    }
}
