package dev.flexsc.threads;

import org.jctools.queues.varhandle.MpscUnboundedVarHandleArrayQueue;
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
 * A carrier going to sleep against a thread that gives it work: the carrier announces
 * SLEEPING ({@link SleepState#announce()}) then rechecks its inbox, as {@code CarrierIdle}
 * does; the other thread offers a task to the inbox then claims the wake-up ({@link
 * SleepState#claimWake()}), as {@code CarrierThread.pushExternal} does. The inbox is the
 * carrier's own queue type. One must see the other: the carrier sees the task and stays
 * awake, or the waker sees SLEEPING and unparks it. Neither is a lost wake-up: the task waits
 * until some later wake-up or the carrier's timeout.
 *
 * <p>r1: the carrier would sleep (inbox empty); r2: the waker claimed the wake-up.
 */
@JCStressTest
@Description("Carrier sleep (SLEEPING, recheck) against offer then wake: no lost wake-up")
@Outcome(id = "true, true", expect = ACCEPTABLE, desc = "the carrier sleeps, the waker wakes it")
@Outcome(id = "false, false", expect = ACCEPTABLE, desc = "the carrier saw the task before the waker looked")
@Outcome(id = "false, true", expect = ACCEPTABLE_INTERESTING, desc = "both saw each other: a spare unpark")
@Outcome(id = "true, false", expect = FORBIDDEN, desc = "lost wake-up: the carrier sleeps with a task queued")
@State
public class CarrierSleepTest {
    private final SleepState state = new SleepState();
    private final MpscUnboundedVarHandleArrayQueue<Runnable> inbox = new MpscUnboundedVarHandleArrayQueue<>(16);

    @Actor
    public void carrier(ZZ_Result r) {
        state.announce();
        r.r1 = inbox.isEmpty();
    }

    @Actor
    public void waker(ZZ_Result r) {
        inbox.offer(CarrierSleepTest::task);
        r.r2 = state.claimWake();
    }

    private static void task() {
    }
}
