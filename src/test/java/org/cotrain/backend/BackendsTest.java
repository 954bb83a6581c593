package org.cotrain.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Device;
import org.junit.jupiter.api.Test;

class BackendsTest {

    @Test
    void cpuIsAlwaysThere() {
        Backend cpu = Backends.cpu();
        assertEquals(Device.CPU, cpu.device());
        assertTrue(cpu.description().startsWith("cpu: "), cpu.description());
        assertSame(cpu, Backends.cpu());
    }

    @Test
    void cudaProbeGivesAReasonWhenUnusable() {
        if (Backends.cuda().isPresent()) {
            assertEquals(Device.CUDA, Backends.cuda().get().device());
            return;
        }
        String reason = Backends.cudaUnavailableReason();
        assertNotNull(reason);
        assertFalse(reason.isBlank());
        assertFalse(reason.contains("\n"), "one line: " + reason);
        System.out.println("CUDA unavailable here: " + reason);
    }

    @Test
    void forcedChoiceIsHonouredOrExplained() {
        String old = System.getProperty("cotrain.backend");
        try {
            System.setProperty("cotrain.backend", "cpu");
            assertSame(Backends.cpu(), Backends.select());
            System.setProperty("cotrain.backend", "tpu");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, Backends::select);
            assertTrue(bad.getMessage().contains("tpu"), bad.getMessage());
            System.setProperty("cotrain.backend", "cuda");
            if (Backends.cuda().isEmpty()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, Backends::select);
                assertTrue(e.getMessage().contains("COTRAIN_BACKEND=cuda"), e.getMessage());
            } else {
                assertEquals(Device.CUDA, Backends.select().device());
            }
        } finally {
            if (old == null) {
                System.clearProperty("cotrain.backend");
            } else {
                System.setProperty("cotrain.backend", old);
            }
        }
    }
}
