package dev.flexsc.nativeimpl.fuzz;

import dev.flexsc.Engine;
import dev.flexsc.nativeimpl.TestSupport;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The fuzzer's lifecycle: a property marked {@link OnEngine} is skipped, with the reason
 * printed, where that engine cannot run; its tries and seed come from system properties.
 *
 * <ul>
 * <li>{@code -Dflexsc.fuzz.tries=N}: tries of each differential property (default 300, the
 *     short run of {@code ./flexsc test}); the interrupt-and-close properties run N/8.</li>
 * <li>{@code -Dflexsc.fuzz.seed=S}: the seed (default a fixed one, so the short run is the
 *     same every time; {@code random} for a new one each run). A failing run prints its seed
 *     and the shrunk sample; {@code -Dflexsc.fuzz.seed=} that seed replays it.</li>
 * </ul>
 */
public final class FuzzSetup implements SkipExecutionHook, AroundPropertyHook {
    /** The engine a property runs against. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    public @interface OnEngine {
        Engine value();

        /** Tries relative to -Dflexsc.fuzz.tries: the value divides it. */
        int triesDivisor() default 1;
    }

    static final int DEFAULT_TRIES = 300;
    static final String DEFAULT_SEED = "20261207";

    /** Registered on the test class, it applies to each of its properties. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        return context.findAnnotation(OnEngine.class).map(on -> {
            String why = TestSupport.unavailabilityCause(on.value());
            if (why == null) return SkipResult.doNotSkip();
            System.out.println("skipped: fuzzer on " + on.value() + ": " + why);
            return SkipResult.skip(on.value() + " unavailable: " + why);
        }).orElse(SkipResult.doNotSkip());
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        int divisor = context.findAnnotation(OnEngine.class).map(OnEngine::triesDivisor).orElse(1);
        int tries = Integer.getInteger("flexsc.fuzz.tries", DEFAULT_TRIES);
        context.attributes().setTries(Math.max(10, tries / divisor));
        String seed = System.getProperty("flexsc.fuzz.seed", DEFAULT_SEED).trim();
        if (!seed.isEmpty() && !seed.equals("random")) context.attributes().setSeed(seed);
        long t0 = System.nanoTime();
        PropertyExecutionResult r = property.execute();
        System.out.printf("fuzz %s: %s in %.1f s (seed %s)%n", context.label(), r.status(),
                (System.nanoTime() - t0) / 1e9, r.seed().orElse("?"));
        return r;
    }
}
