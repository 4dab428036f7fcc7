package dev.flexsc.spi.page;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZI_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Close against a posted call: once the executors are told to stop, the caller takes its
 * SUBMITTED entry back ({@link SyscallPage#takeBack}, and fails the call with
 * EngineClosedException) while an executor that had not stopped yet claims it (and runs it).
 * Exactly one outcome: the call runs and its result is delivered, or it never runs; never
 * both (the caller's memory handed back while the call runs) nor neither.
 *
 * <p>r1: the executor claimed the entry; r2: the caller took it back; r3: the final status.
 */
@JCStressTest
@Description("Take-back against claim of a SUBMITTED entry: exactly one wins")
@Outcome(id = "true, false, 2", expect = ACCEPTABLE, desc = "the executor runs the call; the caller waits for DONE")
@Outcome(id = "false, true, 0", expect = ACCEPTABLE, desc = "the caller took the call back; it never runs")
@Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "both: the call runs on memory its caller got back")
@Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "neither: the call is lost")
@Outcome(expect = FORBIDDEN, desc = "any other state")
@State
public class TakeBackTest {
    private final Page page = new Page();

    public TakeBackTest() {
        page.submitter.post(0, Page.INDEX, page.entry, 39, 0, 0, 0, 0, 0, 0);
    }

    @Actor
    public void executor(ZZI_Result r) {
        r.r1 = page.claim();
    }

    @Actor
    public void closingCaller(ZZI_Result r) {
        r.r2 = page.pages.takeBack(page.entry); // as EntryCall.afterStop does, on the view close keeps
    }

    @Arbiter
    public void end(ZZI_Result r) {
        r.r3 = page.status();
    }
}
