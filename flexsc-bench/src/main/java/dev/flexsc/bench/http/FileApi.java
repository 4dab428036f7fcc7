package dev.flexsc.bench.http;

import dev.flexsc.io.FlexscFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** How a real server's handler reads the file it serves: the JDK's {@code Files} or its FlexSC twin. */
public enum FileApi {
    /** {@code Files.readAllBytes}: direct system calls from whatever thread runs the handler. */
    FILES("Files"),
    /** {@code FlexscFiles.readAllBytes}: FlexSC calls through {@code Flexsc.syscalls()}. */
    FLEXSC_FILES("FlexscFiles");

    public final String label;

    FileApi(String label) {
        this.label = label;
    }

    /**
     * The whole file.
     *
     * @throws java.nio.file.NoSuchFileException if it does not exist
     */
    public byte[] readAllBytes(Path file) throws IOException {
        return this == FILES ? Files.readAllBytes(file) : FlexscFiles.readAllBytes(file);
    }

    /**
     * The file a request path names under {@code root}, whole, or null when the path names no
     * file there (a directory part, "..", or no such file): what the real servers' handlers serve.
     */
    public byte[] serve(Path root, String requestPath) throws IOException {
        String name = HttpRequests.fileName(requestPath);
        if (name == null) return null;
        try {
            return readAllBytes(root.resolve(name));
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }
}
