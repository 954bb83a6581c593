package org.cotrain.benchmarks;

/**
 * The sizes the benchmarks run at: those of the Diffusion Policy transformer (DP-T) in training, and the parsing of
 * the size parameters. The benchmarks and the napkin math ({@link Work}) both read their shapes from here, so the
 * two cannot drift apart.
 */
final class DpSizes {
    private DpSizes() {}

    /** Training batch (B). */
    static final int BATCH = 256;
    /** Action tokens: the prediction horizon H. */
    static final int ACTION_TOKENS = 16;
    /** Condition tokens: the diffusion-step embedding and To = 2 observation steps. */
    static final int COND_TOKENS = 3;
    /** Transformer width C (n_emb). */
    static final int WIDTH = 256;
    /** Attention heads NH. */
    static final int HEADS = 4;
    /** Head size HS = C / NH. */
    static final int HEAD_SIZE = WIDTH / HEADS;
    /** Keypoints of the spatial-softmax head of each camera's encoder. */
    static final int KEYPOINTS = 32;
    /** Diffusion steps of the noise schedule. */
    static final int TRAIN_TIMESTEPS = 100;
    /** Elements of the memory-ceiling copy: 256 MiB of float32. */
    static final int COPY_ELEMENTS = 1 << 26;

    /**
     * Attention dimensions {B, NH, Tq, Tk, HS} for the attn parameter: "self" is the decoder's causal self-attention
     * over the action tokens, "cross" the decoder's cross-attention from action tokens to condition tokens.
     */
    static int[] attention(String attn) {
        switch (attn) {
            case "self":
                return new int[] {BATCH, HEADS, ACTION_TOKENS, ACTION_TOKENS, HEAD_SIZE};
            case "cross":
                return new int[] {BATCH, HEADS, ACTION_TOKENS, COND_TOKENS, HEAD_SIZE};
            default:
                throw new IllegalArgumentException("attn must be self or cross, got " + attn);
        }
    }

    /** "4096x256x768" -> {M, K, N}: a (M, K) activation times a (K, N) weight (stored (N, K), as a linear layer). */
    static int[] gemm(String spec) {
        int[] d = dims(spec);
        if (d.length != 3) {
            throw new IllegalArgumentException("gemm must be MxKxN, got " + spec);
        }
        return d;
    }

    /** "256x16x2" -> {256, 16, 2}: a tensor shape whose first dimension is the batch. */
    static int[] dims(String spec) {
        String[] parts = spec.trim().split("x");
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            d[i] = Integer.parseInt(parts[i].trim());
            if (d[i] <= 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + spec);
            }
        }
        return d;
    }

    static long product(int[] d) {
        long n = 1;
        for (int x : d) {
            n *= x;
        }
        return n;
    }

    /**
     * alphas_cumprod of the squaredcos_cap_v2 schedule that Diffusion Policy trains with:
     * abar(tau) = cos^2(((tau + 0.008) / 1.008) pi / 2), beta_i = min(1 - abar((i + 1) / N) / abar(i / N), 0.999).
     */
    static float[] squaredCosAbar(int steps) {
        float[] abar = new float[steps];
        double prod = 1;
        for (int i = 0; i < steps; i++) {
            double beta = Math.min(1 - cosSquared((i + 1.0) / steps) / cosSquared((double) i / steps), 0.999);
            prod *= 1 - beta;
            abar[i] = (float) prod;
        }
        return abar;
    }

    private static double cosSquared(double tau) {
        double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }
}
