package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.Syscalls;
import dev.flexsc.abi.SyscallTable;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import dev.flexsc.threads.FlexscRuntime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link DescriptorsExhaustedTest}, run from the modules' class directories:
 * exhausts its descriptors (RLIMIT_NOFILE at the highest open one, the holes below filled),
 * then makes each call of flexsc-io that needs a new descriptor, each of which must fail with
 * an IOException naming EMFILE. Loading a class from a directory needs a descriptor, so a
 * class first loaded on such an error path fails with NoClassDefFoundError instead (and the
 * call site keeps failing so for good). Prints one line per call; exits 1 on a wrong outcome.
 */
public final class DescriptorsExhaustedMain {
    private static final int PRLIMIT64 = 302, RLIMIT_NOFILE = 7;

    public static void main(String[] args) throws Exception {
        Path file = Files.createTempFile("flexsc-emfile", ".txt");
        int wrong = 0;
        try (FlexscRuntime rt = FlexscRuntime.open(TestSupport.config());
             FlexscServerSocketChannel listener = FlexscServerSocketChannel.open(rt.syscalls())) {
            Syscalls sys = rt.syscalls();
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            // What the calls need when they succeed is loaded now: one of each, with descriptors free.
            try (SocketChannel c = SocketChannel.open(listener.getLocalAddress()); var a = listener.accept();
                 var s = FlexscSocketChannel.open(sys); var f = FlexscFileChannel.open(sys, file, StandardOpenOption.READ)) {
                if (a == null || !c.isConnected() || s == null || f == null) throw new AssertionError("setup");
            }
            SocketChannel waiting = SocketChannel.open(listener.getLocalAddress()); // accept4 will find it
            List<Integer> fillers = new ArrayList<>();
            long[] old = rlimit(-1);
            int highest;
            try (var fds = Files.list(Path.of("/proc/self/fd"))) {
                highest = fds.mapToInt(p -> Integer.parseInt(p.getFileName().toString())).max().orElse(2);
            }
            String[] outcomes = new String[3];
            outcome(() -> { throw new IOException("warm-up"); }); // this harness's own classes, loaded now
            rlimit(highest + 1L);
            try (Arena a = Arena.ofConfined()) {
                long devNull = a.allocateFrom("/dev/null").address();
                long fd;
                while ((fd = DirectSyscalls.raw(SyscallTable.OPENAT, Syscalls.AT_FDCWD, devNull, 02000000, 0, 0, 0)) >= 0) {
                    fillers.add((int) fd);
                }
                if (fd != -Errno.EMFILE) throw new IllegalStateException("filling descriptors: " + fd);
                // Nothing below may load a class of a directory but the code under test.
                outcomes[0] = outcome(() -> FlexscSocketChannel.open(sys));
                outcomes[1] = outcome(listener::accept);
                outcomes[2] = outcome(() -> FlexscFileChannel.open(sys, file, StandardOpenOption.READ));
            } finally {
                rlimit(old[0]);
                for (int fd : fillers) DirectSyscalls.raw(SyscallTable.CLOSE, fd, 0, 0, 0, 0, 0);
            }
            String[] what = {"FlexscSocketChannel.open (socket)", "FlexscServerSocketChannel.accept (accept4)",
                    "FlexscFileChannel.open (openat)"};
            for (int i = 0; i < 3; i++) {
                boolean ok = outcomes[i].startsWith("IOException") && outcomes[i].contains("EMFILE");
                if (!ok) wrong++;
                System.out.println((ok ? "ok    " : "WRONG ") + what[i] + ": " + outcomes[i]);
            }
            waiting.close();
        } finally {
            Files.deleteIfExists(file);
        }
        System.exit(wrong == 0 ? 0 : 1);
    }

    /** A call that needs a new descriptor. */
    @FunctionalInterface
    interface Call {
        Object run() throws Exception;
    }

    /**
     * "IOException: message of the exception and its causes" for an IOException, the
     * throwable's own string with its first frames otherwise, "succeeded" if it did.
     */
    private static String outcome(Call call) {
        try {
            Object r = call.run();
            if (r instanceof AutoCloseable c) c.close();
            return "succeeded: " + r;
        } catch (IOException e) {
            StringBuilder sb = new StringBuilder("IOException:");
            for (Throwable t = e; t != null; t = t.getCause()) sb.append(' ').append(t);
            return sb.toString();
        } catch (Throwable t) {
            StringBuilder sb = new StringBuilder(t.toString());
            StackTraceElement[] st = t.getStackTrace();
            for (int i = 0; i < Math.min(6, st.length); i++) sb.append("\n        at ").append(st[i]);
            return sb.toString();
        }
    }

    /** Sets the soft RLIMIT_NOFILE to {@code soft} (negative: leaves it); returns the old {soft, hard}. */
    private static long[] rlimit(long soft) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(16, 8), lim = a.allocate(16, 8);
            long r = DirectSyscalls.raw(PRLIMIT64, 0, RLIMIT_NOFILE, 0, old.address(), 0, 0);
            if (r < 0) throw new IllegalStateException("prlimit64: " + r);
            if (soft >= 0) {
                lim.set(ValueLayout.JAVA_LONG, 0, soft);
                lim.set(ValueLayout.JAVA_LONG, 8, old.get(ValueLayout.JAVA_LONG, 8));
                r = DirectSyscalls.raw(PRLIMIT64, 0, RLIMIT_NOFILE, lim.address(), 0, 0, 0);
                if (r < 0) throw new IllegalStateException("prlimit64: " + r);
            }
            return new long[] {old.get(ValueLayout.JAVA_LONG, 0), old.get(ValueLayout.JAVA_LONG, 8)};
        }
    }
}
