package dev.flexsc.threads;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link FlexscExecutors} is the whole {@link Executors} surface: replacing {@code Executors.}
 * by {@code FlexscExecutors.} in any source compiles. Every public static method of the JDK's
 * class (of the JDK running the test) has a twin with the same name, parameter types, generic
 * return type, type parameters and deprecation; FlexSC adds only {@link #EXTRAS}.
 */
class FlexscExecutorsSurfaceTest {
    /** FlexscExecutors' own additions. */
    private static final Set<String> EXTRAS = Set.of("threadFactory");

    private static List<Method> publicStatics(Class<?> c) {
        List<Method> ms = new ArrayList<>();
        for (Method m : c.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers())) ms.add(m);
        }
        return ms;
    }

    private static String deprecation(Method m) {
        Deprecated d = m.getAnnotation(Deprecated.class);
        return d == null ? "not deprecated" : "@Deprecated(since=" + d.since() + ", forRemoval=" + d.forRemoval() + ")";
    }

    @Test
    void everyExecutorsMethodHasATwinWithTheSameSignature() {
        List<String> problems = new ArrayList<>();
        List<Method> jdk = publicStatics(Executors.class);
        for (Method m : jdk) {
            Method twin;
            try {
                twin = FlexscExecutors.class.getMethod(m.getName(), m.getParameterTypes());
            } catch (NoSuchMethodException e) {
                problems.add("missing: " + m.toGenericString());
                continue;
            }
            if (!Modifier.isStatic(twin.getModifiers())) problems.add("not static: " + twin);
            if (!twin.getGenericReturnType().getTypeName().equals(m.getGenericReturnType().getTypeName())) {
                problems.add(m.getName() + ": returns " + twin.getGenericReturnType() + ", JDK " + m.getGenericReturnType());
            }
            if (!Arrays.toString(twin.getGenericParameterTypes()).equals(Arrays.toString(m.getGenericParameterTypes()))
                    || !Arrays.toString(twin.getTypeParameters()).equals(Arrays.toString(m.getTypeParameters()))) {
                problems.add(m.getName() + ": generic signature " + twin.toGenericString() + ", JDK " + m.toGenericString());
            }
            if (!Objects.equals(deprecation(twin), deprecation(m))) {
                problems.add(m.getName() + ": " + deprecation(twin) + ", JDK " + deprecation(m));
            }
        }
        for (Method m : publicStatics(FlexscExecutors.class)) {
            boolean isTwin = jdk.stream().anyMatch(j -> j.getName().equals(m.getName())
                    && Arrays.equals(j.getParameterTypes(), m.getParameterTypes()));
            if (!isTwin && !EXTRAS.contains(m.getName())) problems.add("no JDK counterpart: " + m.toGenericString());
        }
        assertEquals(List.of(), problems);
        assertTrue(jdk.size() >= 24, "JDK 25's Executors has 24 public static methods, found " + jdk.size());
    }
}
