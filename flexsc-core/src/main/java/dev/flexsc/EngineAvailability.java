package dev.flexsc;

/**
 * Whether an engine can run on this machine and, if not, why.
 *
 * @param engine the engine
 * @param available true if {@link Flexsc#open(FlexscConfig)} can open it
 * @param reason null when available, else a sentence a user can act on
 * @param routing for an available engine that hands some calls to another engine, which
 *        calls go where (see {@link dev.flexsc.spi.EngineProvider#routing()}); else null
 */
public record EngineAvailability(Engine engine, boolean available, String reason, String routing) {
    /** Without routing information. */
    public EngineAvailability(Engine engine, boolean available, String reason) {
        this(engine, available, reason, null);
    }

    public static EngineAvailability available(Engine engine) {
        return new EngineAvailability(engine, true, null, null);
    }

    /** Available, running the calls as {@code routing} says. */
    public static EngineAvailability available(Engine engine, String routing) {
        return new EngineAvailability(engine, true, null, routing);
    }

    public static EngineAvailability unavailable(Engine engine, String reason) {
        return new EngineAvailability(engine, false, reason);
    }

    @Override
    public String toString() {
        return engine + ": " + (available ? "available" + (routing != null ? " (" + routing + ")" : "")
                : "unavailable (" + reason + ")");
    }
}
