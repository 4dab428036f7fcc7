package dev.flexsc.bench;

import dev.flexsc.abi.SyscallTable;

/** The system calls the microbenchmarks make, with their arguments. */
public enum CallKind {
    /** getpid(2): the cheapest real system call (no vDSO). */
    GETPID("getpid"),
    /** write(2) of 64 bytes to /dev/null. */
    WRITE64("write 64 B /dev/null"),
    /** pwrite64(2) of 4 KiB at offset 0 of a file. */
    PWRITE4K("pwrite 4 KiB file");

    public final String label;

    CallKind(String label) {
        this.label = label;
    }

    public int nr() {
        return switch (this) {
            case GETPID -> SyscallTable.GETPID;
            case WRITE64 -> SyscallTable.WRITE;
            case PWRITE4K -> SyscallTable.PWRITE64;
        };
    }

    public long size() {
        return switch (this) {
            case GETPID -> 0;
            case WRITE64 -> 64;
            case PWRITE4K -> 4096;
        };
    }
}
