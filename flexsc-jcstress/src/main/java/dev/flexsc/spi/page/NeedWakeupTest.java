package dev.flexsc.spi.page;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The NEED_WAKEUP handshake (a Dekker pair): a caller posts an entry ({@link Submitter#post}:
 * SUBMITTED, the submit bit by a full-fence RMW, then a load of the flags, and the wake-up if
 * it is set) while the group's last executor goes to sleep (NEED_WAKEUP by a full-fence RMW,
 * then a load of the submit bits). One of the two must see the other: either the caller
 * sees NEED_WAKEUP and wakes the executor, or the executor sees the bit and does not sleep.
 * Neither is a lost wake-up: the call waits until some later post wakes the group.
 *
 * <p>r1: the caller woke the executors; r2: the executor saw the submit bit.
 */
@JCStressTest
@Description("NEED_WAKEUP: a post against the last executor going to sleep; no lost wake-up")
@Outcome(id = "true, true", expect = ACCEPTABLE_INTERESTING, desc = "both saw each other: one spare wake-up")
@Outcome(id = "true, false", expect = ACCEPTABLE, desc = "the executor sleeps, the caller wakes it")
@Outcome(id = "false, true", expect = ACCEPTABLE, desc = "the executor saw the call and stays awake")
@Outcome(id = "false, false", expect = FORBIDDEN, desc = "lost wake-up: the executor sleeps on a posted call")
@State
public class NeedWakeupTest {
    private final Page page = new Page();

    @Actor
    public void caller(ZZ_Result r) {
        r.r1 = page.submitter.post(0, Page.INDEX, page.entry, 39, 0, 0, 0, 0, 0, 0);
    }

    @Actor
    public void executor(ZZ_Result r) {
        r.r2 = page.armNeedWakeupThenLook();
    }
}
