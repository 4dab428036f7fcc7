/** The JDK I/O types (channels, sockets, files) with their system calls run by a FlexSC engine. */
module dev.flexsc.io {
    requires transitive dev.flexsc;
    requires dev.flexsc.nativeimpl;
    requires org.jctools.core.jdk11;

    exports dev.flexsc.io;
}
