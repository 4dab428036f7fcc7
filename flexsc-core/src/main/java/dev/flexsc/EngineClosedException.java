package dev.flexsc;

import java.io.IOException;

/** A call was made on, or was still queued in, an engine that has been closed. */
public class EngineClosedException extends IOException {
    public EngineClosedException(String message) {
        super(message);
    }
}
