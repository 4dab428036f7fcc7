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

    /** Opens the engine. */
    FlexscEngine open(FlexscConfig config) throws IOException;
}
