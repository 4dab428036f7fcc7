package dev.flexsc.spi;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZI_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A channel's close cancelling a call whose owner is about to park: the owner, inside a
 * {@link CancelScope}, registers ({@link CancelScope#parking()}) and decides whether to park
 * ({@link PendingCall#mayPark}, what {@link PendingCall#parkUntilFired} does before its
 * park), while another thread cancels the scope ({@link CancelScope#cancel()}: sets the
 * flag, then unparks the registered threads). One must see the other: the owner sees the
 * flag and does not park, or the cancel sees the owner and unparks it. Neither is a lost
 * cancel: the owner parks until its call completes, for a read of a FIFO perhaps never.
 *
 * <p>r1: the owner would park; r2: how many threads the cancel unparked.
 */
@JCStressTest
@Description("CancelScope.cancel against an owner about to park: no lost cancel")
@Outcome(id = "false, 0", expect = ACCEPTABLE, desc = "the owner saw the cancel first and does not park")
@Outcome(id = "false, 1", expect = ACCEPTABLE_INTERESTING, desc = "both saw each other: a spare unpark")
@Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "the owner parks, the cancel unparks it")
@Outcome(id = "true, 0", expect = FORBIDDEN, desc = "lost cancel: the owner parks and nothing unparks it")
@Outcome(expect = FORBIDDEN, desc = "any other state")
@State
public class CancelParkTest {
    private final CancelScope scope = new CancelScope();
    private final PendingCall call = new NeverSettled();

    @Actor
    public void owner(ZI_Result r) {
        r.r1 = scope.run(() -> call.mayPark(CancelScope.parking()));
    }

    @Actor
    public void close(ZI_Result r) {
        r.r2 = scope.cancelAndUnpark();
    }

    /** A call that never completes: only a cancel can end its owner's wait. */
    private static final class NeverSettled extends PendingCall {
        NeverSettled() {
            super(null);
        }

        @Override
        public boolean isSettled() {
            return false;
        }

        @Override
        public Object sleepKey() {
            return this;
        }

        @Override
        public int doneSeq() {
            return 0;
        }

        @Override
        public void sleepUntilCompletion(int seenWord, long timeoutNanos) {
        }

        @Override
        public void wakeSleepers() {
        }
    }
}
