package dev.flexsc.jfr;

import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;

/**
 * Whether a recording wants FlexSC's JFR events, asked on the call path without
 * initializing JFR. Initializing an event class (any of its static methods, such as
 * {@link BatchReaped#enabled()}) makes the JVM initialize JFR: hundreds of milliseconds, and
 * seconds on a loaded machine, inside a class initializer that every other thread reaching
 * the class waits for (green threads on their carriers). While no recording was ever started
 * in this JVM the answer is false without touching the event class; once one was, JFR is
 * initialized and the event type's own switch is asked.
 */
public final class EventSwitches {
    private EventSwitches() {}

    /**
     * True while a recording enables {@link BatchReaped}: callers take timestamps only then.
     * One volatile read while no recording was ever started; then the event type's settings
     * (no allocation).
     */
    public static boolean batchReaped() {
        return FlightRecorder.isInitialized() && BatchReapedType.TYPE.isEnabled();
    }

    /** Looked up on first use once JFR is initialized. */
    private static final class BatchReapedType {
        static final EventType TYPE = EventType.getEventType(BatchReaped.class);
    }
}
