package dev.flexsc;

import dev.flexsc.nativeimpl.DirectSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the buffer rules (CallMemory) cost a call, per kind of segment, in one run: the rule
 * alone (the in-place check and the reachability fence), and a 64-byte pread64 of /dev/zero
 * through the typed {@link Syscalls} of the direct baseline against the same downcall made
 * raw (no typed layer, no rule: what the typed method did for a native segment before the
 * rules). Best of 7 rounds. Not a JUnit test; docs/io.md gives the command and the figures.
 * Argument: [iterations per round of the syscall loop, default 200000].
 */
public final class BufferRuleCostMain {
    private BufferRuleCostMain() {}

    private static final int NR_PREAD64 = 17;
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int checks = calls * 20;
        Syscalls sys = DirectSyscalls.syscalls();
        int zero = sys.openat(Syscalls.AT_FDCWD, "/dev/zero", 0 /* O_RDONLY */ | 02000000, 0);
        try (Arena confined = Arena.ofConfined(); Arena shared = Arena.ofShared()) {
            Map<String, MemorySegment> kinds = new LinkedHashMap<>();
            kinds.put("confined arena", confined.allocate(64));
            kinds.put("automatic arena", Arena.ofAuto().allocate(64));
            kinds.put("global (mapped)", Arena.global().allocate(64));
            kinds.put("direct ByteBuffer", MemorySegment.ofBuffer(ByteBuffer.allocateDirect(64)));
            kinds.put("shared arena (copied)", shared.allocate(64));
            kinds.put("heap (copied)", MemorySegment.ofArray(new byte[64]));
            System.out.printf("%-24s %14s %18s %16s %10s%n", "segment", "rule ns/call", "Syscalls.pread ns", "raw pread ns", "overhead");
            for (Map.Entry<String, MemorySegment> k : kinds.entrySet()) {
                MemorySegment seg = k.getValue();
                double rule = Double.MAX_VALUE, typed = Double.MAX_VALUE, raw = Double.MAX_VALUE;
                for (int round = 0; round < 7; round++) {
                    long t0 = System.nanoTime();
                    long n = 0;
                    for (int i = 0; i < checks; i++) {
                        if (CallMemory.inPlace(seg, "pread64")) n++;
                        Reference.reachabilityFence(seg);
                    }
                    long t1 = System.nanoTime();
                    for (int i = 0; i < calls; i++) n += sys.pread(zero, seg, 0);
                    long t2 = System.nanoTime();
                    long addr = seg.isNative() ? seg.address() : 0;
                    for (int i = 0; i < calls && addr != 0; i++) n += DirectSyscalls.raw(NR_PREAD64, zero, addr, 64, 0, 0, 0);
                    long t3 = System.nanoTime();
                    sink += n;
                    rule = Math.min(rule, (double) (t1 - t0) / checks);
                    typed = Math.min(typed, (double) (t2 - t1) / calls);
                    if (addr != 0) raw = Math.min(raw, (double) (t3 - t2) / calls);
                }
                boolean hasRaw = raw != Double.MAX_VALUE;
                System.out.printf("%-24s %14.1f %18.1f %16s %10s%n", k.getKey(), rule, typed,
                        hasRaw ? String.format("%.1f", raw) : "-", hasRaw ? String.format("%+.1f", typed - raw) : "-");
            }
        } finally {
            sys.close(zero);
        }
    }
}
