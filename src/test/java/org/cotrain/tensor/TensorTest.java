package org.cotrain.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Pointer;
import org.cotrain.backend.Backends;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.junit.jupiter.api.Test;

class TensorTest {
    private final Backend cpu = Backends.cpu();

    @Test
    void roundTripsValuesAndReportsShape() {
        try (Tensor t = cpu.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            assertArrayEquals(new int[] {2, 3}, t.shape());
            assertEquals(6, t.numel());
            assertEquals(3, t.dim(-1));
            assertEquals("(2, 3)", t.shapeString());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
        }
        try (Tensor t = cpu.of(new int[] {7, -1}, 2)) {
            assertEquals(DType.I32, t.dtype());
            assertArrayEquals(new int[] {7, -1}, t.toIntArray());
            assertEquals("(2,)", t.shapeString());
        }
    }

    @Test
    void zerosAreZero() {
        try (Tensor t = cpu.zeros(3, 5, 7)) {
            for (float v : t.toFloatArray()) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void useAfterCloseThrowsInsteadOfCrashing() {
        Tensor t = cpu.zeros(4);
        Tensor view = t.view(2, 2);
        t.close();
        t.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);
        assertTrue(e.getMessage().contains("after close"), e.getMessage());
        assertThrows(IllegalStateException.class, view::data);
        try (Tensor y = cpu.zeros(4)) {
            assertThrows(IllegalStateException.class, () -> Ops.geluForward(t, y));
        }
    }

    @Test
    void viewSharesStorageAndChecksSize() {
        try (Tensor t = cpu.of(new float[] {1, 2, 3, 4, 5, 6}, 6)) {
            Tensor v = t.view(3, 2);
            assertArrayEquals(t.toFloatArray(), v.toFloatArray());
            v.close(); // a view does not own its storage
            assertEquals(6, t.toFloatArray().length);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.view(4, 2));
            assertTrue(e.getMessage().contains("(6,)") && e.getMessage().contains("(4, 2)"), e.getMessage());
        }
    }

    @Test
    void wrongLengthAndTypeAreClearErrors() {
        try (Tensor t = cpu.zeros(2, 2)) {
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[3]));
            assertThrows(IllegalArgumentException.class, t::toIntArray);
        }
        assertThrows(IllegalArgumentException.class, () -> cpu.zeros(2, -1));
    }

    @Test
    void shapeMismatchNamesBothShapes() {
        try (Tensor x = cpu.zeros(2, 3); Tensor y = cpu.zeros(3, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.geluForward(x, y));
            assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(3, 2)"), e.getMessage());
        }
    }

    /** Native memory comes back: a loop that allocates and frees tensors ends where it started. */
    @Test
    void nativeMemoryReturnsToBaseline() {
        long backendBaseline = cpu.liveBytes();
        long javacppBaseline = Pointer.totalBytes();
        for (int i = 0; i < 200; i++) {
            try (Tensor a = cpu.zeros(64, 256); Tensor b = cpu.empty(DType.I32, 1000); Tensor c = cpu.zeros(3)) {
                assertTrue(cpu.liveBytes() >= backendBaseline + a.bytes() + b.bytes() + c.bytes());
                Ops.fill(a, 1f);
            }
        }
        assertEquals(backendBaseline, cpu.liveBytes(), "bytes held by the CPU backend");
        assertEquals(javacppBaseline, Pointer.totalBytes(), "bytes allocated through JavaCPP");
    }
}
