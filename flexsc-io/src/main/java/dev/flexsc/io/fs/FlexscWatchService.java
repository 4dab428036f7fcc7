package dev.flexsc.io.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.Watchable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The JDK's watch service of the default file system (inotify), with wrapped paths: a key's
 * {@link WatchKey#watchable()} is the {@link FlexscPath} that was registered and an event's
 * context a wrapped relative path. Each JDK key has one wrapper, so the key a registration
 * returns is the key {@link #take()} returns (applications map keys to directories).
 */
final class FlexscWatchService implements WatchService {
    private final FlexscFileSystem fs;
    private final WatchService delegate;
    /** JDK key to its wrapper; an entry goes once its key is no longer valid. */
    private final Map<WatchKey, Key> keys = new ConcurrentHashMap<>();

    FlexscWatchService(FlexscFileSystem fs, WatchService delegate) {
        this.fs = fs;
        this.delegate = delegate;
    }

    WatchKey register(FlexscPath dir, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) throws IOException {
        WatchKey k = dir.delegate.register(delegate, events, modifiers);
        return keys.computeIfAbsent(k, x -> new Key(x, dir));
    }

    private WatchKey wrap(WatchKey k) {
        if (k == null) return null;
        Key w = keys.computeIfAbsent(k, x -> new Key(x, fs.wrap((Path) x.watchable())));
        if (!k.isValid()) keys.remove(k);
        return w;
    }

    @Override
    public WatchKey poll() {
        return wrap(delegate.poll());
    }

    @Override
    public WatchKey poll(long timeout, TimeUnit unit) throws InterruptedException {
        return wrap(delegate.poll(timeout, unit));
    }

    @Override
    public WatchKey take() throws InterruptedException {
        return wrap(delegate.take());
    }

    @Override
    public void close() throws IOException {
        delegate.close();
        keys.clear();
    }

    /** A JDK key with the wrapped path it watches. */
    private final class Key implements WatchKey {
        private final WatchKey k;
        private final Path dir;

        Key(WatchKey k, Path dir) {
            this.k = k;
            this.dir = dir;
        }

        @Override
        public boolean isValid() {
            return k.isValid();
        }

        @Override
        public List<WatchEvent<?>> pollEvents() {
            List<WatchEvent<?>> out = new ArrayList<>();
            for (WatchEvent<?> e : k.pollEvents()) {
                out.add(e.context() instanceof Path p ? new Event<>(e, fs.wrap(p)) : e);
            }
            return out;
        }

        @Override
        public boolean reset() {
            return k.reset();
        }

        @Override
        public void cancel() {
            k.cancel();
            keys.remove(k);
        }

        @Override
        public Watchable watchable() {
            return dir;
        }

        @Override
        public String toString() {
            return k.toString();
        }
    }

    /** An event whose context is a wrapped path. */
    private record Event<T>(WatchEvent<T> e, Object context0) implements WatchEvent<T> {
        @Override
        public Kind<T> kind() {
            return e.kind();
        }

        @Override
        public int count() {
            return e.count();
        }

        @Override
        @SuppressWarnings("unchecked")
        public T context() {
            return (T) context0;
        }
    }
}
