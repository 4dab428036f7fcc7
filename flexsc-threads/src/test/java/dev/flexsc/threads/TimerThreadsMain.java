package dev.flexsc.threads;

import dev.flexsc.FlexscConfig;

/**
 * Child JVM of {@link TimerThreadsTest}: opens a FlexSC scheduler in a JVM where no virtual
 * thread has parked with a timeout yet, and prints how many of the JDK's virtual-thread
 * timer threads ({@code VirtualThread-unparker}) exist then ({@code UNPARKERS n}).
 */
public final class TimerThreadsMain {
    private TimerThreadsMain() {}

    public static void main(String[] args) {
        try (FlexscScheduler s = FlexscScheduler.open(FlexscConfig.defaults())) {
            long n = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("VirtualThread-unparker")).count();
            System.out.println("UNPARKERS " + n);
        }
    }
}
