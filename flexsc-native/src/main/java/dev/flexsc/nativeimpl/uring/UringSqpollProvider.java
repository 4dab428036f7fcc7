package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.spi.EngineProvider;

import java.io.IOException;

/** ServiceLoader provider of {@link UringEngine} as {@link Engine#IO_URING_SQPOLL}. */
public final class UringSqpollProvider implements EngineProvider {
    @Override
    public Engine engine() {
        return Engine.IO_URING_SQPOLL;
    }

    @Override
    public String unavailabilityCause() {
        return UringAvailability.unavailabilityCause(Engine.IO_URING_SQPOLL);
    }

    @Override
    public String routing() {
        return UringAvailability.routing(Engine.IO_URING_SQPOLL);
    }

    @Override
    public FlexscEngine open(FlexscConfig config) throws IOException {
        return UringEngine.open(Engine.IO_URING_SQPOLL, config);
    }
}
