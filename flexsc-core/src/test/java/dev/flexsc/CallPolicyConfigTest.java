package dev.flexsc;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The policy field of FlexscConfig: default, builder, toBuilder, and the flexsc.policy property. */
class CallPolicyConfigTest {
    @Test
    void defaultIsAdaptiveAndTheBuilderKeepsTheChoice() {
        assertEquals(CallPolicy.ADAPTIVE, FlexscConfig.defaults().policy());
        FlexscConfig c = FlexscConfig.builder().policy(CallPolicy.DIRECT).build();
        assertEquals(CallPolicy.DIRECT, c.policy());
        assertEquals(CallPolicy.DIRECT, c.toBuilder().build().policy());
        assertTrue(c.toString().contains("policy=DIRECT"), c::toString);
        assertThrows(NullPointerException.class, () -> FlexscConfig.builder().policy(null));
    }

    @Test
    void systemPropertyParsesAnyCaseAndRejectsOthersByName() {
        String old = System.getProperty("flexsc.policy");
        try {
            System.setProperty("flexsc.policy", " exceptionLess ");
            assertEquals(CallPolicy.EXCEPTIONLESS, FlexscConfig.fromSystemProperties().policy());
            System.setProperty("flexsc.policy", "direct");
            assertEquals(CallPolicy.DIRECT, FlexscConfig.fromSystemProperties().policy());
            System.setProperty("flexsc.policy", "sometimes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, FlexscConfig::fromSystemProperties);
            assertTrue(e.getMessage().contains("flexsc.policy=sometimes"), e.getMessage());
            assertTrue(e.getMessage().contains("ADAPTIVE"), e.getMessage());
            System.clearProperty("flexsc.policy");
            assertEquals(CallPolicy.ADAPTIVE, FlexscConfig.fromSystemProperties().policy());
        } finally {
            if (old == null) System.clearProperty("flexsc.policy");
            else System.setProperty("flexsc.policy", old);
        }
    }
}
