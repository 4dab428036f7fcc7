package dev.flexsc.nativeimpl;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.spi.EngineProvider;

import java.io.IOException;

/** ServiceLoader provider of {@link SyscallThreadsEngine}. */
public final class SyscallThreadsProvider implements EngineProvider {
    /** System property that disables libflexsc (every native engine), like Netty's no-native switches. */
    public static final String DISABLE_PROPERTY = "flexsc.native.disable";

    @Override
    public Engine engine() {
        return Engine.SYSCALL_THREADS;
    }

    @Override
    public String unavailabilityCause() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return "disabled by -D" + DISABLE_PROPERTY + "=true";
        }
        return LibFlexsc.unavailabilityCause();
    }

    @Override
    public FlexscEngine open(FlexscConfig config) throws IOException {
        return SyscallThreadsEngine.open(config);
    }
}
