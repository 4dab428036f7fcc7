/** The JDK I/O types (channels, sockets, files) with their system calls run by a FlexSC engine. */
module dev.flexsc.io {
    requires transitive dev.flexsc;
    requires java.management;
    requires dev.flexsc.nativeimpl;
    requires org.jctools.core.jdk11;

    exports dev.flexsc.io;
    // the JDK makes the default file system's provider from its name: the class must be public and exported
    exports dev.flexsc.io.fs;
}
