package dev.flexsc.io;

import dev.flexsc.io.fs.FlexscFileSystemProvider;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.spi.FileSystemProvider;
import java.util.Set;

/**
 * The JDK's own file channels, for what FlexSC's file channel hands to the JDK (locks and
 * mappings): through the JDK's provider even when FlexSC's wraps it, so that the JDK channel
 * is never a FlexSC channel again.
 */
final class PlatformFiles {
    private PlatformFiles() {}

    /** The JDK's provider of the default file system. */
    static FileSystemProvider provider() {
        FileSystemProvider p = FileSystems.getDefault().provider();
        return p instanceof FlexscFileSystemProvider f ? f.platform() : p;
    }

    /** A JDK FileChannel on absolute {@code path} (no characters that need quoting in a URI). */
    static FileChannel openFileChannel(String path, Set<? extends OpenOption> options) throws IOException {
        FileSystemProvider p = provider();
        Path jdkPath = p.getFileSystem(URI.create("file:///")).getPath(path);
        return p.newFileChannel(jdkPath, options);
    }
}
