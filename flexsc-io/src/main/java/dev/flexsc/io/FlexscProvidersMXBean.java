package dev.flexsc.io;

/**
 * Whether FlexSC's providers are the JVM's and what they did, as a platform MXBean named
 * {@code dev.flexsc:type=FlexscProviders} ({@link FlexscProviders#OBJECT_NAME}), registered when
 * a provider is first used. Counters only grow; every read is a racy snapshot. See
 * {@link FlexscProviders} and docs/io.md.
 */
public interface FlexscProvidersMXBean {
    /** FlexSC's selector provider is the JVM's ({@code -Djava.nio.channels.spi.SelectorProvider}). */
    boolean isSelectorProviderActive();

    /** FlexSC's file system provider wraps the default one ({@code -Djava.nio.file.spi.DefaultFileSystemProvider}). */
    boolean isFileSystemProviderActive();

    /** Socket channels, server socket channels and pipe ends the selector provider opened. */
    long getSocketChannels();

    /** Selectors the selector provider opened. */
    long getSelectors();

    /** FlexSC calls the selector provider's channels and selectors made, readiness waits included. */
    long getSocketCalls();

    /** Files the file system provider opened as FlexSC channels or streams. */
    long getFileChannels();

    /** FlexSC calls those file channels made. */
    long getFileCalls();

    /** File system operations the file system provider left to the JDK's provider (everything but opening files). */
    long getFileDelegated();
}
