/**
 * The M:N scheduler: FlexSC green threads (JDK virtual threads on FlexSC carriers). It builds
 * virtual threads with a custom scheduler through {@code java.lang} internals, so a module-path
 * launch needs {@code --add-opens java.base/java.lang=dev.flexsc.threads} (the class-path
 * launch: {@code =ALL-UNNAMED}).
 */
module dev.flexsc.threads {
    requires transitive dev.flexsc;
    requires dev.flexsc.nativeimpl;
    requires org.jctools.core.jdk11;
    requires java.management;

    exports dev.flexsc.threads;
}
