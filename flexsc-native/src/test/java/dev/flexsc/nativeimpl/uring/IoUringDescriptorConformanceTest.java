package dev.flexsc.nativeimpl.uring;

import dev.flexsc.nativeimpl.TestSupport;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link IoUringDescriptor} against the kernel's UAPI header: a C program compiled with
 * {@code <linux/io_uring.h>} by the build (target/test-bin/uring_abi, src/test/c) prints every
 * struct offset, size, opcode and flag the engines use, under the Java constant's name.
 */
class IoUringDescriptorConformanceTest {
    /** Not a kernel value: how many probe entries we ask for. */
    private static final Set<String> OURS = Set.of("PROBE_OPS");
    /**
     * Newer than some UAPI headers (6.1 has ops up to IORING_OP_SOCKET): checked when the
     * installed header has them, else listed as unchecked.
     */
    private static final Set<String> NEWER = Set.of("OP_FTRUNCATE", "OP_BIND", "OP_LISTEN", "ACCEPT_DONTWAIT");

    private static Map<String, Long> java() throws IllegalAccessException {
        Map<String, Long> m = new TreeMap<>();
        for (Field f : IoUringDescriptor.class.getFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod) || !Modifier.isFinal(mod)) continue;
            if (f.getType() == int.class) m.put(f.getName(), (long) f.getInt(null));
            else if (f.getType() == long.class) m.put(f.getName(), f.getLong(null));
        }
        return m;
    }

    @Test
    void everyOffsetSizeOpcodeAndFlagEqualsTheKernelHeader() throws Exception {
        Map<String, Long> c = TestSupport.helperValues("uring_abi"), j = java();
        long headerOps = c.remove("HEADER_OP_LAST");
        StringBuilder unchecked = new StringBuilder();
        for (var e : j.entrySet()) {
            String name = e.getKey();
            if (OURS.contains(name)) continue;
            Long h = c.get(name);
            if (h == null) {
                assertTrue(NEWER.contains(name), name + " is not in <linux/io_uring.h> (nor expected to be newer)");
                if (name.startsWith("OP_")) {
                    assertTrue(e.getValue() >= headerOps, name + "=" + e.getValue()
                            + " should be one of the header's ops (it knows " + headerOps + ")");
                }
                unchecked.append(' ').append(name).append('=').append(e.getValue());
                continue;
            }
            // ints compare as the C value's low 32 bits (SPLICE_F_FD_IN_FIXED is 1U << 31)
            long want = h, got = e.getValue();
            if (IoUringDescriptor.class.getField(name).getType() == int.class) want = (int) want;
            assertEquals(want, got, name);
        }
        for (String name : c.keySet()) assertTrue(j.containsKey(name), "the header helper prints " + name + " but Java lacks it");
        if (!unchecked.isEmpty()) {
            System.out.println("IoUringDescriptor: newer than this UAPI header (" + headerOps + " ops), unchecked:" + unchecked);
        }
    }

    @Test
    void theSqeAndCqeFieldsTileTheirStructs() {
        // Each SQE field starts where the previous one ends (the header's order), so a wrong
        // offset cannot hide behind a right size.
        int[][] sqe = {{IoUringDescriptor.SQE_OPCODE, 1}, {IoUringDescriptor.SQE_FLAGS, 1}, {IoUringDescriptor.SQE_IOPRIO, 2},
                {IoUringDescriptor.SQE_FD, 4}, {IoUringDescriptor.SQE_OFF, 8}, {IoUringDescriptor.SQE_ADDR, 8},
                {IoUringDescriptor.SQE_LEN, 4}, {IoUringDescriptor.SQE_OP_FLAGS, 4}, {IoUringDescriptor.SQE_USER_DATA, 8},
                {IoUringDescriptor.SQE_BUF_INDEX, 2}, {42, 2}, {IoUringDescriptor.SQE_SPLICE_FD_IN, 4},
                {IoUringDescriptor.SQE_ADDR3, 16}};
        int at = 0;
        for (int[] f : sqe) {
            assertEquals(at, f[0]);
            at += f[1];
        }
        assertEquals(IoUringDescriptor.SQE_SIZE, at);
        assertEquals(IoUringDescriptor.CQE_SIZE, IoUringDescriptor.CQE_FLAGS + 4);
    }
}
