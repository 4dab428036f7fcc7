package dev.flexsc.nativeimpl;

import dev.flexsc.abi.SyscallTable;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static dev.flexsc.abi.SyscallPageDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C header (as compiled into libflexsc) and the Java descriptor and allow-list
 * agree on every offset, size, constant and call: the ABI exists once per language.
 */
class AbiConformanceTest {
    private static Map<String, Long> parse(String s) {
        Map<String, Long> m = new TreeMap<>();
        for (String line : s.split("\n")) {
            if (line.isBlank()) continue;
            int eq = line.indexOf('=');
            m.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
        }
        return m;
    }

    private static Map<String, Long> java() {
        Map<String, Long> m = new TreeMap<>();
        m.put("ABI_VERSION", (long) ABI_VERSION);
        m.put("MAGIC", (long) MAGIC);
        m.put("PAGE_SIZE", (long) PAGE_SIZE);
        m.put("ENTRY_SIZE", (long) ENTRY_SIZE);
        m.put("ENTRY_ALIGN", (long) ENTRY_ALIGN);
        m.put("ENTRIES_PER_PAGE", (long) ENTRIES_PER_PAGE);
        m.put("MAX_PAGES", (long) MAX_PAGES);
        m.put("MAX_GROUPS", (long) MAX_GROUPS);
        m.put("BITMAP_WORDS", (long) BITMAP_WORDS);
        m.put("ARGS", (long) ARGS);
        m.put("ENTRY_STATUS", (long) ENTRY_STATUS);
        m.put("ENTRY_SYSNR", (long) ENTRY_SYSNR);
        m.put("ENTRY_RET", (long) ENTRY_RET);
        m.put("ENTRY_ARGS", (long) ENTRY_ARGS);
        m.put("STATUS_FREE", (long) STATUS_FREE);
        m.put("STATUS_SUBMITTED", (long) STATUS_SUBMITTED);
        m.put("STATUS_BUSY", (long) STATUS_BUSY);
        m.put("STATUS_DONE", (long) STATUS_DONE);
        m.put("GROUP_NEED_WAKEUP", (long) GROUP_NEED_WAKEUP);
        m.put("GROUP_STOPPING", (long) GROUP_STOPPING);
        m.put("GROUP_SIZE", (long) GROUP_SIZE);
        m.put("GROUP_SUBMIT_BITS", (long) GROUP_SUBMIT_BITS);
        m.put("GROUP_FLAGS", (long) GROUP_FLAGS);
        m.put("GROUP_WAKE_SEQ", (long) GROUP_WAKE_SEQ);
        m.put("GROUP_RUNNING", (long) GROUP_RUNNING);
        m.put("GROUP_EXECUTORS", (long) GROUP_EXECUTORS);
        m.put("GROUP_DONE_SEQ", (long) GROUP_DONE_SEQ);
        m.put("GROUP_DONE_WAITERS", (long) GROUP_DONE_WAITERS);
        m.put("GROUP_STAT_EXECUTED", (long) GROUP_STAT_EXECUTED);
        m.put("GROUP_STAT_REFUSED", (long) GROUP_STAT_REFUSED);
        m.put("GROUP_STAT_SLEEPS", (long) GROUP_STAT_SLEEPS);
        m.put("GROUP_STAT_BATCHES", (long) GROUP_STAT_BATCHES);
        m.put("CTRL_HEADER_SIZE", (long) CTRL_HEADER_SIZE);
        m.put("CTRL_MAGIC", (long) CTRL_MAGIC);
        m.put("CTRL_ABI_VERSION", (long) CTRL_ABI_VERSION);
        m.put("CTRL_GROUPS", (long) CTRL_GROUPS);
        m.put("CTRL_PAGES", (long) CTRL_PAGES);
        m.put("CTRL_ENTRIES", (long) CTRL_ENTRIES);
        m.put("CTRL_STOP_REASON", (long) CTRL_STOP_REASON);
        m.put("STOP_NONE", (long) STOP_NONE);
        m.put("STOP_IOCTL", (long) STOP_IOCTL);
        m.put("STOP_CLOSE", (long) STOP_CLOSE);
        m.put("STOP_SECCOMP", (long) STOP_SECCOMP);
        m.put("STOP_AUDIT", (long) STOP_AUDIT);
        m.put("CTRL_GROUP0", (long) CTRL_GROUP0);
        m.put("CTRL_SIZE_1", ctrlSize(1));
        m.put("CTRL_SIZE_60", ctrlSize(60));
        m.put("MAPPING_SIZE_3_5", mappingSize(3, 5));
        m.put("GROUP_PAGES_OFFSET_3_5_2", groupPagesOffset(3, 5, 2));
        m.put("REGISTER_SIZE", (long) REGISTER_SIZE);
        m.put("WAIT_SIZE", (long) WAIT_SIZE);
        m.put("WAIT_GROUP", (long) WAIT_GROUP);
        m.put("WAIT_FLAGS", (long) WAIT_FLAGS);
        m.put("WAIT_TIMEOUT_NS", (long) WAIT_TIMEOUT_NS);
        m.put("WAIT_DONE_SEQ", (long) WAIT_DONE_SEQ);
        m.put("WAIT_EXECUTED", (long) WAIT_EXECUTED);
        m.put("WAIT_EXECUTE", (long) WAIT_EXECUTE);
        m.put("IOC_REGISTER", IOC_REGISTER);
        m.put("IOC_SERVE", IOC_SERVE);
        m.put("IOC_WAIT", IOC_WAIT);
        m.put("IOC_WAKE", IOC_WAKE);
        m.put("IOC_STOP", IOC_STOP);
        m.put("CANCEL_SIZE", (long) CANCEL_SIZE);
        m.put("CANCEL_GROUP", (long) CANCEL_GROUP);
        m.put("CANCEL_INDEX", (long) CANCEL_INDEX);
        m.put("IOC_CANCEL", IOC_CANCEL);
        m.put("IOC_WAKE_WAITERS", IOC_WAKE_WAITERS);
        return m;
    }

    @Test
    void cHeaderAndJavaDescriptorAgree() {
        Map<String, Long> c = parse(LibFlexsc.abiDescription());
        assertTrue(c.size() > 50, "the C side described " + c.size() + " values");
        assertEquals(c, java(), "flexsc_abi.h and SyscallPageDescriptor differ");
    }

    @Test
    void allowListsAgree() {
        Map<Integer, String> c = new LinkedHashMap<>();
        for (String line : LibFlexsc.callsDescription().split("\n")) {
            String[] f = line.trim().split(" ");
            c.put(Integer.parseInt(f[0]), f[1] + "/" + f[2]);
        }
        Map<Integer, String> j = new LinkedHashMap<>();
        SyscallTable.all().values().forEach(call -> j.put(call.nr(), call.name() + "/" + call.flags()));
        assertEquals(c, j, "flexsc_calls.h and SyscallTable differ");
        for (int nr = -5; nr < 600; nr++) {
            int[] mayBlock = new int[1];
            boolean allowedC = LibFlexsc.flexsc_call_allowed(nr, mayBlock) != 0;
            assertEquals(SyscallTable.isAllowed(nr), allowedC, "allow-list disagrees on " + nr);
            if (allowedC) assertEquals(SyscallTable.lookup(nr).mayBlock(), mayBlock[0] != 0, "may-block flag of " + nr);
        }
    }
}
