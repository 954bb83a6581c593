package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.cotrain.config.ConditionalUnet1DConfig;
import org.cotrain.diffusion.NoiseSchedule;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.OpTesting;
import org.cotrain.optim.AdamW;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Two full DP-C training steps against PyTorch (tools/pytorch/conditional_unet1d.py, fixture unet_train_step, from
 * the weights of unet_a): DDPM add-noise with the squaredcos_cap_v2 schedule (T = 100), ConditionalUnet1D (variant a:
 * cond_predict_scale, down_dims [8, 12]), the epsilon-prediction MSE loss, its backward, and AdamW as DP's U-Net
 * workspaces configure it (every parameter in one group, betas 0.95/0.999, eps 1e-8; lr 1e-3 and weight decay 1e-3
 * so that both show), twice, so that the second step's bias correction and moment updates are checked too. The same
 * checks as {@link TrainingStepParityTest}, whose DP-T fixture lists its ill-conditioned elements the same way.
 *
 * <p>Compared: each loss within 1e-4, and per tensor, after each step, the weights and their change in that step
 * within 1e-3 (relative error: max |diff| / max |reference|). Why these hold in float32 on any kernel set:
 * <ul>
 *   <li>Loss: a mean of 48 squares of order one, from outputs within 1e-5 of their largest element
 *       (ConditionalUnet1DParityTest's FORWARD_TOL argument, same sizes): a relative error of about 2e-5.
 *   <li>Change, representation: the change is new - old of float32 weights, each side rounding its new weight once,
 *       so it carries up to one ulp of |w| (|w| < 2: GroupNorm weights 1 + N(0, 0.1^2), the rest under 1):
 *       2.4e-7 / lr = 2.4e-4 of a step, which is about lr.
 *   <li>Change, gradients: each gradient is within d of its tensor's largest, d about 1e-6 (up to 5e-6 for a few
 *       GroupNorm weights: PyTorch's float32 against float64 in the generator; the GRAD_TOL argument bounds it by
 *       1.2e-5 in the worst case of every rounding aligned). Step 1's update lr g / (|g| + eps) then only depends on
 *       the sign of g, wrong only where |g| < d; step 2's, m / sqrt(v), moves by about 1.4 lr d / max(|g1|, |g2|):
 *       1.4e-4 lr for elements at the fixture's threshold of 1e-2, 7e-4 at d = 5e-6. With the representation error
 *       that stays under 1e-3; the generator checks its own float32 steps against float64 within 2.5e-4 (recorded
 *       in the fixture's metadata).
 * </ul>
 * The elements the fixture marks ill-conditioned (from the float64 gradients: below 1e-4 of the tensor's largest in
 * step 1, below 1e-2 in both steps for step 2, and the whole of final_conv.0.block.0.bias, whose exact gradient is
 * zero because its GroupNorm has one channel per group) are instead checked against Adam's bound
 * |change| <= lr (1 + 1e-2) + lr wd |w| (|m^ / sqrt(v^)| <= 1.0005 for these betas at steps 1 and 2).
 */
class UnetTrainingStepParityTest {
    private static final double LOSS_TOL = 1e-4;
    private static final double WEIGHT_TOL = 1e-3;

    @Test
    void twoTrainingStepsMatchPyTorchOnCpu() {
        run(OpTesting.cpu());
    }

    @Test
    void twoTrainingStepsMatchPyTorchOnCuda() {
        run(OpTesting.cudaOrSkip());
    }

    static Safetensors resource(String file) {
        String resource = "/org/cotrain/policy/" + file;
        try (InputStream in = UnetTrainingStepParityTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource
                        + " (regenerate with /usr/bin/python3 tools/pytorch/conditional_unet1d.py)");
            }
            return Safetensors.read(in.readAllBytes(), resource);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(Backend backend) {
        Safetensors f = resource("unet_train_step.safetensors");
        Safetensors initial = resource(f.metadata().get("initial_weights"));
        ConditionalUnet1DConfig cfg = ConditionalUnet1DParityTest.config(f);
        assertEquals(ConditionalUnet1DParityTest.config(initial), cfg, "the initial weights' configuration");
        FixtureTrainingStep.Recipe recipe = FixtureTrainingStep.recipe(f);
        float lr = recipe.lr();
        float weightDecay = recipe.weightDecay();
        NoiseSchedule schedule = recipe.schedule();

        long before = backend.liveBytes();
        try (ConditionalUnet1D model = new ConditionalUnet1D(backend, cfg);
             Tensor abar = backend.of(schedule.alphasCumprod(), 100);
             Tensor loss = backend.zeros(1);
             Tensor one = backend.of(new float[] {1f}, 1)) {
            model.loadWeights(initial);
            assertEquals(Long.parseLong(f.metadata().get("parameter_count")), model.parameterCount());
            List<Parameter> params = model.parameters();
            params.forEach(p -> assertTrue(p.weightDecay(), p.name() + ": DP's U-Net decays every parameter"));
            try (AdamW optimizer = new AdamW(params, 0.95f, 0.999f, 1e-8f, weightDecay)) {
                float[] refOld = flatten(params);
                for (int step = 1; step <= 2; step++) {
                    String s = "step" + step + ".";
                    float[] old = flatten(params);
                    FixtureTrainingStep.run(f, step, model, optimizer, lr, abar, loss, one, LOSS_TOL, "DP-C");
                    float[] ref = f.floats(s + "weights");
                    compareWeights(f, step, params, old, ref, refOld, lr, weightDecay);
                    refOld = ref;
                }
            }
        }
        assertEquals(before, backend.liveBytes(), "native memory after closing model and optimizer");
    }

    /**
     * Weights after the step and their change in it, per tensor, on the well-conditioned elements; now, old, ref and
     * refOld are every parameter flattened in state_dict order, as the fixture stores them.
     */
    private static void compareWeights(Safetensors f, int step, List<Parameter> params, float[] old, float[] ref,
                                       float[] refOld, float lr, float weightDecay) {
        float[] now = flatten(params);
        assertEquals(ref.length, now.length, "step " + step + ": fixture weights");
        // the weights carry every step's noise so far; a step's change only its own
        boolean[] noisyWeight = new boolean[now.length];
        for (int k = 1; k <= step; k++) {
            mark(f.ints("step" + k + ".ill_conditioned"), noisyWeight);
        }
        boolean[] noisyChange = mark(f.ints("step" + step + ".ill_conditioned"), new boolean[now.length]);
        double worstWeight = 0;
        double worstChange = 0;
        String worstName = "";
        int excluded = 0;
        int offset = 0;
        for (Parameter p : params) {
            int n = Math.toIntExact(p.numel());
            List<Float> a = new ArrayList<>();
            List<Float> b = new ArrayList<>();
            List<Float> da = new ArrayList<>();
            List<Float> db = new ArrayList<>();
            for (int j = offset; j < offset + n; j++) {
                float change = now[j] - old[j];
                if (noisyChange[j]) {
                    float bound = lr * 1.01f + lr * weightDecay * Math.abs(old[j]);
                    assertTrue(Math.abs(change) <= bound, p.name() + "[" + (j - offset) + "]: change " + change
                            + " exceeds Adam's bound " + bound);
                    excluded++;
                } else {
                    da.add(change);
                    db.add(ref[j] - refOld[j]);
                }
                if (!noisyWeight[j]) {
                    a.add(now[j]);
                    b.add(ref[j]);
                }
            }
            offset += n;
            double werr = OpTesting.relativeError(floats(a), floats(b));
            double cerr = OpTesting.relativeError(floats(da), floats(db));
            assertTrue(werr < WEIGHT_TOL, "step " + step + ": " + p.name() + " weights relative error " + werr);
            assertTrue(cerr < WEIGHT_TOL, "step " + step + ": " + p.name() + " change relative error " + cerr);
            worstWeight = Math.max(worstWeight, werr);
            if (cerr >= worstChange) {
                worstChange = cerr;
                worstName = p.name();
            }
        }
        System.out.printf("DP-C training step %d: worst weight error %.2e, worst change error %.2e (%s); %d of %d "
                + "elements ill-conditioned, checked against Adam's bound%n", step, worstWeight, worstChange,
                worstName, excluded, now.length);
        // a sanity bound on the exclusions (about 2% in step 2: the elements small in both steps, and the 8 of
        // final_conv.0.block.0.bias)
        assertTrue(excluded < now.length / 20, "too many ill-conditioned elements: " + excluded + " of "
                + now.length);
    }

    private static boolean[] mark(int[] indices, boolean[] mask) {
        for (int i : indices) {
            mask[i] = true;
        }
        return mask;
    }

    /** Every parameter's value, flattened and concatenated in order. */
    private static float[] flatten(List<Parameter> params) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (Parameter p : params) {
            float[] v = p.value().toFloatArray();
            parts.add(v);
            n += v.length;
        }
        float[] r = new float[n];
        int at = 0;
        for (float[] v : parts) {
            System.arraycopy(v, 0, r, at, v.length);
            at += v.length;
        }
        return r;
    }

    private static float[] floats(List<Float> v) {
        float[] r = new float[v.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = v.get(i);
        }
        return r;
    }
}
