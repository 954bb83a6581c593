package org.cotrain.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** cotrain.guidance: the presets' values are off, the keys read back, and bad values name their key. */
class GuidanceConfigTest {
    private static final String TWO = "task.dataset.path=[r.hdf5, s.hdf5]";

    private static GuidanceConfig read(String preset, String... overrides) {
        return Config.load(preset).withOverrides(overrides).toTrainConfig().cotrain().guidance();
    }

    private static String error(String preset, String... overrides) {
        Config c = Config.load(preset).withOverrides(overrides);
        return assertThrows(ConfigException.class, c::toTrainConfig).getMessage();
    }

    @Test
    void everyPresetHasTheKeysAtValuesThatChangeNothing() {
        for (String name : Presets.NAMES) {
            GuidanceConfig g = read(name);
            assertEquals(GuidanceConfig.OFF, g, name);
            assertFalse(g.trainsNullCondition(), name);
            assertFalse(g.observedFlag(), name);
        }
    }

    @Test
    void readsTheKeys() {
        GuidanceConfig g = read(Presets.SMALL_CPU, TWO, "cotrain.guidance.action_only=[false, true]",
                "cotrain.guidance.weight=2.5", "cotrain.guidance.null_condition=zeros");
        assertEquals(List.of(false, true), g.actionOnly());
        assertTrue(g.actionOnly(1) && !g.actionOnly(0));
        assertTrue(g.trainsNullCondition()); // p_uncond 0 is fine: the action-only windows train the null branch
        assertFalse(g.observedFlag());      // zeros: no flag column
        assertEquals(2.5, g.weight());
        GuidanceConfig learned = read(Presets.SMALL_CPU_UNET, "cotrain.guidance.p_uncond=0.1");
        assertTrue(learned.observedFlag());
        GuidanceConfig domain = read(Presets.SMALL_CPU, TWO, "cotrain.domain_conditioning=true",
                "cotrain.guidance.mode=domain", "cotrain.guidance.weight=1.5");
        assertEquals(GuidanceConfig.Mode.DOMAIN, domain.mode());
        assertFalse(domain.observedFlag());
    }

    @Test
    void badValuesNameTheKey() {
        String p = Presets.SMALL_CPU;
        assertEquals("cotrain.guidance.weight must be a number >= 0, got -1 (override cotrain.guidance.weight=-1)",
                error(p, "cotrain.guidance.weight=-1"));
        assertEquals("cotrain.guidance.p_uncond must be a number in [0, 1), got 1 (override"
                + " cotrain.guidance.p_uncond=1)", error(p, "cotrain.guidance.p_uncond=1"));
        assertEquals("cotrain.guidance.null_condition must be one of learned, zeros, got 'mean' (override"
                + " cotrain.guidance.null_condition=mean)", error(p, "cotrain.guidance.null_condition=mean"));
        assertEquals("cotrain.guidance.mode must be one of observation, domain, got 'image' (override"
                + " cotrain.guidance.mode=image)", error(p, "cotrain.guidance.mode=image"));
        String untrained = error(p, "cotrain.guidance.weight=2");
        assertTrue(untrained.startsWith("cotrain.guidance.weight must be 1.0 when nothing trains the null condition"),
                untrained);
        assertTrue(error(p, TWO, "cotrain.guidance.action_only=[true]").startsWith(
                "cotrain.guidance.action_only must be null or a list of one true/false per file of task.dataset.path"
                        + " (2)"));
        assertTrue(error(p, TWO, "cotrain.guidance.action_only=[true, true]").startsWith(
                "cotrain.guidance.action_only must be a list with at least one dataset with observations"));
        assertTrue(error(p, "cotrain.guidance.mode=domain").startsWith("cotrain.guidance.mode must be observation"
                + " unless cotrain.domain_conditioning is true"));
        assertTrue(error(p, TWO, "cotrain.domain_conditioning=true", "cotrain.guidance.mode=domain",
                "cotrain.guidance.p_uncond=0.2").startsWith("cotrain.guidance.p_uncond must be 0.0 with mode domain"));
        for (String key : List.of("cotrain.guidance.p_uncond=0.2", "cotrain.guidance.weight=2")) {
            String image = error(Presets.SMALL_CPU_IMAGE, key);
            assertTrue(image.startsWith(key.substring(0, key.indexOf('=')) + ": classifier-free guidance is for"
                    + " low-dim policies only for now"), image);
        }
        assertTrue(error(Presets.SMALL_CPU_IMAGE, TWO, "cotrain.guidance.action_only=[false, true]")
                .startsWith("cotrain.guidance.action_only: classifier-free guidance is for low-dim"));
    }
}
