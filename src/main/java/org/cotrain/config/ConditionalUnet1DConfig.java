package org.cotrain.config;

import java.util.List;

/**
 * The options of Diffusion Policy's ConditionalUnet1D (DP-C), with its argument names in the comments, as DP's
 * DiffusionUnetLowdimPolicy builds it with obs_as_global_cond: the observations of the n_obs_steps steps, flattened,
 * are the global condition (global_cond_dim = n_obs_steps cond_dim), concatenated after the diffusion-step features;
 * without observations (cond_dim 0) the step features alone condition the model. The one home of the denoiser's
 * config: the constructor checks the model's invariants.
 *
 * @param inputDim              input_dim: features of each step of the noisy sample (action_dim with a global
 *                              condition); the output has the same width
 * @param horizon               horizon: steps of the sample; divisible by 2^(levels - 1), as DP's skips need
 * @param nObsSteps             n_obs_steps: observation steps of the global condition (used when condDim > 0)
 * @param condDim               features of each observation step, 0 for none (DP: obs_as_global_cond false)
 * @param diffusionStepEmbedDim diffusion_step_embed_dim: width of the step features (even, >= 4)
 * @param downDims              down_dims: channels of each level (DP: [256, 512, 1024]), each divisible by n_groups;
 *                              the first also by 8, the group count DP's final Conv1dBlock takes by default
 * @param kernelSize            kernel_size: odd (padding k // 2 keeps the length)
 * @param nGroups               n_groups: GroupNorm groups of the residual blocks
 * @param condPredictScale      cond_predict_scale: FiLM scale and bias (true) or bias only
 */
public record ConditionalUnet1DConfig(int inputDim, int horizon, int nObsSteps, int condDim,
                                      int diffusionStepEmbedDim, List<Integer> downDims, int kernelSize, int nGroups,
                                      boolean condPredictScale) {
    /** The GroupNorm groups of DP's final Conv1dBlock, built without n_groups (so with Conv1dBlock's default). */
    public static final int FINAL_BLOCK_GROUPS = 8;

    public ConditionalUnet1DConfig {
        positive("input_dim", inputDim);
        positive("horizon", horizon);
        positive("kernel_size", kernelSize);
        positive("n_groups", nGroups);
        if (kernelSize % 2 == 0) {
            throw new IllegalArgumentException("kernel_size must be odd (Conv1d padding k // 2 keeps the length), got "
                    + kernelSize);
        }
        if (diffusionStepEmbedDim < 4 || diffusionStepEmbedDim % 2 != 0) {
            throw new IllegalArgumentException("diffusion_step_embed_dim must be even and >= 4 (sinusoidal step "
                    + "embedding), got " + diffusionStepEmbedDim);
        }
        if (condDim < 0) {
            throw new IllegalArgumentException("cond_dim must be >= 0, got " + condDim);
        }
        if (condDim > 0) {
            positive("n_obs_steps", nObsSteps);
        }
        if (downDims == null || downDims.isEmpty()) {
            throw new IllegalArgumentException("down_dims must list at least one level, got " + downDims);
        }
        downDims = List.copyOf(downDims);
        for (int d : downDims) {
            if (d <= 0 || d % nGroups != 0) {
                throw new IllegalArgumentException("down_dims " + downDims + ": every width must be a positive "
                        + "multiple of n_groups " + nGroups + ", got " + d);
            }
        }
        if (downDims.get(0) % FINAL_BLOCK_GROUPS != 0) {
            throw new IllegalArgumentException("down_dims " + downDims + ": the first width must be a multiple of "
                    + FINAL_BLOCK_GROUPS + " (DP's final Conv1dBlock has GroupNorm with its default 8 groups), got "
                    + downDims.get(0));
        }
        int factor = 1 << (downDims.size() - 1);
        if (horizon % factor != 0) {
            throw new IllegalArgumentException("horizon " + horizon + " is not divisible by 2^(levels - 1) = "
                    + factor + " for down_dims " + downDims + " (each level but the last halves the length, and the "
                    + "up path must meet the skips)");
        }
    }

    /**
     * A U-Net low-dim config's policy.model section (DP's train_diffusion_unet_lowdim_workspace): input_dim,
     * local_cond_dim and global_cond_dim are DP's interpolations and are checked against the top-level keys; the
     * observations condition the model globally (obs_as_global_cond) or not at all.
     */
    static ConditionalUnet1DConfig read(ConfigReader r, int horizon, int nObsSteps, int obsDim, int actionDim,
                                        boolean obsAsGlobalCond) {
        String p = "policy.model.";
        int inputDim = r.integer(p + "input_dim", 1);
        r.same(p + "input_dim", inputDim, obsAsGlobalCond ? "action_dim" : "obs_dim + action_dim",
                obsAsGlobalCond ? actionDim : obsDim + actionDim);
        Integer local = r.optionalInteger(p + "local_cond_dim", 1);
        if (local != null) {
            throw r.invalid(p + "local_cond_dim", "null (obs_as_local_cond is not supported)", (long) local);
        }
        Integer global = r.optionalInteger(p + "global_cond_dim", 1);
        r.same(p + "global_cond_dim", global, obsAsGlobalCond ? "obs_dim * n_obs_steps" : "null (obs_as_global_cond "
                + "is false)", obsAsGlobalCond ? Integer.valueOf(obsDim * nObsSteps) : null);
        int dsed = r.integer(p + "diffusion_step_embed_dim", 4);
        if (dsed % 2 != 0) {
            throw r.invalid(p + "diffusion_step_embed_dim", "even (the sinusoidal step embedding)", (long) dsed);
        }
        List<Integer> downDims = r.integers(p + "down_dims", -1, 1);
        int kernel = r.integer(p + "kernel_size", 1);
        if (kernel % 2 == 0) {
            throw r.invalid(p + "kernel_size", "odd (padding kernel_size // 2 keeps the length)", (long) kernel);
        }
        int groups = r.integer(p + "n_groups", 1);
        for (int d : downDims) {
            if (d % groups != 0) {
                throw r.invalid(p + "down_dims", "widths that are multiples of " + p + "n_groups (" + groups + ")",
                        downDims);
            }
        }
        if (downDims.get(0) % FINAL_BLOCK_GROUPS != 0) {
            throw r.invalid(p + "down_dims", "a first width that is a multiple of " + FINAL_BLOCK_GROUPS
                    + " (DP's final Conv1dBlock has GroupNorm with 8 groups)", downDims);
        }
        if (horizon % (1 << (downDims.size() - 1)) != 0) {
            throw r.invalid(p + "down_dims", "at most as many levels as halve horizon " + horizon
                    + " exactly (horizon divisible by 2^(levels - 1))", downDims);
        }
        boolean scale = r.bool(p + "cond_predict_scale");
        return new ConditionalUnet1DConfig(inputDim, horizon, nObsSteps, obsAsGlobalCond ? obsDim : 0, dsed, downDims,
                kernel, groups, scale);
    }

    /** The same denoiser with another condition width (domain conditioning adds a column per dataset). */
    public ConditionalUnet1DConfig withCondDim(int width) {
        return new ConditionalUnet1DConfig(inputDim, horizon, nObsSteps, width, diffusionStepEmbedDim, downDims,
                kernelSize, nGroups, condPredictScale);
    }

    /** obs_as_global_cond: whether observations condition the model. */
    public boolean obsAsGlobalCond() {
        return condDim > 0;
    }

    /** global_cond_dim: n_obs_steps cond_dim, or 0 (DP's None) without observations. */
    public int globalCondDim() {
        return condDim > 0 ? nObsSteps * condDim : 0;
    }

    /** The condition width of every residual block: the step features plus the global condition. */
    public int blockCondDim() {
        return diffusionStepEmbedDim + globalCondDim();
    }

    public int levels() {
        return downDims.size();
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
