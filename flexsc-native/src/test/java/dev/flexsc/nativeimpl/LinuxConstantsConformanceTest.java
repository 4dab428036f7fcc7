package dev.flexsc.nativeimpl;

import dev.flexsc.AtFlags;
import dev.flexsc.Errno;
import dev.flexsc.MsgFlags;
import dev.flexsc.OpenFlags;
import dev.flexsc.SocketConstants;
import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Linux constants Java declares once ({@link Errno}, {@link OpenFlags}, {@link AtFlags},
 * {@link MsgFlags}, {@link SocketConstants}, the numbers of {@link SyscallTable}) against the C
 * library's headers: a C program compiled by the build (target/test-bin/linux_constants,
 * src/test/c) prints each under its Java name, and every value must match, both ways.
 */
class LinuxConstantsConformanceTest {
    /** SyscallTable fields that are not system call numbers. */
    private static final Set<String> NOT_NUMBERS = Set.of("MAY_BLOCK", "NEVER_BLOCKS", "NR_LIMIT");
    /** SyscallTable fields that are Linux flags of a call, under their own name. */
    private static final Set<String> CALL_FLAGS = Set.of("GRND_RANDOM");

    /** Every public static final int of {@code c}, as CLASS.NAME (numbers: the lower-case call name). */
    private static void put(Map<String, Long> m, Class<?> c) throws IllegalAccessException {
        for (Field f : c.getFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod) || !Modifier.isFinal(mod) || f.getType() != int.class) continue;
            String name = f.getName();
            if (c == SyscallTable.class) {
                if (NOT_NUMBERS.contains(name)) continue;
                if (!CALL_FLAGS.contains(name)) name = name.toLowerCase(Locale.ROOT);
            }
            m.put(c.getSimpleName() + "." + name, (long) f.getInt(null));
        }
    }

    @Test
    void everyErrnoFlagAndSyscallNumberEqualsTheCHeaders() throws Exception {
        Map<String, Long> c = TestSupport.helperValues("linux_constants"), j = new TreeMap<>();
        for (Class<?> k : new Class<?>[] {Errno.class, OpenFlags.class, AtFlags.class, MsgFlags.class,
                SocketConstants.class, SyscallTable.class}) {
            put(j, k);
        }
        for (var e : j.entrySet()) {
            assertTrue(c.containsKey(e.getKey()), e.getKey() + " is declared in Java but linux_constants.c does not print it");
            assertEquals(c.get(e.getKey()), e.getValue(), e.getKey());
        }
        for (String name : c.keySet()) assertTrue(j.containsKey(name), "linux_constants.c prints " + name + " but Java lacks it");
        assertTrue(j.size() > 150, "only " + j.size() + " constants found");
    }

    @Test
    void errnoNamesEveryConstantItDeclares() throws IllegalAccessException {
        for (Field f : Errno.class.getFields()) {
            if (f.getType() != int.class) continue;
            assertEquals(f.getName(), Errno.symbol(f.getInt(null)), "Errno's table and its constants differ");
        }
    }
}
