package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvConfigTest {

    @Test
    void everyPresetIsValidAndRoundTripsThroughJson() {
        List<String> names = EnvPresets.names();
        assertEquals(2 + 3 * 4, names.size());
        for (String name : names) {
            EnvConfig c = EnvPresets.get(name);
            assertEquals(name, c.name());
            EnvConfig back = EnvConfig.fromJson(c.toJson(), "test");
            assertEquals(name, back.name());
            assertSameValues(c, back);
        }
    }

    @Test
    void targetAndSourceDifferInPhysicsModelAndExpert() {
        EnvConfig target = EnvPresets.get("target"), source = EnvPresets.get("source");
        assertEquals(PhysicsParams.DYNAMIC, target.physics().model());
        assertEquals(PhysicsParams.QUASI_STATIC, source.physics().model());
        assertEquals("target", target.expert());
        assertEquals("source", source.expert());
        assertEquals(new Pose(256, 256, Math.PI / 4).theta(), target.goal().theta(), 1e-12);
        // Level 0 of every shift is the source environment itself.
        for (String shift : EnvPresets.SHIFTS) assertSameValues(source, EnvPresets.get("source-" + shift + "-0"));
    }

    @Test
    void shiftsGrowWithTheLevel() {
        double previous = -1;
        for (int level = 0; level < 4; level++) {
            double com = EnvPresets.get("source-physics-" + level).physics().comOffset();
            assertTrue(com > previous, "com offset grows: " + com);
            previous = com;
        }
        assertEquals("ell", EnvPresets.get("source-task-3").shape().name());
        assertNotEquals(EnvPresets.get("source").goal(), EnvPresets.get("source-task-2").goal());
        assertTrue(EnvPresets.get("source-visual-3").number("render.color_randomization")
                > EnvPresets.get("source-visual-2").number("render.color_randomization"));
    }

    @Test
    void overridesAreTypedAndUnknownKeysSuggestTheClosest() {
        EnvConfig c = EnvPresets.get("target").withOverrides(List.of("physics.com_offset=12.5",
                "render.block_color=[1,2,3]", "shape=plus"));
        assertEquals(12.5, c.physics().comOffset());
        assertArrayEquals(new int[] {1, 2, 3}, c.color("render.block_color"));
        assertEquals("plus", c.shape().name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EnvPresets.get("target").withOverrides(List.of("physics.com_ofset=3")));
        assertTrue(e.getMessage().contains("physics.com_ofset") && e.getMessage().contains("physics.com_offset"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> EnvPresets.get("target").withOverrides(List.of("physics.kp=fast")));
        assertTrue(e.getMessage().contains("physics.kp=fast"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> EnvPresets.get("target").withOverrides(List.of("physics.model=rigid")));
        assertTrue(e.getMessage().contains("rigid"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EnvPresets.get("source-visual-7"));
        assertTrue(e.getMessage().contains("source-visual-7"), e.getMessage());
    }

    private static void assertSameValues(EnvConfig a, EnvConfig b) {
        assertEquals(a.values().keySet(), b.values().keySet());
        for (Map.Entry<String, Object> e : a.values().entrySet()) {
            Object v = b.values().get(e.getKey());
            if (e.getValue() instanceof int[] rgb) {
                assertArrayEquals(rgb, (int[]) v, e.getKey());
            } else {
                assertEquals(e.getValue(), v, e.getKey());
            }
        }
    }
}
