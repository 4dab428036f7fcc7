package dev.flexsc.io;

import dev.flexsc.io.fs.FlexscFileSystemProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.spi.FileSystemProvider;
import java.util.Collections;
import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.*;

/**
 * flexsc-io on the class path and no provider property set (this test JVM's state): the
 * JDK's providers stay the JVM's, whatever the JVM opens, and FlexSC's report themselves off.
 * Turning them on takes the system properties of {@link FlexscProviders#JVM_FLAGS}; that
 * side is flexsc-bench's providers-on test run.
 */
class ProvidersNotInstalledTest {
    @TempDir
    Path dir;

    @Test
    void theJdksProvidersStayTheJvms() throws Exception {
        assertNull(System.getProperty(FlexscProviders.SELECTOR_PROVIDER_PROPERTY));
        assertNull(System.getProperty(FlexscProviders.FILE_SYSTEM_PROVIDER_PROPERTY));
        // the JVM uses NIO as an application would
        Path f = Files.writeString(dir.resolve("f"), "x");
        try (FileChannel ch = FileChannel.open(f); SocketChannel s = SocketChannel.open(); Selector sel = Selector.open()) {
            Pipe p = Pipe.open();
            p.sink().close();
            p.source().close();
            assertFalse(ch.getClass().getName().startsWith("dev.flexsc"), ch.getClass().getName());
            assertFalse(s.getClass().getName().startsWith("dev.flexsc"), s.getClass().getName());
            assertFalse(sel.getClass().getName().startsWith("dev.flexsc"), sel.getClass().getName());
        }
        assertFalse(SelectorProvider.provider() instanceof FlexscSelectorProvider, SelectorProvider.provider().toString());
        assertFalse(FileSystems.getDefault().provider() instanceof FlexscFileSystemProvider);
        assertFalse(FlexscProviders.selectorProviderActive());
        assertFalse(FlexscProviders.fileSystemProviderActive());
        FlexscProviders.Status st = FlexscProviders.status();
        assertFalse(st.selectorProviderActive(), st.toString());
        assertFalse(st.fileSystemProviderActive(), st.toString());
        assertEquals(0, st.fileChannels(), st.toString());
    }

    @Test
    void theJarDeclaresNoProviderService() throws Exception {
        // The JDK consults the service loader for a selector provider when the property is
        // absent, and installs file system providers from it: a declaration would replace or
        // add to the JDK's without any flag.
        for (Class<?> service : List.of(SelectorProvider.class, FileSystemProvider.class)) {
            List<URL> decls = Collections.list(ClassLoader.getSystemClassLoader().getResources("META-INF/services/" + service.getName()));
            for (URL u : decls) assertFalse(u.toString().contains("flexsc-io"), "flexsc-io declares " + service.getName() + ": " + u);
        }
        for (SelectorProvider p : ServiceLoader.load(SelectorProvider.class, ClassLoader.getSystemClassLoader())) {
            fail("a SelectorProvider service on the class path: " + p.getClass().getName());
        }
        for (FileSystemProvider p : FileSystemProvider.installedProviders()) {
            assertFalse(p.getClass().getName().startsWith("dev.flexsc"), p.getClass().getName());
        }
    }
}
