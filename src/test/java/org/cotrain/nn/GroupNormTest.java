package org.cotrain.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** GroupNorm's two forwards (plain, and fused with the Mish after it) each take their own backward. */
class GroupNormTest {

    @Test
    void backwardMustMatchItsForward() {
        Backend cpu = OpTesting.cpu();
        try (GroupNorm gn = new GroupNorm(cpu, "block.1", 2, 4); Tensor x = cpu.zeros(3, 4, 5);
             Tensor dy = cpu.zeros(3, 4, 5); Tensor dx = cpu.zeros(3, 4, 5)) {
            assertThrows(IllegalStateException.class, () -> gn.backwardMish(dy, dx), "before any forward");
            gn.forward(x);
            assertThrows(IllegalStateException.class, () -> gn.backwardMish(dy, dx));
            gn.backward(dy, dx);
            gn.forwardMish(x);
            assertThrows(IllegalStateException.class, () -> gn.backward(dy, dx));
            gn.backwardMish(dy, dx);
        }
    }
}
