package dev.flexsc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Child JVM of {@link FdExhaustedOpenTest}: with no file descriptor left (RLIMIT_NOFILE at the
 * highest open one, the holes below filled), calls {@link Flexsc#open()} and {@link Flexsc#probe()},
 * and prints what each did ({@code OPEN <outcome>}, {@code PROBE <outcome>}).
 */
public final class FdExhaustedOpenMain {
    private FdExhaustedOpenMain() {}

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle prlimit = linker.downcallHandle(linker.defaultLookup().find("prlimit64").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS));
        MethodHandle open = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        int highest;
        try (var s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            highest = s.mapToInt(p -> Integer.parseInt(p.getFileName().toString())).max().orElse(2);
        }
        // Loaded now: under the limit, loading a class from a directory needs a descriptor.
        String open1 = "", probe1 = "";
        for (Class<?> c : new Class<?>[] {Flexsc.class, FlexscConfig.class, FlexscConfig.Builder.class, Engine.class,
                EngineAvailability.class, EngineUnavailableException.class, CallPolicy.class, dev.flexsc.spi.EngineProvider.class}) {
            Class.forName(c.getName(), true, c.getClassLoader());
        }
        FlexscConfig.defaults();
        List<Integer> fillers = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(16, 8), lim = a.allocate(16, 8);
            if ((int) prlimit.invokeExact(0, 7 /* RLIMIT_NOFILE */, MemorySegment.NULL, old) != 0) throw new AssertionError("prlimit get");
            lim.set(ValueLayout.JAVA_LONG, 0, highest + 1L);
            lim.set(ValueLayout.JAVA_LONG, 8, old.get(ValueLayout.JAVA_LONG, 8));
            if ((int) prlimit.invokeExact(0, 7, lim, MemorySegment.NULL) != 0) throw new AssertionError("prlimit set");
            MemorySegment devNull = a.allocateFrom("/dev/null");
            int fd;
            while ((fd = (int) open.invokeExact(devNull, 02000000 /* O_CLOEXEC */)) >= 0) fillers.add(fd);
            try {
                open1 = outcome(() -> Flexsc.open());
                probe1 = outcome(() -> Flexsc.probe().toString());
            } finally {
                for (int f : fillers) {
                    int r = (int) close.invokeExact(f);
                    if (r != 0) throw new AssertionError("close");
                }
                if ((int) prlimit.invokeExact(0, 7, old, MemorySegment.NULL) != 0) throw new AssertionError("prlimit restore");
            }
        }
        System.out.println("FILLED " + fillers.size());
        System.out.println("OPEN " + open1);
        System.out.println("PROBE " + probe1);
    }

    private static String outcome(java.util.concurrent.Callable<?> c) {
        try {
            return "returned " + c.call();
        } catch (Throwable t) {
            StringBuilder b = new StringBuilder("threw ").append(t);
            for (Throwable x = t.getCause(); x != null; x = x.getCause()) b.append(" <- ").append(x);
            return b.toString().replace('\n', ' ');
        }
    }
}
