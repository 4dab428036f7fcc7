package dev.flexsc.bench.soak;

import dev.flexsc.AtFlags;
import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.OpenFlags;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.io.FlexscFileChannel;
import dev.flexsc.io.FlexscServerSocketChannel;
import dev.flexsc.io.FlexscSocketChannel;
import dev.flexsc.threads.FlexscExecutors;
import dev.flexsc.threads.FlexscRuntime;
import dev.flexsc.threads.FlexscScheduler;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The soak's resource limits, each in a child JVM of its own (they change the whole
 * process):
 * <ul>
 * <li>{@link #fds}: {@code RLIMIT_NOFILE} at the descriptors already open, and the holes
 *     below filled, so that no new descriptor can be made. Calls that make one (openat,
 *     socket, accept4, FlexscFileChannel.open, opening an engine that needs one) must fail
 *     with EMFILE, promptly and cleanly; the engine must keep running every call that makes
 *     none, from platform and green threads. Then the limit goes back and everything works.
 * <li>{@link #threads}: no new thread (see {@link ThreadLimit}). Opening an engine or a
 *     scheduler (whose carriers cannot start), or a FlexscExecutors pool on the default
 *     scheduler, must fail with a clear exception, never hang; the engine opened before keeps
 *     running calls for the workers it has. Then the limit goes and everything works again.
 * </ul>
 */
final class LimitPhases {
    private LimitPhases() {}

    /** Runs {@code c} as an operation that must not hang: its outcome, or the exception it threw. */
    private static Object attempt(Run run, String what, Callable<?> c) {
        Op op = run.ledger.begin(what, Run.CALL_BOUND_NANOS);
        try {
            Object r = c.call();
            op.ok();
            return r;
        } catch (Throwable t) {
            op.failedAsExpected(); // judged by the caller, which knows what this one must do
            return t;
        }
    }

    /** Books a violation if {@code outcome} is not an EMFILE failure. */
    private static void expectEmfile(Run run, String what, Object outcome) {
        if (outcome instanceof Throwable t && Worker.isEmfile(t)) {
            run.ledger.fault(Ledger.Fault.EMFILE);
        } else if (outcome instanceof Throwable t) {
            run.ledger.violation(Ledger.Count.ERRORS, what + " with no descriptor left failed with " + t
                    + ", not EMFILE");
        } else {
            run.ledger.violation(Ledger.Count.WRONG, what + " with no descriptor left succeeded: " + outcome);
        }
    }

    /**
     * Every kind of call a few hundred times, on a platform and a green thread, before a limit
     * goes on: the classes they need are loaded now (loading one later may need a descriptor
     * or a thread the limit refuses: a classes directory is read file by file).
     */
    private static void warmUp(Run run, FlexscRuntime rt, Target t) throws InterruptedException {
        Crew warm = new Crew(rt, "warm-up");
        warm.platform(new Worker(run, t, "p").without(Worker.Kind.BLOCKED).without(Worker.Kind.STUCK_READ)
                .without(Worker.Kind.STUCK_POPULATE), 300);
        warm.green(new Worker(run, t, "g").without(Worker.Kind.BLOCKED).without(Worker.Kind.STUCK_READ)
                .without(Worker.Kind.STUCK_POPULATE), 300);
        warm.join(Run.CALL_BOUND_NANOS * 3);
        new ErrnoException("warm-up", Errno.EMFILE).getMessage();
        Worker.isEmfile(new java.nio.file.FileSystemException("warm-up"));
    }

    static void fds(Run run, Engine kind, FlexscConfig base, PrintStream log) throws Exception {
        FlexscRuntime rt = FlexscRuntime.open(base.toBuilder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build());
        Target t = new Target(rt.engine(), kind + "/main");
        Crew steady = new Crew(rt, "steady");
        Worker.Kind[] noFd = {Worker.Kind.PREAD, Worker.Kind.PREAD_ARRAY, Worker.Kind.LSEEK, Worker.Kind.GETPID,
                Worker.Kind.PWRITE, Worker.Kind.PIPE, Worker.Kind.BATCH, Worker.Kind.CHANNEL};
        for (int i = 0; i < 2; i++) steady.platform(new Worker(run, t, "p" + i).only(noFd).prepared(), 0);
        for (int i = 0; i < 6; i++) steady.green(new Worker(run, t, "g" + i).only(noFd).prepared(), 0);
        // A listener with a connection waiting to be accepted, made while descriptors are free.
        FlexscServerSocketChannel listener = FlexscServerSocketChannel.open(t.sys);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        SocketChannel waiting = SocketChannel.open(listener.getLocalAddress());
        steady.awaitReady(Run.CALL_BOUND_NANOS);
        warmUp(run, rt, t);

        List<Integer> fillers = new ArrayList<>();
        long[] old = Sys.getrlimit(Sys.RLIMIT_NOFILE);
        int highest;
        try (var fdDir = Files.list(Path.of("/proc/self/fd"))) {
            highest = fdDir.mapToInt(p -> Integer.parseInt(p.getFileName().toString())).max().orElse(2);
        }
        run.fdLimited = true;
        Sys.check(Sys.setSoftLimit(Sys.RLIMIT_NOFILE, highest + 1L), "prlimit64(RLIMIT_NOFILE)");
        try (Arena a = Arena.ofConfined()) {
            long devNull = a.allocateFrom("/dev/null").address();
            long fd;
            while ((fd = Sys.raw(SyscallTable.OPENAT, AtFlags.AT_FDCWD, devNull, OpenFlags.O_CLOEXEC, 0, 0, 0)) >= 0) fillers.add((int) fd);
            if (fd != -Errno.EMFILE) throw new IllegalStateException("filling descriptors: " + Errno.symbol((int) -fd));
        }
        log.printf("soak: %s: RLIMIT_NOFILE %d (was %d), %d holes filled: no descriptor left%n", kind, highest + 1, old[0],
                fillers.size());
        Crew starved = new Crew(rt, "starved");
        for (int i = 0; i < 2; i++) starved.platform(new Worker(run, t, "open-p" + i).only(Worker.Kind.OPEN_CLOSE), 0);
        for (int i = 0; i < 4; i++) starved.green(new Worker(run, t, "open-g" + i).only(Worker.Kind.OPEN_CLOSE), 0);
        expectEmfile(run, "socket() through FlexscSocketChannel.open", attempt(run, "FlexscSocketChannel.open",
                () -> FlexscSocketChannel.open(t.sys)));
        expectEmfile(run, "accept4 of a waiting connection", attempt(run, "FlexscServerSocketChannel.accept",
                listener::accept));
        expectEmfile(run, "FlexscFileChannel.open", attempt(run, "FlexscFileChannel.open",
                () -> FlexscFileChannel.open(t.engine, run.data.path, StandardOpenOption.READ)));
        Object another = attempt(run, "Flexsc.open(" + kind + ") with no descriptor left",
                () -> Flexsc.open(base.toBuilder().engine(kind).build()));
        if (another instanceof FlexscEngine e) {
            log.printf("soak: %s: a new engine opened with no descriptor left (it needs none)%n", kind);
            e.close();
        } else {
            expectEmfile(run, "Flexsc.open(" + kind + ")", another);
            log.printf("soak: %s: a new engine with no descriptor left: %s%n", kind, another);
        }
        Thread.sleep(500);
        starved.stopAndJoin(Run.CALL_BOUND_NANOS);

        Sys.check(Sys.setSoftLimit(Sys.RLIMIT_NOFILE, old[0]), "prlimit64(RLIMIT_NOFILE)");
        for (int fd : fillers) Sys.close(fd);
        run.fdLimited = false;
        // Everything works again: the waiting connection is accepted, a file opens.
        Object accepted = attempt(run, "accept4 after the limit", listener::accept);
        if (accepted instanceof FlexscSocketChannel c) c.close();
        else run.ledger.violation(Ledger.Count.ERRORS, "accept4 after the limit went back: " + accepted);
        Crew again = new Crew(rt, "again");
        again.platform(new Worker(run, t, "open-again").only(Worker.Kind.OPEN_CLOSE), 20);
        again.join(Run.CALL_BOUND_NANOS);
        steady.stopAndJoin(Run.CALL_BOUND_NANOS);
        waiting.close();
        listener.close();
        rt.close();
    }

    static void threads(Run run, Engine kind, FlexscConfig base, PrintStream log) throws Exception {
        FlexscConfig config = base.toBuilder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build();
        FlexscRuntime rt = FlexscRuntime.open(config);
        Target t = new Target(rt.engine(), kind + "/main");
        Crew steady = new Crew(rt, "steady");
        Worker.Kind[] mix = {Worker.Kind.PREAD, Worker.Kind.LSEEK, Worker.Kind.GETPID, Worker.Kind.BATCH, Worker.Kind.PIPE};
        for (int i = 0; i < 2; i++) steady.platform(new Worker(run, t, "p" + i).only(mix).prepared(), 0);
        for (int i = 0; i < 4; i++) steady.green(new Worker(run, t, "g" + i).only(mix).prepared(), 0);
        steady.awaitReady(Run.CALL_BOUND_NANOS);
        warmUp(run, rt, t);

        String[] why = new String[1];
        ThreadLimit limit = ThreadLimit.apply(why);
        if (limit == null) {
            log.printf("SOAK-INFO SKIP thread-creation failure: no way to limit threads here: %s%n", why[0]);
        } else {
            try {
                underLimit(run, rt, t, config, kind, limit, log);
            } finally {
                limit.close();
            }
        }
        Object after = attempt(run, "Flexsc.open after the limit", () -> {
            try (FlexscEngine e = Flexsc.open(config)) {
                return e.syscalls().getpid();
            }
        });
        if (!(after instanceof Long pid) || pid != run.pid) {
            run.ledger.violation(Ledger.Count.ERRORS, "after the thread limit went, Flexsc.open + getpid gave " + after);
        }
        steady.stopAndJoin(Run.CALL_BOUND_NANOS);
        rt.close();
    }

    /** The thread-limit checks, with the limit on. */
    private static void underLimit(Run run, FlexscRuntime rt, Target t, FlexscConfig config, Engine kind, ThreadLimit limit,
                                   PrintStream log) throws Exception {
        Object probe = attempt(run, "Thread.start under the limit", () -> {
            Thread x = Thread.ofPlatform().start(() -> { });
            x.join();
            return x;
        });
        if (!(probe instanceof OutOfMemoryError)) {
            log.printf("SOAK-INFO SKIP thread-creation failure: %s did not stop Thread.start (%s)%n", limit.how(), probe);
            return;
        }
        log.printf("SOAK-INFO threads limited by %s%n", limit.how());
        int fds = openFds(), rings = engineRings(rt);
        refused(run, log, kind, "Flexsc.open(" + kind + ")", () -> {
            FlexscEngine e = Flexsc.open(config);
            try {
                return "opened, and getpid through it returned " + e.syscalls().getpid();
            } finally {
                e.close();
            }
        });
        // The steady crew keeps calling through rt meanwhile: a ring its engine lent to a
        // platform worker (or keeps idle in its pool) since the first count is rt's, not a leak.
        int leaked = openFds() - fds - Math.max(0, engineRings(rt) - rings);
        if (leaked > 0) {
            run.ledger.violation(Ledger.Count.ERRORS, "Flexsc.open(" + kind + ") under the thread limit left " + leaked
                    + " more descriptor(s) open than before it");
        }
        refused(run, log, kind, "FlexscScheduler.open", () -> {
            FlexscScheduler s = FlexscScheduler.open(config);
            s.close();
            return s;
        });
        refused(run, log, kind, "FlexscExecutors.newFixedThreadPool(1).submit(getpid)", () -> {
            ExecutorService p = FlexscExecutors.newFixedThreadPool(1);
            try {
                Future<Long> f = p.submit(() -> t.sys.getpid());
                return f.get(Run.CALL_BOUND_NANOS, TimeUnit.NANOSECONDS);
            } finally {
                p.shutdownNow();
            }
        });
        // A green thread of the running scheduler needs no new OS thread: it runs, and one
        // that sleeps (a timed park: the JDK's timer thread wakes it) wakes up.
        Crew green = new Crew(rt, "under-limit");
        green.green(new Worker(run, t, "late-green").only(Worker.Kind.GETPID, Worker.Kind.PREAD), 20);
        green.join(Run.CALL_BOUND_NANOS);
        Thread sleeper = rt.scheduler().threadFactory("sleeper-").newThread(() -> {
            Op op = run.ledger.begin("Thread.sleep(20) on a green thread under the thread limit", Run.CALL_BOUND_NANOS);
            try {
                Thread.sleep(20);
                op.ok();
            } catch (InterruptedException e) {
                op.error(e);
            }
        });
        sleeper.start();
        sleeper.join(java.time.Duration.ofNanos(Run.CALL_BOUND_NANOS));
        Thread.sleep(500); // the steady workers go on meanwhile: their engine needs no new thread
    }

    /** Descriptors open in this process now. */
    /** The io_uring rings {@code rt}'s engine accounts for (its carriers' and its pool's, lent or idle); 0 for other engines. */
    private static int engineRings(FlexscRuntime rt) {
        if (rt.engine().unwrap(dev.flexsc.nativeimpl.uring.UringEngine.class) instanceof dev.flexsc.nativeimpl.uring.UringEngine u) {
            dev.flexsc.nativeimpl.uring.UringStats s = u.uringStats();
            return s.carrierRings() + s.platformRings();
        }
        return 0;
    }

    private static int openFds() throws java.io.IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count() - 1; // less the one the listing itself holds
        }
    }

    /**
     * Something that needs a new thread under the limit: a clear exception is the expected
     * outcome (counted as a refusal); success is reported (it needed no thread); a hang is
     * caught by the watchdog.
     */
    private static void refused(Run run, PrintStream log, Engine kind, String what, Callable<?> c) {
        long t0 = System.nanoTime();
        Object outcome = attempt(run, what + " under the thread limit", c);
        double ms = (System.nanoTime() - t0) / 1e6;
        if (outcome instanceof Throwable t) {
            run.ledger.fault(Ledger.Fault.THREAD_LIMIT_REFUSALS);
            log.printf("soak: %s: %s under the thread limit: refused in %.0f ms: %s%n", kind, what, ms, chain(t));
            if (t.getMessage() == null || t.getMessage().isBlank()) {
                run.ledger.violation(Ledger.Count.ERRORS, what + " under the thread limit failed with " + t
                        + ", which does not say why");
            }
        } else {
            log.printf("soak: %s: %s under the thread limit: %s in %.0f ms%n", kind, what, outcome, ms);
        }
    }

    private static String chain(Throwable t) {
        StringBuilder b = new StringBuilder(t.toString());
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) b.append(" <- ").append(c);
        return b.toString();
    }
}
