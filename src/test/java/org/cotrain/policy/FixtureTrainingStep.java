package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.diffusion.BetaSchedule;
import org.cotrain.diffusion.NoiseSchedule;
import org.cotrain.io.Safetensors;
import org.cotrain.ops.OpTesting;
import org.cotrain.ops.Ops;
import org.cotrain.optim.AdamW;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * One training step of a denoiser on a PyTorch fixture's batch, as DP's compute_loss runs it: add the fixture's noise
 * to its x0 at its timesteps (DDPM), predict, the epsilon MSE and its backward, one AdamW step. The fixture holds
 * {@code step<k>.x0, .cond, .noise, .timesteps, .loss}; the loss is checked against PyTorch's to a relative
 * {@code lossTol}. The DP-T and DP-C training-step parity tests share it.
 */
final class FixtureTrainingStep {
    private FixtureTrainingStep() {}

    /** The fixture's training settings: lr, weight decay, and its noise schedule checked against diffusers' table. */
    record Recipe(float lr, float weightDecay, NoiseSchedule schedule) {}

    /** Reads the fixture's "train" metadata; both fixtures train at lr 1e-3, weight decay 1e-3, squaredcos_cap_v2. */
    static Recipe recipe(Safetensors f) {
        var train = TfdFixtures.flatJson(f.metadata().get("train"), f.source());
        float lr = Float.parseFloat(train.get("lr"));
        float weightDecay = Float.parseFloat(train.get("weight_decay"));
        assertEquals(1e-3f, lr);
        assertEquals(1e-3f, weightDecay);
        assertEquals("squaredcos_cap_v2", train.get("beta_schedule"));
        NoiseSchedule schedule = NoiseSchedule.create(BetaSchedule.SQUAREDCOS_CAP_V2, 100, 1e-4, 0.02);
        OpTesting.assertClose("alphas_cumprod vs diffusers' float32 table", schedule.alphasCumprod(),
                f.floats("alphas_cumprod"), 1e-6);
        return new Recipe(lr, weightDecay, schedule);
    }

    /**
     * @param abar (T) the schedule's alphas_cumprod on the backend
     * @param loss (1) scratch for the loss
     * @param one  (1) holding 1, the loss gradient
     */
    static void run(Safetensors f, int step, TrainableDenoiser model, AdamW optimizer, float lr, Tensor abar,
                    Tensor loss, Tensor one, double lossTol, String label) {
        Backend backend = model.backend();
        String s = "step" + step + ".";
        try (Tensor x0 = f.tensor(s + "x0", backend);
             Tensor cond = f.tensor(s + "cond", backend);
             Tensor noise = f.tensor(s + "noise", backend);
             Tensor t = f.tensor(s + "timesteps", backend);
             Tensor tf = backend.of(toFloat(f.ints(s + "timesteps")), t.dim(0));
             Tensor noisy = backend.zeros(x0.shape());
             Tensor dpred = backend.zeros(x0.shape())) {
            Ops.ddpmAddNoise(x0, noise, t, abar, noisy);
            model.zeroGrad();
            Tensor pred = model.forward(noisy, tf, cond, true, step);
            Ops.mseForward(pred, noise, null, loss);
            Ops.mseBackward(pred, noise, null, one, dpred);
            model.backward(dpred);
            optimizer.step(lr);
        }
        assertEquals(step, optimizer.steps());
        float torchLoss = f.floats(s + "loss")[0];
        double lossErr = Math.abs(loss.item() - torchLoss) / Math.abs(torchLoss);
        System.out.printf("%s training step %d (%s): loss %.7f vs PyTorch %.7f, relative error %.2e%n", label, step,
                backend.name(), loss.item(), torchLoss, lossErr);
        assertTrue(lossErr < lossTol, label + " step " + step + " loss relative error " + lossErr);
    }

    static float[] toFloat(int[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
