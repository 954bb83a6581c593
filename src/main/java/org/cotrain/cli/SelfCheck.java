package org.cotrain.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.cotrain.ops.Ops;
import org.cotrain.ops.Prediction;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * A quick known-answer check of every op on a backend, for {@code cotrain info}: tiny inputs whose outputs are
 * known in closed form; on a backend other than the CPU, the outputs must also match the CPU's. The thorough
 * tests (random inputs, odd sizes, finite differences) are the JUnit suite; this answers "does this build work on
 * this machine?" in a second.
 */
final class SelfCheck {
    record Result(String op, boolean passed, String detail) {}

    private record Check(String op, Function<Backend, float[]> run, double[] expected, double tol) {}

    private SelfCheck() {}

    static List<Result> run(Backend backend, Backend reference) {
        List<Result> results = new ArrayList<>();
        for (Check c : checks()) {
            try {
                float[] got = c.run.apply(backend);
                backend.synchronize();
                double err = maxError(got, c.expected);
                String detail = String.format("max error %.1e", err);
                boolean ok = err <= c.tol;
                if (ok && backend != reference) {
                    double vsCpu = maxError(got, toDouble(c.run.apply(reference)));
                    detail += String.format(", vs cpu %.1e", vsCpu);
                    ok = vsCpu <= 1e-4;
                }
                results.add(new Result(c.op, ok, detail));
            } catch (RuntimeException | LinkageError e) {
                results.add(new Result(c.op, false, e.toString()));
            }
        }
        return results;
    }

    private static double maxError(float[] got, double[] expected) {
        if (got.length != expected.length) {
            return Double.POSITIVE_INFINITY;
        }
        double err = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs(got[i] - expected[i]);
            err = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(err, d);
        }
        return err;
    }

    private static double[] mish(double... z) {
        double[] y = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            y[i] = z[i] * Math.tanh(Math.log1p(Math.exp(z[i])));
        }
        return y;
    }

    private static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    private static List<Check> checks() {
        List<Check> checks = new ArrayList<>();
        double[] philoxUniform = new double[8];
        double[] philoxNormal = new double[8];
        for (int i = 0; i < 8; i++) {
            philoxUniform[i] = Philox.uniform(42, 100 + i);
            philoxNormal[i] = Philox.normal(42, 100 + i);
        }
        checks.add(new Check("rng uniform", b -> {
            try (Tensor out = b.empty(8)) {
                Ops.randUniform(out, 42, 100);
                return out.toFloatArray();
            }
        }, philoxUniform, 0));
        checks.add(new Check("rng normal", b -> {
            try (Tensor out = b.empty(8)) {
                Ops.randNormal(out, 42, 100);
                return out.toFloatArray();
            }
        }, philoxNormal, 1e-6));
        checks.add(new Check("matmul + bias", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
                 Tensor w = b.of(new float[] {1, 0, 0, 0, 1, 1}, 2, 3); // (N=2, K=3), used transposed
                 Tensor bias = b.of(new float[] {10, 20}, 2); Tensor y = b.empty(2, 2)) {
                Ops.matmul(x, false, w, true, bias, y);
                return y.toFloatArray();
            }
        }, new double[] {11, 25, 14, 31}, 1e-5));
        checks.add(new Check("axpby", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3}, 3); Tensor y = b.of(new float[] {4, 5, 6}, 3);
                 Tensor out = b.empty(3)) {
                Ops.axpby(x, y, out, 2, -1);
                return out.toFloatArray();
            }
        }, new double[] {-2, -1, 0}, 0));
        checks.add(new Check("mul", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3}, 3); Tensor y = b.of(new float[] {4, 5, -6}, 3);
                 Tensor out = b.empty(3)) {
                Ops.mul(x, y, out);
                return out.toFloatArray();
            }
        }, new double[] {4, 10, -18}, 0));
        checks.add(new Check("add broadcast", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3, 4}, 2, 2); Tensor pos = b.of(new float[] {10, 20}, 2);
                 Tensor out = b.empty(2, 2)) {
                Ops.addBroadcast(x, pos, out);
                return out.toFloatArray();
            }
        }, new double[] {11, 22, 13, 24}, 0));
        checks.add(new Check("gelu", b -> unary(b, Ops::geluForward, -1, 0, 1, 2),
                new double[] {-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416}, 1e-6));
        checks.add(new Check("gelu backward", b -> unaryBackward(b, Ops::geluBackward, -1, 0, 1),
                new double[] {-0.08331547058768, 0.5, 1.08331547058768}, 1e-6));
        checks.add(new Check("mish", b -> unary(b, Ops::mishForward, -1, 0, 1, 2),
                new double[] {-0.3034014613, 0, 0.8650983882, 1.9439589595}, 1e-6));
        checks.add(new Check("relu", b -> unary(b, Ops::reluForward, -1, 0, 2), new double[] {0, 0, 2}, 0));
        double r = 1 / Math.sqrt(1.25 + 1e-5);
        checks.add(new Check("layernorm", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3, 4}, 1, 4); Tensor w = b.of(new float[] {1, 1, 1, 2}, 4);
                 Tensor bias = b.of(new float[] {0, 0, 0, 1}, 4); Tensor y = b.empty(1, 4);
                 Tensor mean = b.empty(1); Tensor rstd = b.empty(1)) {
                Ops.layerNormForward(x, w, bias, y, mean, rstd, 1e-5f);
                return y.toFloatArray();
            }
        }, new double[] {-1.5 * r, -0.5 * r, 0.5 * r, 3 * r + 1}, 1e-5));
        checks.add(new Check("softmax", b -> unary(b, Ops::softmaxForward, 0, (float) Math.log(3)),
                new double[] {0.25, 0.75}, 1e-6));
        double[] dropped = new double[8];
        for (int i = 0; i < 8; i++) {
            dropped[i] = Philox.keep(7, i, 0.5f) ? 2 * (i + 1) : 0;
        }
        checks.add(new Check("dropout", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8); Tensor y = b.empty(8)) {
                Ops.dropoutForward(x, y, 0.5f, 7, 0);
                return y.toFloatArray();
            }
        }, dropped, 0));
        checks.add(new Check("embedding", b -> {
            try (Tensor table = b.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2); Tensor idx = b.of(new int[] {2, 0}, 2);
                 Tensor out = b.empty(2, 2)) {
                Ops.embeddingForward(table, idx, out);
                return out.toFloatArray();
            }
        }, new double[] {5, 6, 1, 2}, 0));
        checks.add(new Check("sinusoidal embedding", b -> {
            try (Tensor t = b.of(new float[] {0, 1}, 2); Tensor out = b.empty(2, 4)) {
                Ops.sinusoidalEmbedding(t, out);
                return out.toFloatArray();
            }
        }, new double[] {0, 0, 1, 1, Math.sin(1), Math.sin(1e-4), Math.cos(1), Math.cos(1e-4)}, 1e-6));
        checks.add(new Check("mean", b -> {
            try (Tensor x = b.of(new float[] {1, 2, 3, 6}, 4); Tensor out = b.empty(1)) {
                Ops.sum(x, out, 0.25f);
                return out.toFloatArray();
            }
        }, new double[] {3}, 1e-6));
        checks.add(new Check("mse loss", b -> {
            try (Tensor p = b.of(new float[] {1, 2}, 2); Tensor t = b.zeros(2); Tensor loss = b.empty(1)) {
                Ops.mseForward(p, t, null, loss);
                return loss.toFloatArray();
            }
        }, new double[] {2.5}, 1e-6));
        checks.add(new Check("adamw", b -> {
            try (Tensor p = b.of(new float[] {1}, 1); Tensor g = b.of(new float[] {0.5f}, 1); Tensor m = b.zeros(1);
                 Tensor v = b.zeros(1)) {
                Ops.adamwStep(p, g, m, v, 0.1f, 0.9f, 0.999f, 0f, 0f, 1, 1f);
                return p.toFloatArray();
            }
        }, new double[] {0.9}, 1e-6));
        checks.add(new Check("ema", b -> {
            try (Tensor ema = b.of(new float[] {1}, 1); Tensor p = b.of(new float[] {3}, 1)) {
                Ops.emaUpdate(ema, p, 0.75f);
                return ema.toFloatArray();
            }
        }, new double[] {1.5}, 1e-6));
        checks.add(new Check("attention", b -> {
            // One key: every query attends to it with weight 1, so the output is v.
            try (Tensor q = b.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2); Tensor k = b.of(new float[] {1, 1}, 1, 1, 1, 2);
                 Tensor v = b.of(new float[] {5, -7}, 1, 1, 1, 2); Tensor out = b.empty(1, 1, 2, 2);
                 Tensor lse = b.empty(1, 1, 2)) {
                Ops.attentionForward(q, k, v, null, out, lse, 0.5f, false, 0f, 0, 0);
                return out.toFloatArray();
            }
        }, new double[] {5, -7, 5, -7}, 1e-6));
        checks.add(new Check("spatial softmax", b -> {
            // A flat map has its expectation at the centre; a sharp peak in the top-left corner at (-1, -1).
            try (Tensor x = b.of(new float[] {0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0}, 1, 2, 2, 3);
                 Tensor out = b.empty(1, 2, 2)) {
                Ops.spatialSoftmaxForward(x, out, 1f);
                return out.toFloatArray();
            }
        }, new double[] {0, 0, -1, -1}, 1e-6));
        checks.add(new Check("conv2d", b -> {
            // A 3x3 all-ones kernel with padding 1 over a 3x3 image of ones counts each pixel's in-image neighbours;
            // bias 1 on top.
            try (Tensor x = b.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3);
                 Tensor w = b.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3);
                 Tensor bias = b.of(new float[] {1}, 1); Tensor y = b.empty(1, 1, 3, 3)) {
                Ops.conv2dForward(x, w, bias, y, 1, 1);
                return y.toFloatArray();
            }
        }, new double[] {5, 7, 5, 7, 10, 7, 5, 7, 5}, 1e-6));
        checks.add(new Check("max pool", b -> {
            try (Tensor x = b.of(new float[] {1, 9, 2, 3, 4, 5, 8, 7, 6}, 1, 1, 3, 3); Tensor y = b.empty(1, 1, 2, 2);
                 Tensor arg = b.empty(DType.I32, 1, 1, 2, 2)) {
                Ops.maxPool2dForward(x, y, arg, 3, 2, 1);
                return y.toFloatArray();
            }
        }, new double[] {9, 9, 8, 7}, 0));
        checks.add(new Check("group norm", b -> {
            // two groups of two values each: standardised to -1 and 1 (eps 1e-5 against a variance of 1 or 4)
            try (Tensor x = b.of(new float[] {1, 3, 10, 14}, 1, 2, 2); Tensor w = b.of(new float[] {1, 2}, 2);
                 Tensor bias = b.of(new float[] {0, 1}, 2); Tensor y = b.empty(1, 2, 2); Tensor m = b.empty(1, 2);
                 Tensor rs = b.empty(1, 2)) {
                Ops.groupNormForward(x, w, bias, y, m, rs, 2, 1e-5f);
                return y.toFloatArray();
            }
        }, new double[] {-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5), 1 - 2 * 2 / Math.sqrt(4 + 1e-5),
            1 + 2 * 2 / Math.sqrt(4 + 1e-5)}, 1e-6));
        checks.add(new Check("group norm + mish", b -> {
            // the group norm check's values through Mish; tolerance: Mish is within 1e-6 of max(|y|, 1) (activation.cpp)
            // and y reaches 3
            try (Tensor x = b.of(new float[] {1, 3, 10, 14}, 1, 2, 2); Tensor w = b.of(new float[] {1, 2}, 2);
                 Tensor bias = b.of(new float[] {0, 1}, 2); Tensor y = b.empty(1, 2, 2); Tensor m = b.empty(1, 2);
                 Tensor rs = b.empty(1, 2)) {
                Ops.groupNormMishForward(x, w, bias, y, m, rs, 2, 1e-5f);
                return y.toFloatArray();
            }
        }, mish(-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5), 1 - 2 * 2 / Math.sqrt(4 + 1e-5),
            1 + 2 * 2 / Math.sqrt(4 + 1e-5)), 1e-5));
        checks.add(new Check("film", b -> {
            // scale (2, -1) and bias (0.5, 1) over two channels of two steps: exact in float
            try (Tensor x = b.of(new float[] {1, 2, 3, 4}, 1, 2, 2);
                 Tensor cond = b.of(new float[] {2, -1, 0.5f, 1}, 1, 4); Tensor y = b.empty(1, 2, 2)) {
                Ops.filmForward(x, cond, y, true);
                return y.toFloatArray();
            }
        }, new double[] {2.5, 4.5, -2, -3}, 0));
        checks.add(new Check("image crop to float", b -> {
            try (Tensor img = b.of(new byte[] {0, (byte) 255, 51, (byte) 204}, 1, 2, 2, 1);
                 Tensor off = b.of(new int[] {1, 0}, 1, 2); Tensor out = b.empty(1, 1, 1, 2)) {
                Ops.imageToFloat(img, off, out);
                return out.toFloatArray();
            }
        }, new double[] {-0.6, 0.6}, 1e-6));
        checks.add(new Check("add relu", b -> {
            try (Tensor x = b.of(new float[] {1, -2, 3}, 3); Tensor y = b.of(new float[] {1, 1, -4}, 3);
                 Tensor out = b.empty(3)) {
                Ops.addReluForward(x, y, out);
                return out.toFloatArray();
            }
        }, new double[] {2, 0, 0}, 0));
        checks.add(new Check("ddpm add noise", b -> {
            try (Tensor x0 = b.of(new float[] {1, 2}, 1, 2); Tensor eps = b.of(new float[] {4, 4}, 1, 2);
                 Tensor t = b.of(new int[] {1}, 1); Tensor abar = b.of(new float[] {1f, 0.25f}, 2);
                 Tensor xt = b.empty(1, 2)) {
                Ops.ddpmAddNoise(x0, eps, t, abar, xt);
                return xt.toFloatArray();
            }
        }, new double[] {0.5 + 4 * Math.sqrt(0.75), 1 + 4 * Math.sqrt(0.75)}, 1e-6));
        checks.add(new Check("ambient batch", b -> {
            // Observed at x_tn = 0.8 x0 with no noise: xt = 0.5 x_tn, and the x0 target recovers x0 = 1 exactly.
            try (Tensor x0 = b.of(new float[] {1}, 1, 1); Tensor zero = b.zeros(1, 1); Tensor t = b.of(new int[] {1}, 1);
                 Tensor tn = b.of(new int[] {0}, 1); Tensor abar = b.of(new float[] {0.64f, 0.16f}, 2);
                 Tensor xt = b.empty(1, 1); Tensor target = b.empty(1, 1); Tensor weight = b.empty(1, 1)) {
                Ops.ambientBatch(x0, zero, zero, t, tn, abar, Prediction.SAMPLE, true, xt, target, weight);
                return new float[] {xt.toFloatArray()[0], target.toFloatArray()[0], weight.toFloatArray()[0]};
            }
        }, new double[] {0.4, 1.0, 0.48 / 0.84}, 1e-6));
        checks.add(new Check("bce loss", b -> {
            try (Tensor x = b.of(new float[] {0, 100}, 2); Tensor y = b.of(new float[] {1, 0}, 2);
                 Tensor out = b.empty(2)) {
                Ops.bceLogitsForward(x, y, out);
                return out.toFloatArray();
            }
        }, new double[] {Math.log(2), 100}, 1e-5));
        checks.add(new Check("ddpm step", b -> ddpmStepToZero(b, false), new double[] {0.25, -0.5}, 1e-6));
        checks.add(new Check("ddim step", b -> ddpmStepToZero(b, true), new double[] {0.25, -0.5}, 1e-6));
        return checks;
    }

    /** The last step (t = 0 to the end) returns the predicted x0: with abar 0.64, x0 = (xt - 0.6 eps) / 0.8. */
    private static float[] ddpmStepToZero(Backend b, boolean ddim) {
        try (Tensor eps = b.of(new float[] {1, 2}, 1, 2); Tensor xt = b.of(new float[] {0.8f, 0.8f}, 1, 2);
             Tensor t = b.of(new int[] {0}, 1); Tensor prev = b.of(new int[] {-1}, 1);
             Tensor abar = b.of(new float[] {0.64f}, 1); Tensor out = b.empty(1, 2)) {
            if (ddim) {
                Ops.ddimStep(eps, xt, t, prev, abar, 1f, 0f, Prediction.EPSILON, true, 1f, false, null, 0, 0, out);
            } else {
                Ops.ddpmStep(eps, xt, t, prev, abar, Prediction.EPSILON, true, 1f, null, 0, 0, out);
            }
            return out.toFloatArray();
        }
    }

    private interface Unary {
        void apply(Tensor x, Tensor y);
    }

    private interface UnaryBackward {
        void apply(Tensor x, Tensor dy, Tensor dx);
    }

    private static float[] unary(Backend b, Unary op, float... values) {
        try (Tensor x = b.of(values, values.length); Tensor y = b.empty(values.length)) {
            op.apply(x, y);
            return y.toFloatArray();
        }
    }

    private static float[] unaryBackward(Backend b, UnaryBackward op, float... values) {
        try (Tensor x = b.of(values, values.length); Tensor dy = b.empty(values.length);
             Tensor dx = b.zeros(DType.F32, values.length)) {
            Ops.fill(dy, 1f);
            op.apply(x, dy, dx);
            return dx.toFloatArray();
        }
    }
}
