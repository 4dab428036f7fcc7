package dev.flexsc.nativeimpl;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.spi.EngineProvider;

import java.io.IOException;

/** ServiceLoader provider of {@link KernelModuleEngine}. */
public final class KernelModuleProvider implements EngineProvider {
    @Override
    public Engine engine() {
        return Engine.KERNEL_MODULE;
    }

    @Override
    public String unavailabilityCause() {
        if (Boolean.getBoolean(SyscallThreadsProvider.DISABLE_PROPERTY)) {
            return "disabled by -D" + SyscallThreadsProvider.DISABLE_PROPERTY + "=true";
        }
        try {
            return KernelModuleEngine.unavailabilityCause();
        } catch (Throwable t) { // the contract: never throw
            return "probing " + KernelModuleEngine.DEVICE + " failed: " + t;
        }
    }

    @Override
    public FlexscEngine open(FlexscConfig config) throws IOException {
        return KernelModuleEngine.open(config);
    }
}
