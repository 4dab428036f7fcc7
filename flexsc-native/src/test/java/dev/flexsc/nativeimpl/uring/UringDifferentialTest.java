package dev.flexsc.nativeimpl.uring;

import dev.flexsc.Engine;
import dev.flexsc.FlexscEngine;
import dev.flexsc.nativeimpl.DifferentialTest;
import dev.flexsc.nativeimpl.TestSupport;

import java.io.IOException;

/** The differential suite against {@link Engine#IO_URING}; skipped (with the reason) where io_uring is unavailable. */
class UringDifferentialTest extends DifferentialTest {
    @Override
    protected FlexscEngine openEngine() throws IOException {
        UringTestSupport.assumeAvailable(Engine.IO_URING);
        return UringEngine.open(Engine.IO_URING, TestSupport.config());
    }
}
