package dev.flexsc.io;

import dev.flexsc.Errno;
import dev.flexsc.ErrnoException;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Set;

import static dev.flexsc.OpenFlags.*;

/**
 * {@link OpenOption}s to openat(2) flags, the way the JDK's Unix file channel factory
 * maps them (so both accept and refuse the same combinations), and errno to the
 * {@link FileSystemException} subclasses the JDK throws for a path.
 */
record OpenFlags(int flags, int mode, boolean readable, boolean writable, boolean append, boolean deleteOnClose) {
    /** rw-rw-rw- before the umask: what the JDK creates files with. */
    static final int DEFAULT_MODE = 0666;

    static OpenFlags of(Set<? extends OpenOption> options, FileAttribute<?>... attrs) {
        boolean read = false, write = false, append = false, truncate = false, create = false, createNew = false,
                deleteOnClose = false, sync = false, dsync = false, noFollow = false;
        for (OpenOption o : options) {
            Objects.requireNonNull(o, "an open option is null");
            if (o instanceof StandardOpenOption so) {
                switch (so) {
                    case READ -> read = true;
                    case WRITE -> write = true;
                    case APPEND -> append = true;
                    case TRUNCATE_EXISTING -> truncate = true;
                    case CREATE -> create = true;
                    case CREATE_NEW -> createNew = true;
                    case DELETE_ON_CLOSE -> deleteOnClose = true;
                    case SPARSE -> { } // a hint; Linux files are sparse anyway
                    case SYNC -> sync = true;
                    case DSYNC -> dsync = true;
                }
            } else if (o == LinkOption.NOFOLLOW_LINKS) {
                noFollow = true;
            } else {
                throw new UnsupportedOperationException(o + " not supported");
            }
        }
        if (!read && !write) {
            if (append) write = true;
            else read = true;
        }
        if (read && append) throw new IllegalArgumentException("READ + APPEND not allowed");
        if (append && truncate) throw new IllegalArgumentException("APPEND + TRUNCATE_EXISTING not allowed");

        int flags = (read && write) ? O_RDWR : (write ? O_WRONLY : O_RDONLY);
        if (write) {
            if (truncate) flags |= O_TRUNC;
            if (append) flags |= O_APPEND;
            if (createNew) flags |= O_CREAT | O_EXCL;
            else if (create) flags |= O_CREAT;
        }
        // As the JDK: DELETE_ON_CLOSE must not follow a link (it would delete the wrong file).
        if (!createNew && (noFollow || deleteOnClose)) flags |= O_NOFOLLOW;
        if (dsync) flags |= O_DSYNC;
        if (sync) flags |= O_SYNC;
        flags |= O_CLOEXEC;
        return new OpenFlags(flags, modeOf(attrs), read, write, append, deleteOnClose);
    }

    @SuppressWarnings("unchecked")
    private static int modeOf(FileAttribute<?>... attrs) {
        int mode = DEFAULT_MODE;
        for (FileAttribute<?> a : attrs) {
            Objects.requireNonNull(a, "a file attribute is null");
            String name = a.name();
            if (!name.equals("posix:permissions") && !name.equals("unix:permissions")) {
                throw new UnsupportedOperationException("'" + name + "' not supported as initial attribute");
            }
            mode = 0;
            for (PosixFilePermission p : (Set<PosixFilePermission>) a.value()) {
                mode |= switch (p) {
                    case OWNER_READ -> 0400; case OWNER_WRITE -> 0200; case OWNER_EXECUTE -> 0100;
                    case GROUP_READ -> 040; case GROUP_WRITE -> 020; case GROUP_EXECUTE -> 010;
                    case OTHERS_READ -> 04; case OTHERS_WRITE -> 02; case OTHERS_EXECUTE -> 01;
                };
            }
        }
        return mode;
    }

    /**
     * The JDK's exception for a failed call on {@code file}: NoSuchFileException (ENOENT),
     * FileAlreadyExistsException (EEXIST), AccessDeniedException (EACCES, EPERM), otherwise
     * FileSystemException; the reason names the call and errno; the cause is {@code e}.
     */
    static FileSystemException translate(ErrnoException e, Path file) {
        String f = file.toString();
        String reason = e.getMessage();
        FileSystemException x = switch (e.errno()) {
            case Errno.ENOENT -> new NoSuchFileException(f, null, reason);
            case Errno.EEXIST -> new FileAlreadyExistsException(f, null, reason);
            case Errno.EACCES, Errno.EPERM -> new AccessDeniedException(f, null, reason);
            case Errno.ELOOP -> new FileSystemException(f, null, reason + " (a symbolic link, and NOFOLLOW_LINKS or DELETE_ON_CLOSE was given)");
            default -> new FileSystemException(f, null, reason);
        };
        x.initCause(e);
        return x;
    }
}
