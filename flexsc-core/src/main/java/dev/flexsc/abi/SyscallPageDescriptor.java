package dev.flexsc.abi;

/**
 * The layout of a FlexSC registration: control area, per-group control blocks and
 * syscall pages. The one Java copy of {@code flexsc_abi.h}; a test compares every
 * value here with the compiled C header. Nothing else computes an offset by hand.
 *
 * <pre>
 * [0, ctrlSize(groups))                control header (64 B) + one group block (256 B) per group
 * [groupPagesOffset(groups, pages, g)) group g: pages x 4096 B = pages x 64 entries of 64 B
 * entry: u32 status | u32 sysnr | s64 ret | u64 args[6]
 * group: line 0 submit_bits[8] | line 1 flags, wake_seq, running, executors
 *        | line 2 done_seq, done_waiters | line 3 statistics
 * </pre>
 */
public final class SyscallPageDescriptor {
    private SyscallPageDescriptor() {}

    public static final int ABI_VERSION = 1;
    public static final int MAGIC = 0x43534c46;

    public static final int PAGE_SIZE = 4096;
    public static final int ENTRY_SIZE = 64;
    public static final int ENTRY_ALIGN = 64;
    public static final int ENTRIES_PER_PAGE = PAGE_SIZE / ENTRY_SIZE;
    public static final int MAX_PAGES = 8;
    public static final int MAX_GROUPS = 60;
    public static final int BITMAP_WORDS = MAX_PAGES * ENTRIES_PER_PAGE / 64;
    public static final int ARGS = 6;

    // struct flexsc_entry
    public static final int ENTRY_STATUS = 0;
    public static final int ENTRY_SYSNR = 4;
    public static final int ENTRY_RET = 8;
    public static final int ENTRY_ARGS = 16;

    // entry status
    public static final int STATUS_FREE = 0;
    public static final int STATUS_SUBMITTED = 1;
    public static final int STATUS_BUSY = 2;
    public static final int STATUS_DONE = 3;

    // struct flexsc_group.flags
    public static final int GROUP_NEED_WAKEUP = 1;
    public static final int GROUP_STOPPING = 2;

    // struct flexsc_ctrl.stop_reason: why the kernel module stopped the registration (the
    // first reason wins; written before GROUP_STOPPING is set, so read it after an acquire
    // load of a group's flags that shows STOPPING)
    public static final int STOP_NONE = 0;
    public static final int STOP_IOCTL = 1;
    public static final int STOP_CLOSE = 2;
    public static final int STOP_SECCOMP = 3;
    public static final int STOP_AUDIT = 4;

    // struct flexsc_group: four cache lines, so submitter-written, executor-written and
    // statistics fields never share a line.
    public static final int GROUP_SIZE = 256;
    public static final int GROUP_SUBMIT_BITS = 0;
    public static final int GROUP_FLAGS = 64;
    public static final int GROUP_WAKE_SEQ = 68;
    public static final int GROUP_RUNNING = 72;
    public static final int GROUP_EXECUTORS = 76;
    public static final int GROUP_DONE_SEQ = 128;
    public static final int GROUP_DONE_WAITERS = 132;
    public static final int GROUP_STAT_EXECUTED = 192;
    public static final int GROUP_STAT_REFUSED = 200;
    public static final int GROUP_STAT_SLEEPS = 208;
    public static final int GROUP_STAT_BATCHES = 216;

    // struct flexsc_ctrl
    public static final int CTRL_HEADER_SIZE = 64;
    public static final int CTRL_MAGIC = 0;
    public static final int CTRL_ABI_VERSION = 4;
    public static final int CTRL_GROUPS = 8;
    public static final int CTRL_PAGES = 12;
    public static final int CTRL_ENTRIES = 16;
    public static final int CTRL_STOP_REASON = 20;
    public static final int CTRL_GROUP0 = 64;

    // struct flexsc_register and struct flexsc_wait (kernel module ioctls)
    public static final int REGISTER_SIZE = 24;
    public static final int WAIT_SIZE = 24;
    public static final int WAIT_GROUP = 0;
    public static final int WAIT_FLAGS = 4;
    public static final int WAIT_TIMEOUT_NS = 8;
    public static final int WAIT_DONE_SEQ = 16;
    public static final int WAIT_EXECUTED = 20;
    public static final int WAIT_EXECUTE = 1;

    // struct flexsc_cancel (FLEXSC_IOC_CANCEL)
    public static final int CANCEL_SIZE = 8;
    public static final int CANCEL_GROUP = 0;
    public static final int CANCEL_INDEX = 4;

    // ioctl numbers: _IOWR/_IOW/_IO(0xF5, n, size) as the C macros compute them
    private static final int IOC_MAGIC = 0xF5;
    public static final long IOC_REGISTER = ioc(3, IOC_MAGIC, 1, REGISTER_SIZE);
    public static final long IOC_SERVE = ioc(1, IOC_MAGIC, 2, 4);
    public static final long IOC_WAIT = ioc(3, IOC_MAGIC, 3, WAIT_SIZE);
    public static final long IOC_WAKE = ioc(1, IOC_MAGIC, 4, 4);
    public static final long IOC_STOP = ioc(0, IOC_MAGIC, 5, 0);
    public static final long IOC_CANCEL = ioc(1, IOC_MAGIC, 6, CANCEL_SIZE);
    public static final long IOC_WAKE_WAITERS = ioc(1, IOC_MAGIC, 7, 4);

    private static long ioc(int dir, int type, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    /** Checks a geometry and throws {@link IllegalArgumentException} naming the bad value. */
    public static void checkGeometry(int groups, int pages) {
        if (groups < 1 || groups > MAX_GROUPS) {
            throw new IllegalArgumentException("groups must be 1.." + MAX_GROUPS + ", was " + groups);
        }
        if (pages < 1 || pages > MAX_PAGES) {
            throw new IllegalArgumentException("pages per group must be 1.." + MAX_PAGES + ", was " + pages);
        }
    }

    /** Entries per group. */
    public static int entries(int pages) {
        return pages * ENTRIES_PER_PAGE;
    }

    /** Bytes of the control area: header and group blocks, rounded up to whole pages. */
    public static long ctrlSize(int groups) {
        return ((long) CTRL_HEADER_SIZE + (long) groups * GROUP_SIZE + PAGE_SIZE - 1) & ~(long) (PAGE_SIZE - 1);
    }

    /** Offset of group g's control block. */
    public static long groupOffset(int g) {
        return CTRL_GROUP0 + (long) g * GROUP_SIZE;
    }

    /** Offset of the first syscall page of group g. */
    public static long groupPagesOffset(int groups, int pages, int g) {
        return ctrlSize(groups) + (long) g * pages * PAGE_SIZE;
    }

    /** Offset of entry {@code index} of group g. */
    public static long entryOffset(int groups, int pages, int g, int index) {
        return groupPagesOffset(groups, pages, g) + (long) index * ENTRY_SIZE;
    }

    /** Bytes of the whole mapping. */
    public static long mappingSize(int groups, int pages) {
        return ctrlSize(groups) + (long) groups * pages * PAGE_SIZE;
    }
}
