package dev.flexsc.spi.page;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJI_Result;

import static dev.flexsc.abi.SyscallPageDescriptor.STATUS_DONE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * An entry's status cycle, FREE -> SUBMITTED -> BUSY -> DONE -> FREE: the caller posts a
 * call ({@link Submitter#post}: write, release SUBMITTED, expose the bit), an executor takes
 * the submit bit, claims the entry, reads the argument and completes it with
 * {@code ret = arg + 1}, and the caller, right after posting, reaps it as {@code
 * EntryCall.finish} does ({@link SyscallPage#status} acquire, {@link SyscallPage#ret},
 * {@link SyscallPage#free}) if it sees DONE already (two actors: the build machines have two
 * CPUs, and jcstress runs no more actors than CPUs).
 *
 * <p>r1: what the executor read as the argument (-1: it saw no bit; -2: a bit whose entry
 * was not SUBMITTED). r2: the result the caller reaped (-1: not DONE yet). r3: the entry's
 * status at the end. An executor that reads a stale argument (0), a bit before its
 * SUBMITTED, or a caller that reaps a stale result is a broken publication.
 */
@JCStressTest
@Description("Entry status cycle: post (release SUBMITTED, bit), claim (acquire CAS), complete (release DONE), reap")
@Outcome(id = "-1, -1, 1", expect = ACCEPTABLE, desc = "the executor looked before the post")
@Outcome(id = "42, -1, 3", expect = ACCEPTABLE, desc = "completed after the caller looked")
@Outcome(id = "42, 43, 0", expect = ACCEPTABLE_INTERESTING, desc = "the whole cycle, back to FREE")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "the executor claimed the entry but read a stale argument")
@Outcome(id = "-2, .*", expect = FORBIDDEN, desc = "a submit bit visible before its entry's SUBMITTED")
@Outcome(id = "42, 1, .*", expect = FORBIDDEN, desc = "the caller saw DONE but a stale result")
@Outcome(expect = FORBIDDEN, desc = "any other state")
@State
public class EntryCycleTest {
    private final Page page = new Page();

    @Actor
    public void caller(JJI_Result r) {
        page.submitter.post(0, Page.INDEX, page.entry, 39, 42, 0, 0, 0, 0, 0);
        if (page.pages.status(page.entry) == STATUS_DONE) {
            r.r2 = page.pages.ret(page.entry);
            page.pages.free(page.entry);
        } else {
            r.r2 = -1;
        }
    }

    @Actor
    public void executor(JJI_Result r) {
        long bits = page.takeBits();
        if ((bits & (1L << Page.INDEX)) == 0) {
            r.r1 = -1;
        } else if (!page.claim()) {
            r.r1 = -2;
        } else {
            long arg = page.arg0();
            r.r1 = arg;
            page.complete(arg + 1);
        }
    }

    @Arbiter
    public void end(JJI_Result r) {
        r.r3 = page.status();
    }
}
