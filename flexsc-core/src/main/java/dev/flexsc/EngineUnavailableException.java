package dev.flexsc;

import java.io.IOException;

/** The requested engine (or, for AUTO, every engine) cannot run on this machine; the message says why. */
public class EngineUnavailableException extends IOException {
    private final Engine engine;

    public EngineUnavailableException(Engine engine, String reasons) {
        super("FlexSC engine " + engine + " is unavailable: " + reasons);
        this.engine = engine;
    }

    public Engine engine() {
        return engine;
    }
}
