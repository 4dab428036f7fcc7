package dev.flexsc.spi.page;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * One wake-up per sleep: two callers that both saw NEED_WAKEUP race to wake the executors
 * ({@link Submitter#wake}, which clears the flag with {@link SyscallPage#clearNeedWakeup});
 * exactly one clears it and wakes them (libflexsc's protocol: a second WAKE would be a wasted
 * system call, none would leave them asleep).
 *
 * <p>r1, r2: whether each caller woke the executors.
 */
@JCStressTest
@Description("NEED_WAKEUP cleared by exactly one of two racing callers")
@Outcome(id = {"true, false", "false, true"}, expect = ACCEPTABLE, desc = "one caller wakes")
@Outcome(id = "true, true", expect = FORBIDDEN, desc = "both wake: two wake-ups for one sleep")
@Outcome(id = "false, false", expect = FORBIDDEN, desc = "nobody wakes the sleeping executors")
@State
public class WakeOnceTest {
    private final Page page = new Page();

    public WakeOnceTest() {
        page.sleeping();
    }

    @Actor
    public void caller1(ZZ_Result r) {
        r.r1 = wake();
    }

    @Actor
    public void caller2(ZZ_Result r) {
        r.r2 = wake();
    }

    private boolean wake() {
        try {
            return page.submitter.wake(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the test's control plane never fails
        }
    }
}
