package dev.flexsc.io;

import java.util.concurrent.atomic.LongAdder;

/** What one provider's channels did, for {@link FlexscProviders}: counters that only grow. */
final class ProviderCounters {
    /** Channels (sockets, pipe ends, files) opened through the provider. */
    final LongAdder channels = new LongAdder();
    /** Selectors opened through the provider. */
    final LongAdder selectors = new LongAdder();
    /** FlexSC system calls its channels and selectors made, readiness waits included (through {@link dev.flexsc.Syscalls#counting}). */
    final LongAdder calls = new LongAdder();
}
