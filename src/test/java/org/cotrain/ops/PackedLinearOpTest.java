package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * packed_linear.h: weights packed in panels of 32 output columns, and the few-row product on them. The layout
 * element by element; the CPU product against float64 with every instruction-set build (row counts around the
 * 8-row and 2-row tiles, column counts around the 32-column panels, K of 1 to 1024); CUDA against the CPU.
 */
class PackedLinearOpTest {
    private static final double CPU_TOL = 1e-5;
    private static final double CUDA_TOL = 1e-5;

    /** {M, N, K} */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 32, 7}, {3, 33, 5}, {16, 768, 256}, {3, 1024, 256}, {16, 256, 1024}, {9, 70, 300},
        {2, 31, 64}, {17, 100, 13}, {64, 96, 40},
    };

    private static double[] reference(double[] a, double[] w, double[] bias, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = bias[j];
                for (int kk = 0; kk < k; kk++) {
                    acc += a[i * k + kk] * w[j * k + kk];
                }
                c[i * n + j] = acc;
            }
        }
        return c;
    }

    private static double[] rounded(double[] x) {
        return OpTesting.toDouble(OpTesting.toFloat(x));
    }

    private static float[] run(Backend backend, float[] a, float[] w, float[] bias, int m, int n, int k) {
        try (Tensor at = backend.of(a, m, k);
             Tensor wt = backend.of(w, n, k);
             Tensor bt = backend.of(bias, n);
             Tensor packed = Ops.packedWeight(wt);
             Tensor c = backend.empty(m, n)) {
            Ops.packPanels(wt, packed);
            Ops.packedLinear(at, packed, n, bt, c);
            return c.toFloatArray();
        }
    }

    @Test
    void packedPanelsHoldTheWeightColumnByColumn() {
        Backend cpu = OpTesting.cpu();
        int nTotal = 45;
        int row0 = 3;
        int rows = 40;
        int k = 7;
        float[] w = OpTesting.toFloat(OpTesting.randn(5, nTotal * k));
        int size = Math.toIntExact(CpuKernels.ct_packed_panels_size(rows, k));
        assertEquals(2 * 32 * k, size);
        assertEquals(size, Ops.packedPanelsSize(rows, k));
        try (Tensor wt = cpu.of(w, nTotal, k); Tensor packed = cpu.empty(size)) {
            cpu.packPanels(wt, packed, row0, rows, k);
            float[] got = packed.toFloatArray();
            for (int p = 0; p < 2; p++) {
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < 32; j++) {
                        int r = p * 32 + j;
                        float want = r < rows ? w[(row0 + r) * k + kk] : 0f;
                        assertEquals(want, got[(p * k + kk) * 32 + j], "panel " + p + ", k " + kk + ", column " + j);
                    }
                }
            }
        }
    }

    @Test
    void cpuMatchesFloat64WithEveryBuild() {
        Backend cpu = OpTesting.cpu();
        int detected = CpuKernels.ct_matmul_set_isa(-1);
        try {
            for (int[] s : SHAPES) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                double[] a = rounded(OpTesting.randn(1, m * k));
                double[] w = rounded(OpTesting.randn(2, n * k));
                double[] bias = rounded(OpTesting.randn(3, n));
                double[] expected = reference(a, w, bias, m, n, k);
                for (int level = detected; level >= 0; level--) {
                    assertEquals(level, CpuKernels.ct_matmul_set_isa(level));
                    OpTesting.assertClose("(" + m + ", " + n + ", " + k + ") at instruction level " + level,
                            run(cpu, OpTesting.toFloat(a), OpTesting.toFloat(w), OpTesting.toFloat(bias), m, n, k),
                            expected, CPU_TOL);
                }
                CpuKernels.ct_matmul_set_isa(-1);
            }
        } finally {
            CpuKernels.ct_matmul_set_isa(-1);
        }
    }

    @Test
    void badShapesAreErrorsNamingTheShape() {
        Backend cpu = OpTesting.cpu();
        try (Tensor a = cpu.zeros(3, 8);
             Tensor w = cpu.zeros(5, 8);
             Tensor wrongK = cpu.zeros(5, 9);
             Tensor bias = cpu.zeros(5);
             Tensor c = cpu.zeros(3, 5);
             Tensor wideC = cpu.zeros(3, 6);
             Tensor packed = Ops.packedWeight(w)) {
            Ops.packPanels(w, packed);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.packPanels(wrongK, packed));
            assertTrue(e.getMessage().contains("packed"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.packedLinear(a, packed, 5, bias, wideC));
            assertTrue(e.getMessage().contains("(3, 6)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.packedLinear(a, packed, 40, bias, c)); // 40 columns need two panels
            assertTrue(e.getMessage().contains("packed weight"), e.getMessage());
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            float[] a = OpTesting.toFloat(OpTesting.randn(4, m * k));
            float[] w = OpTesting.toFloat(OpTesting.randn(5, n * k));
            float[] bias = OpTesting.toFloat(OpTesting.randn(6, n));
            OpTesting.assertClose("(" + m + ", " + n + ", " + k + ") CUDA against CPU", run(cuda, a, w, bias, m, n, k),
                    run(cpu, a, w, bias, m, n, k), CUDA_TOL);
        }
    }
}
