package dev.flexsc.spi;

import dev.flexsc.Engine;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;

import java.io.IOException;

/**
 * Service-provider interface for engines, found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.flexsc.spi.EngineProvider}).
 */
public interface EngineProvider {
    /** The engine this provider opens. */
    Engine engine();

    /**
     * Null if {@link #open} can succeed on this machine, else the reason it cannot, as a
     * sentence a user can act on. Must be cheap and must not throw.
     */
    String unavailabilityCause();

    /**
     * For an engine that runs only some allow-listed calls itself and hands the others to
     * another engine (the io_uring engines): one line saying which go where, shown by
     * {@link dev.flexsc.Flexsc#probe()}. Null (the default) when the engine runs every call.
     * Must be cheap and must not throw.
     */
    default String routing() {
        return null;
    }

    /** Opens the engine. */
    FlexscEngine open(FlexscConfig config) throws IOException;
}
