package dev.flexsc.bench.io;

import dev.flexsc.Syscalls;
import dev.flexsc.nativeimpl.DirectSyscalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The cold-read study with a small file and tiny windows: every reader and mode measured, the cache really dropped (no timing checks). */
class ColdReadSmokeTest {
    @TempDir
    Path dir;

    private boolean tmpfs() throws Exception {
        return Files.getFileStore(dir).type().equals("tmpfs");
    }

    @Test
    void dropEmptiesTheFilesPagesFromTheCache() throws Exception {
        Path f = dir.resolve("cold.dat");
        ColdReadStudy.ensureFile(f, 8 << 20, s -> {});
        Files.readAllBytes(f);
        assertTrue(PageCache.residentShare(f) > 0.9, "a file just read is cached");
        PageCache.drop(f, PageCache.Method.FADVISE);
        if (tmpfs()) {
            System.out.println("SKIP the cold check: " + dir + " is on tmpfs, whose pages are the file");
            return;
        }
        assertTrue(PageCache.residentShare(f) < 0.01, "still cached after POSIX_FADV_DONTNEED: " + PageCache.residentShare(f));
    }

    @Test
    void aFileIsCreatedOnceAndASparseOneIsReplaced() throws Exception {
        Path f = dir.resolve("cold.dat");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(4 << 20); // sparse: no blocks
        }
        List<String> log = new ArrayList<>();
        ColdReadStudy.ensureFile(f, 4 << 20, log::add);
        assertTrue(log.getLast().contains("creating"), log.toString());
        Syscalls sys = DirectSyscalls.syscalls();
        int fd = sys.openat(Syscalls.AT_FDCWD, f.toString(), 0, 0);
        try {
            assertTrue(sys.fstat(fd).blocks() * 512 >= 4 << 20, "still sparse");
        } finally {
            sys.close(fd);
        }
        ColdReadStudy.ensureFile(f, 4 << 20, log::add);
        assertTrue(log.getLast().contains("reusing"), log.toString());
    }

    @Test
    @Timeout(300)
    void everyReaderAndModeIsMeasuredBesideFio() throws Exception {
        ColdReadStudy.Options o = new ColdReadStudy.Options(dir.resolve("cold.dat"), 32 << 20, new int[] {4}, 0.2,
                List.of(ColdReadStudy.Readers.values()), List.of(ColdReadStudy.Mode.values()), PageCache.Method.FADVISE,
                true, 8, null, null);
        ColdReadStudy.Results res = ColdReadStudy.run(o, System.out::println);
        assertEquals(ColdReadStudy.Readers.values().length * 2, res.rows().size());
        for (ColdReadStudy.Row r : res.rows()) {
            if (r.skip() != null) {
                // only O_DIRECT may be refused, and only by a file system without it
                assertEquals(ColdReadStudy.Mode.DIRECT, r.mode(), r.toString());
                assertTrue(tmpfs() && r.skip().contains("EINVAL") || r.skip().contains("Invalid argument"), r.toString());
                continue;
            }
            assertTrue(r.reads() > 0 && r.readsPerSec() > 0, r.toString());
            assertTrue(r.p99Ms() > 0 && Double.isFinite(r.p99Ms()), r.toString());
            assertTrue(r.cpuUsPerRead() > 0 && Double.isFinite(r.cpuUsPerRead()), r.toString());
            assertTrue(r.hogProgress() >= 0 && Double.isFinite(r.hogProgress()), r.toString());
            if (!tmpfs()) assertTrue(r.residentBefore() < 0.01, "the window did not start cold: " + r);
        }
        for (ColdReadStudy.FioRow f : res.fio()) {
            if (f.skip() != null) {
                assertNull(Fio.unavailabilityCause() == null ? f.skip() : null, "fio is here but was skipped: " + f);
                System.out.println("SKIP fio: " + f.skip());
            } else {
                assertTrue(f.result().reads() > 0 && f.result().iops() > 0, f.toString());
            }
        }
        String t = ColdReadStudy.table(res);
        assertTrue(t.contains("FlexscExecutors, FlexSC pread") && t.contains("platform pool of 256") && t.contains("fio, io_uring"), t);
        assertTrue(t.contains("of stock virtual threads' reads/s"), t);
        System.out.println(t);
    }

    @Test
    void fioJsonIsRead() throws Exception {
        String json = """
                {"jobs" : [ { "jobname" : "coldread", "job options" : { "runtime" : "1" },
                  "read" : { "io_bytes" : 1, "iops" : 1000.5, "runtime" : 2000, "total_ios" : 2001,
                    "clat_ns" : { "percentile" : { "1.000000" : 100, "99.000000" : 250000 } } },
                  "write" : { "iops" : 0.0 },
                  "usr_cpu" : 10.0, "sys_cpu" : 40.0 } ] }
                """;
        Fio.Result r = Fio.parse(json);
        assertEquals(1000.5, r.iops());
        assertEquals(0.25, r.p99Ms(), 1e-9);
        assertEquals(2001, r.reads());
        assertEquals(0.5 * 2000e3 / 2001, r.cpuUsPerRead(), 1e-9); // half a CPU for 2 s over 2001 reads
    }
}
