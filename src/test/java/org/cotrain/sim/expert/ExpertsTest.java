package org.cotrain.sim.expert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.Policy;
import org.junit.jupiter.api.Test;

class ExpertsTest {

    @Test
    void picksTheEnvironmentsExpert() {
        Policy t = Experts.create(EnvPresets.get("target"));
        Policy s = Experts.create(EnvPresets.get("source-physics-2"));
        assertEquals("target", ((ScriptedExpert) t).style().name());
        assertEquals("source", ((ScriptedExpert) s).style().name());
        assertEquals(2, t.historyLength());
        // Either style can act in either environment.
        assertEquals("target", ((ScriptedExpert) Experts.create("target", EnvPresets.get("source"))).style().name());
    }

    @Test
    void badInputNamesTheParameter() {
        var e = assertThrows(IllegalArgumentException.class, () -> Experts.create("human", EnvPresets.get("target")));
        assertTrue(e.getMessage().contains("human") && e.getMessage().contains("target, source"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ScriptedExpert(null, ExpertStyle.target()));
        var h = assertThrows(IllegalArgumentException.class,
                () -> Experts.create(EnvPresets.get("target")).act(java.util.List.of()));
        assertTrue(h.getMessage().contains("history"), h.getMessage());
    }
}
