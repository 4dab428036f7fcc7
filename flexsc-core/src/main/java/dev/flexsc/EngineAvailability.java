package dev.flexsc;

/**
 * Whether an engine can run on this machine and, if not, why.
 *
 * @param engine the engine
 * @param available true if {@link Flexsc#open(FlexscConfig)} can open it
 * @param reason null when available, else a sentence a user can act on
 */
public record EngineAvailability(Engine engine, boolean available, String reason) {
    public static EngineAvailability available(Engine engine) {
        return new EngineAvailability(engine, true, null);
    }

    public static EngineAvailability unavailable(Engine engine, String reason) {
        return new EngineAvailability(engine, false, reason);
    }

    @Override
    public String toString() {
        return engine + ": " + (available ? "available" : "unavailable (" + reason + ")");
    }
}
