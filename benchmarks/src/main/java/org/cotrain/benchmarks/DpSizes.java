package org.cotrain.benchmarks;

import org.cotrain.diffusion.BetaSchedule;
import org.cotrain.diffusion.NoiseSchedule;

/**
 * The sizes the benchmarks run at: those of the Diffusion Policy transformer (DP-T) in training, those of DP's image
 * encoder (ResNet18 with GroupNorm on 84x84 crops of 96x96 frames, batch 64), and the parsing of the size
 * parameters. The benchmarks and their napkin math ({@link Work}) both read their shapes from here, so the two cannot
 * drift apart.
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

    /** Image encoder batch: 64 frames (e.g. batch 32 with To = 2 observation steps). */
    static final int IMAGE_BATCH = 64;
    /** Camera frames, H = W (DP push-T: 96x96x3 uint8). */
    static final int IMAGE_SIZE = 96;
    /** The encoder's input crop, H = W (DP push-T's crop_shape). */
    static final int CROP = 84;

    /**
     * One convolution of the image encoder at batch IMAGE_BATCH on a CROP x CROP input: {N, CI, H, W, CO, K, stride,
     * padding}. stem: conv1 7x7/2; layer1: a 3x3 of layer1 (21x21); layer2_first: layer2's strided 3x3 (21 -> 11);
     * layer2_down: its 1x1/2 downsample; layer2, layer3, layer4: the stride-1 3x3s at 11x11, 6x6 and 3x3;
     * keypoints: the SpatialSoftmax's 1x1 convolution to 32 maps (with bias).
     */
    static int[] conv(String layer) {
        int n = IMAGE_BATCH;
        switch (layer) {
            case "stem":
                return new int[] {n, 3, CROP, CROP, 64, 7, 2, 3};
            case "layer1":
                return new int[] {n, 64, 21, 21, 64, 3, 1, 1};
            case "layer2_first":
                return new int[] {n, 64, 21, 21, 128, 3, 2, 1};
            case "layer2_down":
                return new int[] {n, 64, 21, 21, 128, 1, 2, 0};
            case "layer2":
                return new int[] {n, 128, 11, 11, 128, 3, 1, 1};
            case "layer3":
                return new int[] {n, 256, 6, 6, 256, 3, 1, 1};
            case "layer4":
                return new int[] {n, 512, 3, 3, 512, 3, 1, 1};
            case "keypoints":
                return new int[] {n, 512, 3, 3, KEYPOINTS, 1, 1, 0};
            default:
                throw new IllegalArgumentException("unknown encoder convolution " + layer);
        }
    }

    /**
     * {B, C, T} of a DP-C (ConditionalUnet1D) activation at batch BATCH and horizon ACTION_TOKENS: the small_cpu_unet
     * preset's levels (down_dims [32, 64]: 32 channels at T = 16, 64 at 8) and pusht_lowdim_unet's (down_dims
     * [256, 512, 1024]: 256 at 16, 512 at 8, 1024 at 4). Its Conv1dBlocks' GroupNorm + Mish and its FiLM run here.
     */
    static int[] unet(String site) {
        switch (site) {
            case "small_32x16":
                return new int[] {BATCH, 32, ACTION_TOKENS};
            case "small_64x8":
                return new int[] {BATCH, 64, ACTION_TOKENS / 2};
            case "pusht_256x16":
                return new int[] {BATCH, 256, ACTION_TOKENS};
            case "pusht_512x8":
                return new int[] {BATCH, 512, ACTION_TOKENS / 2};
            case "pusht_1024x4":
                return new int[] {BATCH, 1024, ACTION_TOKENS / 4};
            default:
                throw new IllegalArgumentException("unknown U-Net site " + site);
        }
    }

    /** DP-C's GroupNorm groups (n_groups of both presets). */
    static final int UNET_GROUPS = 8;

    /** {N, C, H, W} of a GroupNorm site: after the stem (42x42), in layer1 (21x21), in layer4 (3x3). */
    static int[] groupNorm(String site) {
        switch (site) {
            case "stem":
                return new int[] {IMAGE_BATCH, 64, 42, 42};
            case "layer1":
                return new int[] {IMAGE_BATCH, 64, 21, 21};
            case "layer4":
                return new int[] {IMAGE_BATCH, 512, 3, 3};
            default:
                throw new IllegalArgumentException("unknown GroupNorm site " + site);
        }
    }

    /** The stem's max pool input {N, C, H, W}: 64 channels of 42x42 (3x3, stride 2, padding 1 -> 21x21). */
    static int[] maxPool() {
        return new int[] {IMAGE_BATCH, 64, 42, 42};
    }

    /** The residual join's maps in layer1 {N, C, H, W}. */
    static int[] residual() {
        return new int[] {IMAGE_BATCH, 64, 21, 21};
    }

    /** Every convolution of the ResNet18 trunk and the keypoint head on a CROP x CROP input, in forward order. */
    static java.util.List<int[]> encoderConvs() {
        java.util.List<int[]> convs = new java.util.ArrayList<>();
        int n = IMAGE_BATCH;
        convs.add(conv("stem"));
        int size = (CROP + 6 - 7) / 2 + 1;   // conv1
        size = (size + 2 - 3) / 2 + 1;       // max pool
        int in = 64;
        int[] widths = {64, 128, 256, 512};
        for (int layer = 0; layer < 4; layer++) {
            int out = widths[layer];
            int stride = layer == 0 ? 1 : 2;
            int outSize = (size + 2 - 3) / stride + 1;
            convs.add(new int[] {n, in, size, size, out, 3, stride, 1});
            convs.add(new int[] {n, out, outSize, outSize, out, 3, 1, 1});
            if (stride != 1 || in != out) {
                convs.add(new int[] {n, in, size, size, out, 1, stride, 0});
            }
            convs.add(new int[] {n, out, outSize, outSize, out, 3, 1, 1});
            convs.add(new int[] {n, out, outSize, outSize, out, 3, 1, 1});
            size = outSize;
            in = out;
        }
        convs.add(conv("keypoints"));
        return convs;
    }

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
     * alphas_cumprod of the squaredcos_cap_v2 schedule that Diffusion Policy trains with, as the engine computes it
     * ({@link NoiseSchedule}: diffusers' float32 tables). beta_start and beta_end, DP's 1e-4 and 0.02, are not used by
     * this schedule.
     */
    static float[] squaredCosAbar(int steps) {
        return NoiseSchedule.create(BetaSchedule.SQUAREDCOS_CAP_V2, steps, 1e-4, 0.02).alphasCumprod();
    }
}
