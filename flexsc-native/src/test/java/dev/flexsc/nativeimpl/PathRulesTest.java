package dev.flexsc.nativeimpl;

import dev.flexsc.CallPolicy;
import dev.flexsc.Flexsc;
import dev.flexsc.FlexscConfig;
import dev.flexsc.FlexscEngine;
import dev.flexsc.SyscallBatch;
import dev.flexsc.Syscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.flexsc.OpenFlags.*;
import static dev.flexsc.nativeimpl.TestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * String paths are encoded exactly (UTF-8) or refused before any call: a lone surrogate
 * used to become {@code ?}, so unlinkat of {@code x\uD800} deleted {@code x?}. Byte paths
 * reach the kernel as given.
 */
class PathRulesTest {
    @TempDir
    Path dir;

    private void refusedEverywhere(Syscalls s) throws Exception {
        Files.writeString(dir.resolve("x?"), "keep");
        Files.createDirectory(dir.resolve("d?"));
        String bad = dir + "/x\uD800", badDir = dir + "/d\uDC00";
        Executable[] calls = {
            () -> s.unlinkat(Syscalls.AT_FDCWD, bad, 0),
            () -> s.unlinkat(Syscalls.AT_FDCWD, badDir, 0x200),
            () -> s.openat(Syscalls.AT_FDCWD, bad, O_RDWR | O_TRUNC | O_CLOEXEC, 0),
            () -> s.openat(Syscalls.AT_FDCWD, dir + "/n\uD800", O_RDWR | O_CREAT | O_CLOEXEC, 0600),
            () -> s.mkdirat(Syscalls.AT_FDCWD, dir + "/m\uDBFF", 0700),
            () -> s.renameat2(Syscalls.AT_FDCWD, bad, Syscalls.AT_FDCWD, dir + "/moved", 0),
            () -> s.renameat2(Syscalls.AT_FDCWD, dir + "/x?", Syscalls.AT_FDCWD, dir + "/r\uD800", 0),
            () -> s.fstatat(Syscalls.AT_FDCWD, bad, 0),
            () -> {
                try (Arena a = Arena.ofConfined()) {
                    s.statx(Syscalls.AT_FDCWD, bad, 0, 0xfff, a.allocate(256));
                }
            },
            () -> {
                try (SyscallBatch b = s.batch()) {
                    b.openat(Syscalls.AT_FDCWD, bad, O_RDONLY | O_CLOEXEC, 0);
                }
            },
        };
        for (Executable call : calls) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, call);
            assertTrue(x.getMessage().contains("surrogate"), x.getMessage());
        }
        assertEquals("keep", Files.readString(dir.resolve("x?")), "x? was touched");
        assertTrue(Files.isDirectory(dir.resolve("d?")), "d? was removed");
        try (var names = Files.list(dir)) {
            assertEquals(2, names.count(), "a call created a file");
        }
    }

    @Test
    void aLoneSurrogateIsRefusedBeforeAnyCall() throws Exception {
        refusedEverywhere(DirectSyscalls.syscalls());
    }

    @Test
    void aLoneSurrogateIsRefusedByAnEngineToo() throws Exception {
        try (FlexscEngine e = Flexsc.open(FlexscConfig.builder().policy(CallPolicy.EXCEPTIONLESS).build())) {
            refusedEverywhere(e.syscalls());
        }
    }

    @Test
    void bytePathsReachTheKernelAsGiven() throws Exception {
        Syscalls s = DirectSyscalls.syscalls();
        byte[] name = (dir + "/bad\u0001").getBytes();
        name[name.length - 1] = (byte) 0xff; // not UTF-8
        int fd = s.openat(Syscalls.AT_FDCWD, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        closeDirect(fd);
        assertEquals(0, s.fstatat(Syscalls.AT_FDCWD, name, 0).size());
        try (var names = Files.list(dir)) {
            assertEquals("bad\uFFFD", names.findFirst().orElseThrow().getFileName().toString());
        }
        s.unlinkat(Syscalls.AT_FDCWD, name, 0);
        try (var names = Files.list(dir)) {
            assertEquals(0, names.count());
        }
        byte[] withNul = "a\0b".getBytes();
        assertThrows(IllegalArgumentException.class, () -> s.unlinkat(Syscalls.AT_FDCWD, withNul, 0));
    }
}
