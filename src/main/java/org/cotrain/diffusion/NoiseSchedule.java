package org.cotrain.diffusion;

/**
 * The tables of a discrete noise schedule with T = num_train_timesteps steps: betas, alphas = 1 - betas and
 * alphas_cumprod (abar), on the host.
 *
 * <p>They are computed with the float32 arithmetic of diffusers' DDPMScheduler / DDIMScheduler (as PyTorch runs it
 * on the CPU), so that our abar, the one table the kernels read, equals the one a Diffusion Policy checkpoint was
 * trained with:
 * <ul>
 *   <li>squaredcos_cap_v2: each beta in float64 (Python floats), then rounded to float32 ({@code torch.tensor(betas,
 *       dtype=torch.float32)});</li>
 *   <li>linear / scaled_linear: {@code torch.linspace} in float32 (start + i step for the first half, end - (T - 1
 *       - i) step for the second, with step = (end - start) / (T - 1) in float32); scaled_linear squares the
 *       float32 linspace of the float64 square roots;</li>
 *   <li>alphas = 1.0 - betas in float32;</li>
 *   <li>alphas_cumprod = {@code torch.cumprod(alphas)}: PyTorch's CPU kernel multiplies in a float64 accumulator
 *       (at::acc_type of float on the CPU) and rounds each prefix product to float32, so that is what we do; a
 *       float32 running product differs from it in most entries.</li>
 * </ul>
 * Checked against PyTorch 1.13 for T = 100 (tools/pytorch/noise_schedule_fixture.py): squaredcos_cap_v2 bit for
 * bit; linear and scaled_linear within 1 ulp for abar (PyTorch 1.13 computes linspace with AVX2 vectors, whose
 * rounding differs from the scalar formula in a few entries, by up to a few ulps of beta; later PyTorch versions
 * use the scalar formula that we reproduce).
 */
public final class NoiseSchedule {
    /** diffusers' max_beta: the cap of squaredcos_cap_v2 (its last beta would otherwise be 1). */
    public static final double MAX_BETA = 0.999;

    private final BetaSchedule betaSchedule;
    private final float[] betas;          // (T)
    private final float[] alphas;         // (T)
    private final float[] alphasCumprod;  // (T)

    private NoiseSchedule(BetaSchedule betaSchedule, float[] betas) {
        this.betaSchedule = betaSchedule;
        int t = betas.length;
        this.betas = betas;
        this.alphas = new float[t];
        this.alphasCumprod = new float[t];
        double cumprod = 1.0; // PyTorch's CPU cumprod accumulator (float64)
        for (int i = 0; i < t; i++) {
            alphas[i] = 1.0f - betas[i];
            cumprod *= alphas[i];
            alphasCumprod[i] = (float) cumprod;
        }
    }

    /**
     * The schedule of T = numTrainTimesteps steps. betaStart and betaEnd (float64, as in a config) are used by the
     * linear schedules only.
     */
    public static NoiseSchedule create(BetaSchedule betaSchedule, int numTrainTimesteps, double betaStart,
                                       double betaEnd) {
        if (numTrainTimesteps < 1) {
            throw new IllegalArgumentException("noise_scheduler.num_train_timesteps must be >= 1, got "
                    + numTrainTimesteps);
        }
        float[] betas;
        switch (betaSchedule) {
            case LINEAR:
                checkBetas(betaStart, betaEnd);
                betas = linspace(betaStart, betaEnd, numTrainTimesteps);
                break;
            case SCALED_LINEAR:
                checkBetas(betaStart, betaEnd);
                betas = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps);
                for (int i = 0; i < betas.length; i++) {
                    betas[i] = betas[i] * betas[i];
                }
                break;
            case SQUAREDCOS_CAP_V2:
                betas = squaredCosCapV2(numTrainTimesteps);
                break;
            default:
                throw new IllegalArgumentException("unhandled beta schedule " + betaSchedule);
        }
        return new NoiseSchedule(betaSchedule, betas);
    }

    private static void checkBetas(double betaStart, double betaEnd) {
        if (!(betaStart > 0 && betaStart < 1 && betaEnd > 0 && betaEnd < 1)) {
            throw new IllegalArgumentException("noise_scheduler.beta_start and beta_end must be in (0, 1), got "
                    + betaStart + " and " + betaEnd);
        }
    }

    /** torch.linspace(start, end, n, dtype=torch.float32): endpoints rounded to float, both halves anchored. (n) */
    private static float[] linspace(double start, double end, int n) {
        float s = (float) start;
        float e = (float) end;
        float[] out = new float[n];
        if (n == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (n - 1);
        int halfway = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? s + step * i : e - step * (n - i - 1);
        }
        return out;
    }

    /** diffusers betas_for_alpha_bar: float64 betas from the cosine alpha_bar, capped, then rounded. (T) */
    private static float[] squaredCosCapV2(int t) {
        float[] out = new float[t];
        for (int i = 0; i < t; i++) {
            double t1 = (double) i / t;
            double t2 = (double) (i + 1) / t;
            out[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), MAX_BETA);
        }
        return out;
    }

    /** abar(tau) = cos^2(((tau + 0.008) / 1.008) pi / 2), evaluated in diffusers' order. */
    static double cosineAlphaBar(double tau) {
        double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    public BetaSchedule betaSchedule() {
        return betaSchedule;
    }

    /** T, the number of training timesteps. */
    public int numTrainTimesteps() {
        return betas.length;
    }

    /** A copy of the betas. (T) */
    public float[] betas() {
        return betas.clone();
    }

    /** A copy of alphas = 1 - betas. (T) */
    public float[] alphas() {
        return alphas.clone();
    }

    /** A copy of alphas_cumprod (abar). (T) */
    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** abar[t]. */
    public float alphaCumprod(int t) {
        return alphasCumprod[t];
    }
}
