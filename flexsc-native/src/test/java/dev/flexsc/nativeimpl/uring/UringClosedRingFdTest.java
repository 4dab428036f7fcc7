package dev.flexsc.nativeimpl.uring;

import dev.flexsc.CallPolicy;
import dev.flexsc.Engine;
import dev.flexsc.EngineClosedException;
import dev.flexsc.FlexscConfig;
import dev.flexsc.nativeimpl.DirectSyscalls;
import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Once an io_uring engine is closed its ring descriptor is closed too, and the next file the
 * process opens may get the same number. A call through the closed engine on that file must
 * fail with {@link EngineClosedException}, as every call on a closed engine does, not with
 * {@link dev.flexsc.RefusedCallException} "descriptor N is the io_uring ring of this engine",
 * which would name another file. Found by the fault-injection soak (a blocked read of a fresh
 * pipe on an engine being closed).
 */
class UringClosedRingFdTest {
    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"IO_URING", "IO_URING_SQPOLL"})
    void aCallOnAClosedEngineFailsAsClosedEvenOnTheRingsOldNumber(Engine kind) throws Exception {
        TestSupport.assumeAvailable(kind);
        UringEngine e = UringEngine.open(kind, FlexscConfig.builder().engine(kind).policy(CallPolicy.EXCEPTIONLESS).build());
        try (Arena a = Arena.ofConfined()) { // rings are set up on demand: one call sets up this thread's
            int devNull = (int) DirectSyscalls.raw(257 /* openat */, -100, a.allocateFrom("/dev/null").address(), 02000001, 0, 0, 0);
            e.syscalls().write(devNull, a.allocate(16));
            DirectSyscalls.raw(3, devNull, 0, 0, 0, 0, 0);
        }
        int ring = e.ownedFds().fds()[0];
        e.close();
        // Take descriptors until the ring's number comes back (the lowest free one is handed out).
        List<Integer> opened = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment devNull = a.allocateFrom("/dev/null");
            for (int i = 0; i < 64 && !opened.contains(ring); i++) {
                opened.add((int) DirectSyscalls.raw(257 /* openat */, -100, devNull.address(), 02000000, 0, 0, 0));
            }
            MemorySegment buf = a.allocate(16);
            assertThrows(EngineClosedException.class, () -> e.syscalls().read(ring, buf),
                    "read(fd=" + ring + ") through the closed engine, fd " + ring + " now /dev/null");
        } finally {
            for (int fd : opened) DirectSyscalls.raw(3, fd, 0, 0, 0, 0, 0);
        }
    }
}
