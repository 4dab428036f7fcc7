package dev.flexsc.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event {@code dev.flexsc.BatchReaped}: a waiter (a carrier of the FlexSC M:N
 * scheduler) reaped a batch of completed FlexSC calls and unparked their owners. One event
 * per batch, committed on the reaping thread. Disabled unless a recording enables it (the
 * default and profile settings of the JDK do not name it); when disabled the cost is one
 * {@link #enabled()} check per batch and per call handed to the waiter.
 *
 * <pre>
 * java -XX:StartFlightRecording=filename=rec.jfr,settings=profile ... (then enable it, see docs/observability.md)
 * jfr print --events dev.flexsc.BatchReaped rec.jfr
 * </pre>
 */
@Name("dev.flexsc.BatchReaped")
@Label("FlexSC Batch Reaped")
@Description("A waiter reaped a batch of completed FlexSC calls and unparked their owners")
@Category({"FlexSC"})
@StackTrace(false)
public final class BatchReaped extends Event {
    private static final EventType TYPE = EventType.getEventType(BatchReaped.class);

    /** The engine that executed the calls (its {@code Engine} name). */
    @Label("Engine")
    public String engine;

    /** The engine's group (syscall CPU) of the first call of the batch; -1 if the calls came from several. */
    @Label("Group")
    @Description("Syscall CPU group of the calls; -1 when the batch mixed groups")
    public int group;

    /** Calls completed in this batch. */
    @Label("Size")
    @Description("Calls reaped in this batch")
    public int size;

    /** Calls the waiter still waits for after this batch. */
    @Label("Still Pending")
    @Description("Calls the waiter still waited for after this batch")
    public int stillPending;

    /** From when the oldest call of the batch was handed to the waiter (just after its submission) to the reap. */
    @Label("Latency")
    @Description("From the oldest reaped call's hand-off to the waiter (right after submission) to the reap")
    @Timespan(Timespan.NANOSECONDS)
    public long latency;

    /**
     * True while a recording enables this event. Initializes this class, and so JFR, on
     * first use: on a hot path ask {@link EventSwitches#batchReaped()}, which does not.
     */
    public static boolean enabled() {
        return TYPE.isEnabled();
    }
}
