package org.cotrain.benchmarks;

import java.util.Map;

/**
 * The napkin math, all in one place: for a benchmark and its parameters, the floating-point operations and the
 * bytes moved to and from memory by one invocation, counted the way a roofline does:
 * <ul>
 *   <li>FLOPs: multiply and add count as one each (a GEMM is 2 M N K); transcendental functions (exp, log, sqrt)
 *       count as one; integer work (Philox random numbers, index arithmetic) is not counted.</li>
 *   <li>Bytes: every input read once and every output written once, at 4 bytes an element (float32 and int32);
 *       an accumulated gradient (dx += ...) is read and written. This is the least traffic any implementation
 *       needs: caches that hold a whole operand across calls can make the achieved GB/s exceed it.</li>
 * </ul>
 * The shapes come from {@link DpSizes}, as in the benchmarks themselves.
 */
public final class Work {
    /** What one invocation does: a readable shape, its FLOPs and bytes, and how they were counted. */
    public record Amount(String shape, double flops, double bytes, String formula) {}

    private Work() {}

    private static final double F = 4; // bytes per float32 or int32 element

    /**
     * The work of one call of a benchmark.
     *
     * @param benchmark "Class.method", e.g. "AttentionBenchmarks.forward"
     * @param params    the JMH parameters of the run (backend, attn, map, ...)
     */
    public static Amount of(String benchmark, Map<String, String> params) {
        switch (benchmark) {
            case "CeilingBenchmarks.noop":
                return new Amount("empty native call / kernel launch, + synchronize", 0, 0, "none");
            case "CeilingBenchmarks.copy": {
                // Read the source and write the destination, 256 MiB each.
                double n = DpSizes.COPY_ELEMENTS;
                return new Amount("backend.copy, 256 MiB", 0, 2 * F * n, "bytes = 2 * 4 * n (read src, write dst)");
            }
            case "CeilingBenchmarks.triad": {
                // out = a + 0.5 b: two reads and a write per element; one multiply and one add.
                double n = DpSizes.COPY_ELEMENTS;
                return new Amount("Ops.axpby, 3 x 256 MiB", 2 * n, 3 * F * n,
                        "flops = 2n; bytes = 3 * 4 * n (read a, b; write out)");
            }
            case "CeilingBenchmarks.sgemm": {
                // (n, n) x (n, n): n^2 outputs, each a dot product of length n (n multiplies, n adds).
                double n = Integer.parseInt(params.get("square"));
                return new Amount("sgemm " + (int) n + "^3", 2 * n * n * n, 3 * F * n * n,
                        "flops = 2 n^3; bytes = 3 * 4 * n^2 (read A, B; write C)");
            }
            case "MatmulBenchmarks.linear":
            case "MatmulBenchmarks.packed": {
                // y (M, N) = x (M, K) W^T, W (N, K): M N dot products of length K.
                int[] d = DpSizes.gemm(params.get("gemm"));
                double m = d[0];
                double k = d[1];
                double n = d[2];
                return new Amount(String.format("(%d, %d) x (%d, %d)", d[0], d[1], d[1], d[2]), 2 * m * n * k,
                        F * (m * k + n * k + m * n), "flops = 2 M N K; bytes = 4 (M K + N K + M N)");
            }
            case "AttentionBenchmarks.forward":
            case "AttentionBenchmarks.backward":
                return attention(benchmark.endsWith("forward"), params.get("attn"), params.get("pDrop"));
            case "SpatialSoftmaxBenchmarks.forward":
            case "SpatialSoftmaxBenchmarks.backward":
                return spatialSoftmax(benchmark.endsWith("forward"), Integer.parseInt(params.get("map")));
            case "DdpmBenchmarks.addNoise":
            case "DdpmBenchmarks.ddpmStep":
            case "DdpmBenchmarks.ddimStep":
                return ddpm(benchmark.substring(benchmark.indexOf('.') + 1), params.get("shape"));
            case "ConvBenchmarks.forward":
            case "ConvBenchmarks.backwardData":
            case "ConvBenchmarks.backwardWeight":
                return conv(benchmark.substring(benchmark.indexOf('.') + 1), params.get("layer"),
                        params.getOrDefault("strategy", "auto"));
            case "GroupNormBenchmarks.forward":
            case "GroupNormBenchmarks.backward":
                return groupNorm(benchmark.endsWith("forward"), params.get("site"));
            case "ImageOpsBenchmarks.cropToFloat":
            case "ImageOpsBenchmarks.maxPoolForward":
            case "ImageOpsBenchmarks.maxPoolBackward":
            case "ImageOpsBenchmarks.addReluFused":
            case "ImageOpsBenchmarks.addReluUnfused":
                return imageOp(benchmark.substring(benchmark.indexOf('.') + 1));
            case "EncoderBenchmarks.forward":
            case "EncoderBenchmarks.trainStep":
                return encoder(benchmark.endsWith("forward"));
            case "DecoderLayerBenchmarks.fused":
            case "DecoderLayerBenchmarks.composed":
                return decoderLayer(Integer.parseInt(params.get("batch")));
            default:
                throw new IllegalArgumentException("no napkin math for benchmark " + benchmark);
        }
    }

    /**
     * One DP-T decoder layer's evaluation forward (C 256, 4 heads, T 16 action tokens, S 3 condition tokens) at
     * batch B. FLOPs: the products, 2 per multiply-add: per action token 3C^2 (q, k, v) + C^2 (self out) + C^2
     * (cross q) + C^2 (cross out) + 8 C^2 (FFN) = 14 C^2, per condition token 2 C^2 (cross k, v); attention 4 T T HS
     * + 4 T S HS per (b, head); norms and GELU are left out. Bytes: the weights read once (16 C^2 + 13 C floats),
     * x read and written, the memory read.
     */
    private static Amount decoderLayer(int b) {
        double c = DpSizes.WIDTH;
        double t = DpSizes.ACTION_TOKENS;
        double s = DpSizes.COND_TOKENS;
        double hs = c / DpSizes.HEADS;
        double flops = 2 * b * (14 * c * c * t + 2 * c * c * s) + 4 * b * DpSizes.HEADS * (t * t + t * s) * hs;
        double bytes = F * (16 * c * c + 13 * c + 2 * b * t * c + b * s * c);
        return new Amount(String.format("x (%d, %d, %d), memory (%d, %d, %d)", b, (int) t, (int) c, b, (int) s,
                (int) c), flops, bytes, "flops = 2 B (14 C^2 T + 2 C^2 S) + 4 B NH (T^2 + T S) HS; bytes = 4 (16 C^2 "
                + "+ 13 C + 2 B T C + B S C)");
    }

    /**
     * Attention, per (batch, head), with Tq queries and Tk keys of size HS, counted dense (the causal mask would let
     * a kernel skip up to half of the self-attention products; the count stays the dense one, as FlashAttention's).
     * Forward: S = Q K^T (2 Tq Tk HS) and O = P V (2 Tq Tk HS): 4 B NH Tq Tk HS; the softmax, O(Tq Tk), is
     * negligible beside that. Bytes: q, k, v read, out and lse written, the (Tq, Tk) mask read once.
     * Backward: S = Q K^T recomputed, dV += P^T dO, dP = dO V^T, dQ += dS K, dK += dS^T Q: 10 B NH Tq Tk HS.
     * Bytes: dout, q, out, k, v, lse and the mask read, dq, dk, dv read and written.
     */
    private static Amount attention(boolean forward, String attn, String pDrop) {
        int[] d = DpSizes.attention(attn);
        double bh = (double) d[0] * d[1];
        double tq = d[2];
        double tk = d[3];
        double hs = d[4];
        boolean self = attn.equals("self");
        double maskBytes = self ? 0 : F * tq * tk;
        String shape = String.format("%s: q (%d, %d, %d, %d), k/v (%d, %d, %d, %d), %s, p_drop %s", attn, d[0], d[1],
                d[2], d[4], d[0], d[1], d[3], d[4], self ? "causal" : "DP cross mask", pDrop);
        if (forward) {
            return new Amount(shape, 4 * bh * tq * tk * hs, F * bh * (2 * tq * hs + 2 * tk * hs + tq) + maskBytes,
                    "flops = 4 B NH Tq Tk HS; bytes = 4 (B NH (2 Tq HS + 2 Tk HS + Tq) + mask)");
        }
        return new Amount(shape, 10 * bh * tq * tk * hs, F * bh * (5 * tq * hs + 6 * tk * hs + tq) + maskBytes,
                "flops = 10 B NH Tq Tk HS; bytes = 4 (B NH (5 Tq HS + 6 Tk HS + Tq) + mask)");
    }

    /**
     * Spatial softmax over n = B K maps of S = H W positions.
     * Forward, per position: max (1), x / T - max (2), exp (1), the sum (1), and the two expectations P gx, P gy
     * (2 multiply-adds, 4): about 9 S n FLOPs. Bytes: x read, out (n, 2) written.
     * Backward, per position: P recomputed (max, scale, exp, sum: 5, plus 1 to normalise), the two centred grid
     * terms and their weights (6) and the accumulate (2): about 14 S n. Bytes: x read, out and dout (n, 2) read,
     * dx read and written.
     */
    private static Amount spatialSoftmax(boolean forward, int map) {
        double n = (double) DpSizes.BATCH * DpSizes.KEYPOINTS;
        double s = (double) map * map;
        String shape = String.format("x (%d, %d, %d, %d)", DpSizes.BATCH, DpSizes.KEYPOINTS, map, map);
        if (forward) {
            return new Amount(shape, 9 * s * n, F * (s * n + 2 * n), "flops ~ 9 n H W; bytes = 4 (n H W + 2 n)");
        }
        return new Amount(shape, 14 * s * n, F * (3 * s * n + 4 * n), "flops ~ 14 n H W; bytes = 4 (3 n H W + 4 n)");
    }

    /**
     * DDPM kernels over B chains of N elements (the per-chain coefficients, a few sqrt and divides per chain, are
     * negligible; so is the gather from the 100-entry abar table).
     * addNoise: xt = sqrt(abar) x0 + sqrt(1 - abar) eps: 3 FLOPs an element; x0, eps read, xt written, t read.
     * ddpmStep: x0 from xt and the model output (2), clip (2), the mean (3), + sigma z (2): about 9 FLOPs an
     * element, not counting the Philox normal draw of z (integer rounds, a log, a sqrt and a cosine: on the CPU it
     * costs more than the rest); model, xt read, out written, t and prev_t read.
     * ddimStep with eta = 0: x0 (2), clip (2), sqrt(a_p) x0 + c eps (3): about 7 FLOPs; no noise drawn; same bytes.
     */
    private static Amount ddpm(String kernel, String shapeSpec) {
        int[] d = DpSizes.dims(shapeSpec);
        double b = d[0];
        double n = DpSizes.product(d);
        String shape = "x (" + shapeSpec.replace("x", ", ") + ")";
        switch (kernel) {
            case "addNoise":
                return new Amount(shape, 3 * n, F * (3 * n + b), "flops = 3 B N; bytes = 4 (3 B N + B)");
            case "ddpmStep":
                return new Amount(shape + ", Philox noise", 9 * n, F * (3 * n + 2 * b),
                        "flops ~ 9 B N (+ Philox normals); bytes = 4 (3 B N + 2 B)");
            default:
                return new Amount(shape + ", eta 0", 7 * n, F * (3 * n + 2 * b),
                        "flops ~ 7 B N; bytes = 4 (3 B N + 2 B)");
        }
    }

    /**
     * A convolution {N, CI, H, W, CO, K, S, P} (DpSizes.conv) as the GEMM it is: M = CO, N = N Ho Wo, K = CI K K, so
     * 2 N CO Ho Wo CI K K FLOPs in each of the three directions (the bias add and the bias gradient, N CO Ho Wo, are
     * negligible). Bytes: forward reads x and w and writes y; backwardData reads dy and w and reads and writes dx;
     * backwardWeight reads dy and x and reads and writes dw. im2col's own traffic (K times the input, the price of
     * using a GEMM) is not counted: it is what an implementation adds, not what the op needs.
     */
    private static Amount conv(String direction, String layer, String strategy) {
        int[] d = DpSizes.conv(layer);
        int ho = (d[2] + 2 * d[7] - d[5]) / d[6] + 1;
        int wo = (d[3] + 2 * d[7] - d[5]) / d[6] + 1;
        double x = (double) d[0] * d[1] * d[2] * d[3];
        double w = (double) d[4] * d[1] * d[5] * d[5];
        double y = (double) d[0] * d[4] * ho * wo;
        double flops = 2.0 * y * d[1] * d[5] * d[5];
        String shape = String.format("%s, %s: x (%d, %d, %d, %d) * w (%d, %d, %d, %d) /%d -> %dx%d", layer, strategy,
                d[0], d[1], d[2], d[3], d[4], d[1], d[5], d[5], d[6], ho, wo);
        switch (direction) {
            case "forward":
                return new Amount(shape, flops, F * (x + w + y),
                        "flops = 2 N CO Ho Wo CI K^2; bytes = 4 (x + w + y)");
            case "backwardData":
                return new Amount(shape, flops, F * (y + w + 2 * x),
                        "flops = 2 N CO Ho Wo CI K^2; bytes = 4 (dy + w + 2 dx)");
            default:
                return new Amount(shape, flops, F * (y + x + 2 * w),
                        "flops = 2 N CO Ho Wo CI K^2; bytes = 4 (dy + x + 2 dw)");
        }
    }

    /**
     * GroupNorm over n = N C H W elements. Forward per element: the sum (1), the squared deviation (3), the
     * normalisation and affine (3): ~7 n; bytes: x read, y written (mean, rstd and the affine are negligible).
     * Backward per element: xhat (2), g = dy w (1), the two group sums (3), dx (5), and the per-channel sums for
     * dweight and dbias with xhat recomputed (5): ~16 n; bytes: dy and x read, dx read and written.
     */
    private static Amount groupNorm(boolean forward, String site) {
        int[] d = DpSizes.groupNorm(site);
        double n = DpSizes.product(d);
        String shape = String.format("x (%d, %d, %d, %d), %d groups", d[0], d[1], d[2], d[3], d[1] / 16);
        if (forward) {
            return new Amount(shape, 7 * n, F * 2 * n, "flops ~ 7 n; bytes = 4 (x + y)");
        }
        return new Amount(shape, 16 * n, F * 4 * n, "flops ~ 16 n; bytes = 4 (dy + x + 2 dx)");
    }

    /**
     * cropToFloat: per output element a divide, a multiply and a subtract (3); bytes: the cropped uint8 pixels read
     * (1 byte each) and the floats written (4). maxPool: 9 comparisons per output (3x3 windows); forward bytes: x
     * read, y and argmax written; backward: dy and argmax read, dx read and written. addRelu over n elements: fused,
     * an add and a max (2 n) reading a and b and writing y (12 n bytes); unfused, the same FLOPs but the sum written
     * and read back (20 n bytes).
     */
    private static Amount imageOp(String op) {
        switch (op) {
            case "cropToFloat": {
                double n = (double) DpSizes.IMAGE_BATCH * 3 * DpSizes.CROP * DpSizes.CROP;
                String shape = String.format("uint8 (%d, %d, %d, 3) -> (%d, 3, %d, %d), random offsets",
                        DpSizes.IMAGE_BATCH, DpSizes.IMAGE_SIZE, DpSizes.IMAGE_SIZE, DpSizes.IMAGE_BATCH,
                        DpSizes.CROP, DpSizes.CROP);
                return new Amount(shape, 3 * n, 5 * n, "flops = 3 n; bytes = n (uint8 read) + 4 n (float written)");
            }
            case "maxPoolForward":
            case "maxPoolBackward": {
                int[] p = DpSizes.maxPool();
                double in = DpSizes.product(p);
                double out = in / 4;
                String shape = String.format("x (%d, %d, %d, %d), 3x3 / 2, padding 1", p[0], p[1], p[2], p[3]);
                if (op.equals("maxPoolForward")) {
                    return new Amount(shape, 9 * out, F * (in + 2 * out), "flops = 9 out; bytes = 4 (in + 2 out)");
                }
                return new Amount(shape, out, F * (2 * out + 2 * in), "flops = out; bytes = 4 (2 out + 2 in)");
            }
            default: {
                int[] r = DpSizes.residual();
                double n = DpSizes.product(r);
                String shape = String.format("a, b (%d, %d, %d, %d)", r[0], r[1], r[2], r[3]);
                if (op.equals("addReluFused")) {
                    return new Amount(shape, 2 * n, F * 3 * n, "flops = 2 n; bytes = 4 (a + b + y)");
                }
                return new Amount(shape + ", add then relu", 2 * n, F * 5 * n,
                        "flops = 2 n; bytes = 4 (a + b + sum, then sum + y)");
            }
        }
    }

    /**
     * The image encoder at batch 64 on 84x84 crops: the FLOPs of its convolutions (DpSizes.encoderConvs; the
     * GroupNorms, pooling, softmax and Linear add under 1%). Forward: sum of 2 N CO Ho Wo CI K^2; training step: three
     * times that (forward, data and weight gradients) less the stem's data gradient (the image needs none). Bytes are
     * not counted: the step is GEMM-bound.
     */
    private static Amount encoder(boolean forward) {
        double total = 0;
        double stem = 0;
        for (int[] d : DpSizes.encoderConvs()) {
            int ho = (d[2] + 2 * d[7] - d[5]) / d[6] + 1;
            double f = 2.0 * d[0] * d[4] * ho * ho * d[1] * d[5] * d[5];
            total += f;
            if (stem == 0) {
                stem = f;
            }
        }
        String shape = String.format("%d frames %dx%d -> %dx%d crops -> (%d, 64)", DpSizes.IMAGE_BATCH,
                DpSizes.IMAGE_SIZE, DpSizes.IMAGE_SIZE, DpSizes.CROP, DpSizes.CROP, DpSizes.IMAGE_BATCH);
        if (forward) {
            return new Amount(shape + ", evaluation", total, 0, "flops = sum over convolutions of 2 N CO Ho Wo CI K^2");
        }
        return new Amount(shape + ", forward + backward", 3 * total - stem, 0,
                "flops = 3 x the forward's, less the stem's data gradient");
    }
}
