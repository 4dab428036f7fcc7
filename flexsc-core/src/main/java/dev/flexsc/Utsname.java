package dev.flexsc;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/** The fields of {@code struct utsname}, as uname(2) returns them. */
public record Utsname(String sysname, String nodename, String release, String version, String machine,
                      String domainname) {
    /** sizeof(struct utsname): six fields of 65 bytes. */
    public static final int SIZE = 6 * 65;

    static Utsname from(MemorySegment u) {
        String[] f = new String[6];
        for (int i = 0; i < 6; i++) f[i] = u.asSlice(65L * i, 65).getString(0, StandardCharsets.UTF_8);
        return new Utsname(f[0], f[1], f[2], f[3], f[4], f[5]);
    }
}
