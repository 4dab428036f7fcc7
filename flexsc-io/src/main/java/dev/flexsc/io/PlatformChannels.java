package dev.flexsc.io;

import java.nio.channels.spi.SelectorProvider;

/**
 * The JDK's own selector provider, for what {@link FlexscSelectorProvider} leaves to it
 * (UNIX-domain sockets, datagram channels, the inherited channel). Once FlexSC's provider is
 * the JVM's, {@link SelectorProvider#provider()} returns it; the JDK's is reachable only
 * through {@code sun.nio.ch.DefaultSelectorProvider.get()}, which the JVM lets this class call
 * when started with {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (part of the flags
 * {@link FlexscProviders#JVM_FLAGS} lists).
 */
final class PlatformChannels {
    private PlatformChannels() {}

    /** The flag that makes the JDK's provider reachable. */
    static final String EXPORTS = "--add-exports java.base/sun.nio.ch=ALL-UNNAMED";

    private static final Object PROVIDER = lookup();

    private static Object lookup() {
        try {
            Object p = Class.forName("sun.nio.ch.DefaultSelectorProvider").getMethod("get").invoke(null);
            return p instanceof SelectorProvider ? p : "sun.nio.ch.DefaultSelectorProvider.get() returned " + p;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return e.toString();
        }
    }

    /** The JDK's provider, or null if this JVM does not let us reach it. */
    static SelectorProvider providerOrNull() {
        return PROVIDER instanceof SelectorProvider p ? p : null;
    }

    /**
     * The JDK's provider for {@code what}.
     *
     * @throws UnsupportedOperationException naming the flag that would allow it
     */
    static SelectorProvider provider(String what) {
        SelectorProvider p = providerOrNull();
        if (p == null) {
            throw new UnsupportedOperationException("FlexSC's selector provider leaves " + what + " to the JDK's provider,"
                    + " which this JVM does not let it reach: start it with " + EXPORTS + " (" + PROVIDER + ")");
        }
        return p;
    }
}
