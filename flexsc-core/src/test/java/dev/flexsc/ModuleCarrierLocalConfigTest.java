package dev.flexsc;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** FlexscConfig.moduleCarrierLocal: default, builder, toBuilder, and the flexsc.moduleCarrierLocal property. */
class ModuleCarrierLocalConfigTest {
    @Test
    void carrierLocalByDefaultAndKeptByToBuilder() {
        assertTrue(FlexscConfig.defaults().moduleCarrierLocal());
        FlexscConfig multiCore = FlexscConfig.builder().moduleCarrierLocal(false).build();
        assertFalse(multiCore.moduleCarrierLocal());
        assertFalse(multiCore.toBuilder().build().moduleCarrierLocal());
    }

    @Test
    void thePropertyParsesTrueAndFalseAndRefusesTheRest() {
        String old = System.getProperty("flexsc.moduleCarrierLocal");
        try {
            System.setProperty("flexsc.moduleCarrierLocal", " FALSE ");
            assertFalse(FlexscConfig.fromSystemProperties().moduleCarrierLocal());
            System.setProperty("flexsc.moduleCarrierLocal", "true");
            assertTrue(FlexscConfig.fromSystemProperties().moduleCarrierLocal());
            System.setProperty("flexsc.moduleCarrierLocal", "yes");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, FlexscConfig::fromSystemProperties);
            assertTrue(e.getMessage().contains("flexsc.moduleCarrierLocal=yes"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty("flexsc.moduleCarrierLocal");
            else System.setProperty("flexsc.moduleCarrierLocal", old);
        }
    }
}
