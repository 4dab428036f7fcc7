package dev.flexsc.bench.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes thread creation fail in this process, and lets it succeed again: a pids cgroup
 * whose {@code pids.max} is its current count (cgroup v1's pids hierarchy, or cgroup v2 where
 * this process sits in the root of a hierarchy with the pids controller, mounting one if there
 * is none and we may), else {@code RLIMIT_NPROC} of 1 (which the kernel ignores for root).
 * Every clone of the process (a JVM thread, a pthread of libflexsc, an io_uring worker or SQ
 * thread) then fails with EAGAIN.
 */
final class ThreadLimit implements AutoCloseable {
    private final String how;
    private final Path group;
    private final Path parentProcs;
    private final long oldNproc;

    private ThreadLimit(String how, Path group, Path parentProcs, long oldNproc) {
        this.how = how;
        this.group = group;
        this.parentProcs = parentProcs;
        this.oldNproc = oldNproc;
    }

    /** How the limit is made ("pids cgroup v1 ...", "RLIMIT_NPROC"). */
    String how() {
        return how;
    }

    /**
     * Applies the limit, or returns null with the reason in {@code why[0]} where no way works
     * here.
     */
    static ThreadLimit apply(String[] why) {
        long pid = ProcessHandle.current().pid();
        StringBuilder tried = new StringBuilder();
        Path v1 = Path.of("/sys/fs/cgroup/pids");
        if (Files.isDirectory(v1)) {
            ThreadLimit l = inCgroup(v1, v1.resolve("flexsc-soak-" + pid), "pids cgroup (v1)", tried);
            if (l != null) return l;
        }
        Path v2 = cgroup2Root(tried);
        if (v2 != null) {
            ThreadLimit l = inCgroup(v2, v2.resolve("flexsc-soak-" + pid), "pids cgroup (v2)", tried);
            if (l != null) return l;
        }
        long[] nproc = Sys.getrlimit(Sys.RLIMIT_NPROC);
        long r = Sys.setSoftLimit(Sys.RLIMIT_NPROC, 1);
        if (r == 0) {
            return new ThreadLimit("RLIMIT_NPROC=1" + (tried.isEmpty() ? "" : " (" + tried + ")"), null, null, nproc[0]);
        }
        tried.append("; RLIMIT_NPROC: ").append(dev.flexsc.Errno.symbol((int) -r));
        why[0] = tried.toString();
        return null;
    }

    /** Moves this process into a new child of {@code parent} whose pids.max is what it has now. */
    private static ThreadLimit inCgroup(Path parent, Path group, String how, StringBuilder tried) {
        try {
            Files.createDirectory(group);
            try {
                Files.writeString(group.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
                long now = Long.parseLong(Files.readString(group.resolve("pids.current")).trim());
                Files.writeString(group.resolve("pids.max"), Long.toString(now));
                return new ThreadLimit(how + " " + group + ", pids.max=" + now, group, parent.resolve("cgroup.procs"), -1);
            } catch (IOException | RuntimeException e) {
                moveBack(parent.resolve("cgroup.procs"));
                Files.deleteIfExists(group);
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            tried.append(tried.isEmpty() ? "" : "; ").append(how).append(": ").append(e);
            return null;
        }
    }

    /**
     * The root of a cgroup2 hierarchy with the pids controller enabled for its children, if
     * this process is in that root: the mounted one, else (root only) a fresh mount under /tmp.
     */
    private static Path cgroup2Root(StringBuilder tried) {
        try {
            Path root = null;
            for (String l : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = l.split(" ");
                int dash = java.util.Arrays.asList(f).indexOf("-");
                if (dash > 0 && f[dash + 1].equals("cgroup2") && f[3].equals("/")) root = Path.of(f[4]);
            }
            if (root == null) {
                Path m = Files.createTempDirectory("flexsc-soak-cgroup2");
                try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                    long r = Sys.raw(165 /* mount */, a.allocateFrom("none").address(), a.allocateFrom(m.toString()).address(),
                            a.allocateFrom("cgroup2").address(), 0, 0, 0);
                    if (r < 0) {
                        tried.append(tried.isEmpty() ? "" : "; ").append("mount -t cgroup2: ").append(dev.flexsc.Errno.symbol((int) -r));
                        return null;
                    }
                }
                root = m;
            }
            String pid = Long.toString(ProcessHandle.current().pid());
            if (Files.readAllLines(root.resolve("cgroup.procs")).stream().noneMatch(pid::equals)) {
                tried.append(tried.isEmpty() ? "" : "; ").append("cgroup v2 at ").append(root)
                        .append(": this process is not in its root group");
                return null;
            }
            if (!Files.readString(root.resolve("cgroup.controllers")).contains("pids")) {
                tried.append(tried.isEmpty() ? "" : "; ").append("cgroup v2 at ").append(root).append(": no pids controller");
                return null;
            }
            if (!Files.readString(root.resolve("cgroup.subtree_control")).contains("pids")) {
                Files.writeString(root.resolve("cgroup.subtree_control"), "+pids");
            }
            return root;
        } catch (IOException | RuntimeException e) {
            tried.append(tried.isEmpty() ? "" : "; ").append("cgroup v2: ").append(e);
            return null;
        }
    }

    private static void moveBack(Path procs) {
        try {
            Files.writeString(procs, Long.toString(ProcessHandle.current().pid()));
        } catch (IOException ignored) {
            // the group's removal below then fails too, and says so
        }
    }

    /** Lifts the limit: thread creation works again. */
    @Override
    public void close() throws IOException {
        if (group != null) {
            Files.writeString(group.resolve("pids.max"), "max");
            moveBack(parentProcs);
            Files.deleteIfExists(group);
        } else {
            long r = Sys.setSoftLimit(Sys.RLIMIT_NPROC, oldNproc);
            if (r < 0) throw new IOException("prlimit64(RLIMIT_NPROC): " + dev.flexsc.Errno.symbol((int) -r));
        }
    }
}
