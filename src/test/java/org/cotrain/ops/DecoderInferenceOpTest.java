package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.nn.DropoutSites;
import org.cotrain.nn.Parameter;
import org.cotrain.nn.TransformerDecoderLayer;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * decoder_inference.h: one pre-norm decoder layer's evaluation forward in one call, with its weights packed in
 * panels. The CPU version against a float64 layer written out below (every instruction-set build of the products),
 * against the composed layer (nn/TransformerDecoderLayer.forward), and across thread counts; the CUDA version
 * against the CPU one.
 */
class DecoderInferenceOpTest {
    private static final double CPU_TOL = 2e-5;
    private static final double CUDA_TOL = 1e-4;

    /**
     * One layer and its inputs. c not a multiple of the 32-column panels and rows not a multiple of the 8-row tiles
     * among them; the first is DP-T's layer at batch 1 (16 action tokens, step + 2 observation tokens, DP's memory mask).
     */
    private record Case(String name, int b, int t, int s, int c, int nh, boolean causal, boolean mask) { }

    private static final Case[] CASES = {
        new Case("DP-T batch 1", 1, 16, 3, 256, 4, true, true),
        new Case("odd widths", 3, 5, 2, 40, 5, false, true),
        new Case("one memory token", 2, 7, 1, 24, 3, true, false),
        new Case("one head, long memory", 1, 3, 9, 33, 1, false, false),
    };

    // ---- float64 reference ----------------------------------------------------------------------------------------

    /** (rows, C) layer norm with weight w and bias b, biased variance, eps 1e-5 inside the root. */
    private static double[] norm(double[] x, int rows, int c, double[] w, double[] b) {
        double[] y = new double[rows * c];
        for (int r = 0; r < rows; r++) {
            double m = 0;
            for (int i = 0; i < c; i++) {
                m += x[r * c + i] / c;
            }
            double v = 0;
            for (int i = 0; i < c; i++) {
                v += (x[r * c + i] - m) * (x[r * c + i] - m) / c;
            }
            double s = 1 / Math.sqrt(v + 1e-5);
            for (int i = 0; i < c; i++) {
                y[r * c + i] = (x[r * c + i] - m) * s * w[i] + b[i];
            }
        }
        return y;
    }

    /** a (rows, K) times rows [row0, row0 + n) of w (*, K), transposed, plus bias[row0 ..]: (rows, n). */
    private static double[] linear(double[] a, int rows, int k, double[] w, double[] bias, int row0, int n) {
        double[] y = new double[rows * n];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                double acc = bias[row0 + j];
                for (int i = 0; i < k; i++) {
                    acc += a[r * k + i] * w[(row0 + j) * k + i];
                }
                y[r * n + j] = acc;
            }
        }
        return y;
    }

    /** Multi-head attention of q (B T, C) over k, v (B S, C): (B T, C); mask additive (T, S) or null. */
    private static double[] attention(double[] q, double[] k, double[] v, int b, int t, int s, int c, int nh,
                                      boolean causal, double[] mask) {
        int hs = c / nh;
        double[] out = new double[b * t * c];
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < t; i++) {
                    double[] score = new double[s];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < s; j++) {
                        double dot = 0;
                        for (int d = 0; d < hs; d++) {
                            dot += q[(bi * t + i) * c + h * hs + d] * k[(bi * s + j) * c + h * hs + d];
                        }
                        score[j] = (causal && j > i) ? Double.NEGATIVE_INFINITY
                                : dot / Math.sqrt(hs) + (mask == null ? 0 : mask[i * s + j]);
                        max = Math.max(max, score[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < s; j++) {
                        score[j] = Math.exp(score[j] - max);
                        sum += score[j];
                    }
                    for (int j = 0; j < s; j++) {
                        for (int d = 0; d < hs; d++) {
                            out[(bi * t + i) * c + h * hs + d] += score[j] / sum * v[(bi * s + j) * c + h * hs + d];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static double[] add(double[] x, double[] y) {
        double[] z = x.clone();
        for (int i = 0; i < z.length; i++) {
            z[i] += y[i];
        }
        return z;
    }

    /** The layer of decoder_inference.h in float64; p holds its parameters by torch's name suffix. */
    private static double[] reference(Case cs, Map<String, double[]> p, double[] x, double[] memory,
                                      double[] mask) {
        int c = cs.c;
        int rows = cs.b * cs.t;
        int mrows = cs.b * cs.s;
        double[] n1 = norm(x, rows, c, p.get("norm1.weight"), p.get("norm1.bias"));
        double[] sw = p.get("self_attn.in_proj_weight");
        double[] sb = p.get("self_attn.in_proj_bias");
        double[] sa = attention(linear(n1, rows, c, sw, sb, 0, c), linear(n1, rows, c, sw, sb, c, c),
                linear(n1, rows, c, sw, sb, 2 * c, c), cs.b, cs.t, cs.t, c, cs.nh, cs.causal, null);
        double[] x1 = add(x, linear(sa, rows, c, p.get("self_attn.out_proj.weight"),
                p.get("self_attn.out_proj.bias"), 0, c));
        double[] n2 = norm(x1, rows, c, p.get("norm2.weight"), p.get("norm2.bias"));
        double[] cw = p.get("multihead_attn.in_proj_weight");
        double[] cb = p.get("multihead_attn.in_proj_bias");
        double[] ca = attention(linear(n2, rows, c, cw, cb, 0, c), linear(memory, mrows, c, cw, cb, c, c),
                linear(memory, mrows, c, cw, cb, 2 * c, c), cs.b, cs.t, cs.s, c, cs.nh, false, mask);
        double[] x2 = add(x1, linear(ca, rows, c, p.get("multihead_attn.out_proj.weight"),
                p.get("multihead_attn.out_proj.bias"), 0, c));
        double[] n3 = norm(x2, rows, c, p.get("norm3.weight"), p.get("norm3.bias"));
        double[] hidden = linear(n3, rows, c, p.get("linear1.weight"), p.get("linear1.bias"), 0, 4 * c);
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = 0.5 * hidden[i] * (1 + ActivationOpTest.erf(hidden[i] / Math.sqrt(2)));
        }
        return add(x2, linear(hidden, rows, 4 * c, p.get("linear2.weight"), p.get("linear2.bias"), 0, c));
    }

    // ---- a layer with random parameters ---------------------------------------------------------------------------

    /** Random parameters for case cs (norm weights around 1), keyed by torch's name within the layer. */
    private static Map<String, double[]> randomParameters(Case cs, long seed) {
        Map<String, double[]> p = new LinkedHashMap<>();
        int i = 0;
        try (TransformerDecoderLayer layer = layer0(OpTesting.cpu(), cs)) {
            for (Parameter param : layer.parameters()) {
                int n = Math.toIntExact(param.value().numel());
                String key = param.name().substring(param.name().indexOf('.') + 1);
                double[] v = OpTesting.randn(seed + i++, n);
                boolean normWeight = key.startsWith("norm") && key.endsWith("weight");
                double scale = normWeight ? 0.2 : 1 / Math.sqrt(param.value().dim(param.value().rank() - 1));
                for (int j = 0; j < n; j++) {
                    v[j] = (float) ((normWeight ? 1 : 0) + scale * v[j]); // exactly representable in the tensors
                }
                p.put(key, v);
            }
        }
        return p;
    }

    private static TransformerDecoderLayer layer(Backend backend, Case cs, Map<String, double[]> p) {
        TransformerDecoderLayer layer = new TransformerDecoderLayer(backend, "layer.", cs.c, cs.nh, 0.1f,
                new DropoutSites());
        for (Parameter param : layer.parameters()) {
            param.value().copyFrom(OpTesting.toFloat(p.get(param.name().substring("layer.".length()))));
        }
        return layer;
    }

    /** DP's memory mask (query t sees memory token s when t >= s - 1) with a few extra finite biases. */
    private static double[] mask(Case cs) {
        if (!cs.mask) {
            return null;
        }
        double[] m = new double[cs.t * cs.s];
        double[] bias = OpTesting.uniform(99, m.length, -1, 1);
        for (int i = 0; i < cs.t; i++) {
            for (int j = 0; j < cs.s; j++) {
                m[i * cs.s + j] = i >= j - 1 ? (float) bias[i * cs.s + j] : Double.NEGATIVE_INFINITY;
            }
        }
        return m;
    }

    private static double[] asFloat(double[] x) {
        return x == null ? null : OpTesting.toDouble(OpTesting.toFloat(x));
    }

    /** The fused forward of case cs on backend: the output (B, T, C). */
    private static float[] fused(Backend backend, Case cs, Inputs in) {
        Map<String, double[]> p = in.p();
        double[] x = in.x();
        double[] memory = in.memory();
        double[] mask = in.mask();
        try (TransformerDecoderLayer layer = layer(backend, cs, p);
             Tensor xt = backend.of(OpTesting.toFloat(x), cs.b, cs.t, cs.c);
             Tensor mt = backend.of(OpTesting.toFloat(memory), cs.b, cs.s, cs.c);
             Tensor maskT = mask == null ? null : backend.of(OpTesting.toFloat(mask), cs.t, cs.s)) {
            layer.packForInference();
            layer.forwardInference(xt, mt, cs.causal, maskT);
            return xt.toFloatArray();
        }
    }

    /** A case's random parameters and inputs: x from seed, the memory from seed + 1, DP's mask (or none). */
    private record Inputs(Map<String, double[]> p, double[] x, double[] memory, double[] mask) { }

    private static Inputs inputsFor(Case cs, long parameterSeed, long seed) {
        return new Inputs(randomParameters(cs, parameterSeed), inputs(seed, cs.b * cs.t * cs.c),
                inputs(seed + 1, cs.b * cs.s * cs.c), asFloat(mask(cs)));
    }

    private static double[] inputs(long seed, int n) {
        return asFloat(OpTesting.randn(seed, n));
    }

    // ---- tests ----------------------------------------------------------------------------------------------------

    @Test
    void cpuMatchesTheFloat64LayerWithEveryBuildOfTheProducts() {
        Backend cpu = OpTesting.cpu();
        int detected = CpuKernels.ct_matmul_set_isa(-1);
        try {
            for (Case cs : CASES) {
                Inputs in = inputsFor(cs, 11, 1);
                double[] expected = reference(cs, in.p(), in.x(), in.memory(), in.mask());
                for (int level = detected; level >= 0; level--) {
                    assertEquals(level, CpuKernels.ct_matmul_set_isa(level));
                    OpTesting.assertClose(cs.name + ", instruction level " + level, fused(cpu, cs, in), expected,
                            CPU_TOL);
                }
                CpuKernels.ct_matmul_set_isa(-1);
            }
        } finally {
            CpuKernels.ct_matmul_set_isa(-1);
        }
    }

    private static TransformerDecoderLayer layer0(Backend backend, Case cs) {
        return new TransformerDecoderLayer(backend, "layer.", cs.c, cs.nh, 0.1f, new DropoutSites());
    }

    @Test
    void cpuMatchesTheComposedLayerAndIgnoresTheThreadCount() {
        Backend cpu = OpTesting.cpu();
        int threads = CpuKernels.ct_cpu_get_num_threads();
        for (Case cs : CASES) {
            Inputs in = inputsFor(cs, 21, 3);
            float[] composed;
            try (TransformerDecoderLayer layer = layer(cpu, cs, in.p());
                 Tensor xt = cpu.of(OpTesting.toFloat(in.x()), cs.b, cs.t, cs.c);
                 Tensor mt = cpu.of(OpTesting.toFloat(in.memory()), cs.b, cs.s, cs.c);
                 Tensor maskT = in.mask() == null ? null : cpu.of(OpTesting.toFloat(in.mask()), cs.t, cs.s)) {
                composed = layer.forward(xt, mt, cs.causal, maskT, false, 0L).toFloatArray();
            }
            List<float[]> runs = new ArrayList<>();
            try {
                for (int n : new int[] {1, 2, 3}) {
                    CpuKernels.ct_cpu_set_num_threads(n);
                    runs.add(fused(cpu, cs, in));
                }
            } finally {
                CpuKernels.ct_cpu_set_num_threads(threads);
            }
            OpTesting.assertClose(cs.name + ": fused against composed", runs.get(0), composed, CPU_TOL);
            assertArrayEquals(runs.get(0), runs.get(1), cs.name + ": 1 and 2 threads");
            assertArrayEquals(runs.get(0), runs.get(2), cs.name + ": 1 and 3 threads");
        }
    }

    /**
     * The forward on keys and values computed ahead: the memory's (projectMemory), with token 0 replaced in every
     * sequence by row `step` of a table, equals the forward on that memory with token 0 replaced (bit for bit: the same
     * products of the same rows).
     */
    private static float[][] cachedAndDirect(Backend backend, Case cs, Inputs in, double[] token0) {
        Map<String, double[]> p = in.p();
        double[] x = in.x();
        double[] memory = in.memory();
        double[] mask = in.mask();
        int c = cs.c;
        double[] replaced = memory.clone();
        for (int b = 0; b < cs.b; b++) {
            System.arraycopy(token0, 0, replaced, b * cs.s * c, c);
        }
        double[] table = OpTesting.toDouble(OpTesting.toFloat(OpTesting.randn(77, 3 * c)));
        System.arraycopy(token0, 0, table, c, c); // row 1 of three
        try (TransformerDecoderLayer layer = layer(backend, cs, p);
             Tensor xa = backend.of(OpTesting.toFloat(x), cs.b, cs.t, c);
             Tensor xb = backend.of(OpTesting.toFloat(x), cs.b, cs.t, c);
             Tensor mt = backend.of(OpTesting.toFloat(memory), cs.b, cs.s, c);
             Tensor rt = backend.of(OpTesting.toFloat(replaced), cs.b, cs.s, c);
             Tensor tt = backend.of(OpTesting.toFloat(table), 3, 1, c);
             Tensor memoryKv = backend.empty(cs.b, cs.s, 2 * c);
             Tensor tableKv = backend.empty(3, 1, 2 * c);
             Tensor maskT = mask == null ? null : backend.of(OpTesting.toFloat(mask), cs.t, cs.s)) {
            layer.packForInference();
            layer.projectMemory(mt, memoryKv);
            layer.projectMemory(tt, tableKv);
            layer.forwardInferenceCached(xa, memoryKv, tableKv.view(3, 2 * c), 1, cs.causal, maskT);
            layer.forwardInference(xb, rt, cs.causal, maskT);
            return new float[][] {xa.toFloatArray(), xb.toFloatArray()};
        }
    }

    @Test
    void keysAndValuesComputedAheadGiveTheSameLayer() {
        Backend cpu = OpTesting.cpu();
        for (Case cs : CASES) {
            Inputs in = inputsFor(cs, 41, 7);
            float[][] r = cachedAndDirect(cpu, cs, in, inputs(9, cs.c));
            assertArrayEquals(r[1], r[0], cs.name + ": step token from the table against the memory with it");
        }
    }

    @Test
    void badCallsAreErrorsNamingTheProblem() {
        Backend cpu = OpTesting.cpu();
        Case cs = CASES[1];
        try (TransformerDecoderLayer layer = layer0(cpu, cs);
             Tensor x = cpu.zeros(cs.b, cs.t, cs.c);
             Tensor memory = cpu.zeros(cs.b, cs.s, cs.c);
             Tensor narrow = cpu.zeros(cs.b, cs.s, cs.c - 1);
             Tensor wrongMask = cpu.zeros(cs.t + 1, cs.s)) {
            IllegalStateException early = assertThrows(IllegalStateException.class,
                    () -> layer.forwardInference(x, memory, false, null));
            assertTrue(early.getMessage().contains("before packForInference"), early.getMessage());
            layer.packForInference();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.forwardInference(x, narrow, false, null));
            assertTrue(e.getMessage().contains(narrow.shapeString()), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forwardInference(x, memory, false, wrongMask));
            assertTrue(e.getMessage().contains(wrongMask.shapeString()), e.getMessage());
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (Case cs : CASES) {
            Inputs in = inputsFor(cs, 31, 5);
            OpTesting.assertClose(cs.name + ": CUDA against CPU", fused(cuda, cs, in), fused(cpu, cs, in), CUDA_TOL);
            double[] token0 = inputs(9, cs.c);
            float[][] onCuda = cachedAndDirect(cuda, cs, in, token0);
            OpTesting.assertClose(cs.name + ": CUDA, keys and values ahead", onCuda[0], onCuda[1], CUDA_TOL);
            OpTesting.assertClose(cs.name + ": CUDA against CPU, keys and values ahead", onCuda[0],
                    cachedAndDirect(cpu, cs, in, token0)[0], CUDA_TOL);
        }
    }
}
