package dev.flexsc.threads;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/**
 * The {@code Executors} surface of one class, {@link Executors} or {@link FlexscExecutors},
 * called by its static methods' names, so one test body runs against both and any difference
 * shows as a failure of one of the two parameters. (FlexscExecutorsSurfaceTest checks that
 * the two classes have the same methods.)
 */
record ExecutorsApi(Class<?> type) {
    static final ExecutorsApi JDK = new ExecutorsApi(Executors.class);
    static final ExecutorsApi FLEXSC = new ExecutorsApi(FlexscExecutors.class);

    static List<ExecutorsApi> both() {
        return List.of(JDK, FLEXSC);
    }

    boolean isFlexsc() {
        return this == FLEXSC;
    }

    @Override
    public String toString() {
        return type.getSimpleName();
    }

    /** Calls {@code type.name(args)}; what the method throws is thrown as is. */
    @SuppressWarnings("unchecked")
    <T> T call(String name, Class<?>[] params, Object... args) {
        Method m;
        try {
            m = type.getMethod(name, params);
        } catch (NoSuchMethodException e) {
            throw new AssertionError(type.getName() + " lacks " + name, e);
        }
        try {
            return (T) m.invoke(null, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new AssertionError(e.getCause());
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    private static final Class<?>[] NONE = {}, INT = {int.class}, FACTORY = {ThreadFactory.class},
            INT_FACTORY = {int.class, ThreadFactory.class};

    ExecutorService newFixedThreadPool(int n) {
        return call("newFixedThreadPool", INT, n);
    }

    ExecutorService newFixedThreadPool(int n, ThreadFactory f) {
        return call("newFixedThreadPool", INT_FACTORY, n, f);
    }

    ExecutorService newCachedThreadPool() {
        return call("newCachedThreadPool", NONE);
    }

    ExecutorService newCachedThreadPool(ThreadFactory f) {
        return call("newCachedThreadPool", FACTORY, f);
    }

    ExecutorService newSingleThreadExecutor() {
        return call("newSingleThreadExecutor", NONE);
    }

    ExecutorService newSingleThreadExecutor(ThreadFactory f) {
        return call("newSingleThreadExecutor", FACTORY, f);
    }

    ScheduledExecutorService newScheduledThreadPool(int n) {
        return call("newScheduledThreadPool", INT, n);
    }

    ScheduledExecutorService newScheduledThreadPool(int n, ThreadFactory f) {
        return call("newScheduledThreadPool", INT_FACTORY, n, f);
    }

    ScheduledExecutorService newSingleThreadScheduledExecutor() {
        return call("newSingleThreadScheduledExecutor", NONE);
    }

    ScheduledExecutorService newSingleThreadScheduledExecutor(ThreadFactory f) {
        return call("newSingleThreadScheduledExecutor", FACTORY, f);
    }

    ExecutorService newWorkStealingPool(int n) {
        return call("newWorkStealingPool", INT, n);
    }

    ExecutorService newWorkStealingPool() {
        return call("newWorkStealingPool", NONE);
    }

    ExecutorService newVirtualThreadPerTaskExecutor() {
        return call("newVirtualThreadPerTaskExecutor", NONE);
    }

    ExecutorService newThreadPerTaskExecutor(ThreadFactory f) {
        return call("newThreadPerTaskExecutor", FACTORY, f);
    }

    ExecutorService unconfigurableExecutorService(ExecutorService e) {
        return call("unconfigurableExecutorService", new Class<?>[] {ExecutorService.class}, e);
    }

    ScheduledExecutorService unconfigurableScheduledExecutorService(ScheduledExecutorService e) {
        return call("unconfigurableScheduledExecutorService", new Class<?>[] {ScheduledExecutorService.class}, e);
    }

    ThreadFactory defaultThreadFactory() {
        return call("defaultThreadFactory", NONE);
    }

    ThreadFactory privilegedThreadFactory() {
        return call("privilegedThreadFactory", NONE);
    }

    <T> Callable<T> callable(Runnable task, T result) {
        return call("callable", new Class<?>[] {Runnable.class, Object.class}, task, result);
    }

    /** {@code callable(x)}, the overload taking {@code kind}. */
    Callable<Object> callableOf(Object taskOrAction, Class<?> kind) {
        return call("callable", new Class<?>[] {kind}, taskOrAction);
    }

    <T> Callable<T> privilegedCallable(Callable<T> c) {
        return call("privilegedCallable", new Class<?>[] {Callable.class}, c);
    }

    <T> Callable<T> privilegedCallableUsingCurrentClassLoader(Callable<T> c) {
        return call("privilegedCallableUsingCurrentClassLoader", new Class<?>[] {Callable.class}, c);
    }

    /** An executor made by one factory of this API, named for the test report. */
    record Kind(String name, Function<ExecutorsApi, ExecutorService> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** One executor of each kind the factories make (pools, per-task, wrappers). */
    static List<Kind> kinds() {
        return List.of(
                new Kind("fixed(2)", a -> a.newFixedThreadPool(2)),
                new Kind("cached", ExecutorsApi::newCachedThreadPool),
                new Kind("single", ExecutorsApi::newSingleThreadExecutor),
                new Kind("scheduled(2)", a -> a.newScheduledThreadPool(2)),
                new Kind("singleScheduled", ExecutorsApi::newSingleThreadScheduledExecutor),
                new Kind("workStealing(2)", a -> a.newWorkStealingPool(2)),
                new Kind("virtualPerTask", ExecutorsApi::newVirtualThreadPerTaskExecutor),
                new Kind("threadPerTask(defaultThreadFactory)", a -> a.newThreadPerTaskExecutor(a.defaultThreadFactory())),
                new Kind("unconfigurable(fixed(2))", a -> a.unconfigurableExecutorService(a.newFixedThreadPool(2))),
                new Kind("unconfigurableScheduled(scheduled(2))",
                        a -> a.unconfigurableScheduledExecutorService(a.newScheduledThreadPool(2))));
    }
}
