package org.cotrain.policy;

import org.cotrain.diffusion.DdpmScheduler;
import org.cotrain.diffusion.NoiseSchedulerConfig;
import org.cotrain.nn.Buffer;
import org.cotrain.ops.Ops;
import org.cotrain.ops.Prediction;
import org.cotrain.random.Philox;
import org.cotrain.random.Streams;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's compute_loss after the observations are encoded, shared by the low-dim and the image policy:
 * given normalised action chunks x0 (B, H, Da) and the denoiser's condition (B, To, cond_dim), a diffusion step t
 * uniform in [0, T) and noise per sample, x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps on the batched DDPM kernel,
 * and the MSE between the denoiser's prediction and eps (or x0 with sample prediction); or ambient diffusion's loss
 * (ambient.h) with each sample's step and t_n given. {@link #backward} propagates into the denoiser's parameters and
 * leaves d loss / d cond in {@code model.condGrad()} for an observation encoder.
 *
 * <p>The randomness of training step k is a pure function of (seed, k) ({@link Streams}): TIMESTEPS, NOISE,
 * AMBIENT_NOISE and DROPOUT keyed by (seed, k).
 */
final class DenoisingObjective implements AutoCloseable {
    private final TrainableDenoiser model;
    private final NoiseSchedulerConfig schedule;
    private final DdpmScheduler trainScheduler;
    private final Buffer timestepsInt;   // (B) int32
    private final Buffer timestepsFloat; // (B) the same steps as the denoiser's float input
    private final Buffer noise;          // (B, H, Da)
    private final Buffer noisy;          // (B, H, Da)
    private final Buffer dPrediction;    // (B, H, Da)
    private final Buffer minSteps;       // (B) int32: ambient diffusion's t_n per sample, -1 for ordinary ones
    private final Buffer ambientNoise;   // (B, H, Da): the noise from x_{t_n} to x_t
    private final Buffer ambientTarget;  // (B, H, Da)
    private final Buffer lossWeight;     // (B, H, Da)
    private final Tensor lossValue;      // (1)
    private final Tensor lossGrad;       // (1)
    private Tensor lastPrediction;
    private Tensor lastTarget;
    private Tensor lastWeight;

    DenoisingObjective(Backend backend, TrainableDenoiser model, NoiseSchedulerConfig schedule) {
        this.model = model;
        this.schedule = schedule;
        this.trainScheduler = new DdpmScheduler(backend, schedule);
        this.timestepsInt = new Buffer(backend);
        this.timestepsFloat = new Buffer(backend);
        this.noise = new Buffer(backend);
        this.noisy = new Buffer(backend);
        this.dPrediction = new Buffer(backend);
        this.minSteps = new Buffer(backend);
        this.ambientNoise = new Buffer(backend);
        this.ambientTarget = new Buffer(backend);
        this.lossWeight = new Buffer(backend);
        this.lossValue = backend.zeros(1);
        this.lossGrad = backend.zeros(1);
    }

    /** DP's loss for training step {@code step} of a run seeded {@code seed}: draws t and eps, see the class comment. */
    float loss(Tensor action, Tensor cond, long seed, long step, boolean training) {
        int b = action.dim(0);
        int numTrain = schedule.numTrainTimesteps();
        long timestepKey = Streams.key(seed, Streams.TIMESTEPS, step);
        int[] steps = new int[b];
        for (int i = 0; i < b; i++) {
            steps[i] = Philox.randint(timestepKey, i, 0, numTrain);
        }
        Tensor eps = noise.get(action.shape());
        Ops.randNormal(eps, Streams.key(seed, Streams.NOISE, step), 0);
        return lossWith(action, cond, steps, eps, Streams.key(seed, Streams.DROPOUT, step), training);
    }

    /**
     * The same loss with the steps and the noise given (eps (B, H, Da)), and the dropout masks' key: what
     * {@link #loss} computes after its draws; a parity test feeds PyTorch's draws here.
     */
    float lossWith(Tensor action, Tensor cond, int[] steps, Tensor eps, long dropoutKey, boolean training) {
        if (steps.length != action.dim(0) || !eps.hasShape(action.shape())) {
            throw new IllegalArgumentException("policy loss: " + steps.length + " timesteps and noise "
                    + eps.shapeString() + " for actions " + action.shapeString());
        }
        Tensor t = timesteps(steps);
        Tensor xt = noisy.get(action.shape());
        trainScheduler.addNoise(action, eps, t, xt);
        Tensor target = schedule.predictionType() == Prediction.EPSILON ? eps : action;
        return lossOf(xt, cond, target, null, dropoutKey, training);
    }

    /**
     * The training loss of ambient diffusion (ambient.h) for step {@code step} of a run seeded {@code seed}: each
     * sample at its given diffusion step, drawn by the data pipeline together with its dataset; a sample with
     * minNoiseSteps[i] = -1 gets the ordinary loss (the same noise and target as {@link #loss}, so a batch of them
     * gives its loss exactly), one with minNoiseSteps[i] = t_n &gt;= 0 the ambient loss observed at x_{t_n}, weighted
     * by (s_t^2 - s_tn^2) / s_t^2 when {@code weighting}.
     */
    float loss(Tensor action, Tensor cond, int[] timesteps, int[] minNoiseSteps, boolean weighting, long seed,
               long step, boolean training) {
        int b = action.dim(0);
        if (timesteps.length != b || minNoiseSteps.length != b) {
            throw new IllegalArgumentException("policy loss: " + timesteps.length + " timesteps and "
                    + minNoiseSteps.length + " t_n for a batch of " + b);
        }
        Tensor t = timesteps(timesteps);
        Tensor tn = minSteps.get(DType.I32, b).copyFrom(minNoiseSteps);
        Tensor eps = noise.get(action.shape());
        Ops.randNormal(eps, Streams.key(seed, Streams.NOISE, step), 0);
        Tensor z = ambientNoise.get(action.shape());
        Ops.randNormal(z, Streams.key(seed, Streams.AMBIENT_NOISE, step), 0);
        Tensor xt = noisy.get(action.shape());
        Tensor target = ambientTarget.get(action.shape());
        // without weighting every weight is 1: no weight tensor, so the MSE is the unweighted one of loss()
        Tensor weight = weighting ? lossWeight.get(action.shape()) : null;
        Ops.ambientBatch(action, eps, z, t, tn, trainScheduler.alphasCumprod(), schedule.predictionType(), weighting,
                xt, target, weight);
        return lossOf(xt, cond, target, weight, Streams.key(seed, Streams.DROPOUT, step), training);
    }

    /** The steps as the int32 tensor of the kernels; their float copy is the denoiser's input. (B) */
    private Tensor timesteps(int[] steps) {
        float[] stepsAsFloat = new float[steps.length];
        for (int i = 0; i < steps.length; i++) {
            stepsAsFloat[i] = steps[i];
        }
        timestepsFloat.get(steps.length).copyFrom(stepsAsFloat);
        return timestepsInt.get(DType.I32, steps.length).copyFrom(steps);
    }

    /** The denoiser on xt, then the (weighted) MSE against the target; keeps what {@link #backward} needs. */
    private float lossOf(Tensor xt, Tensor cond, Tensor target, Tensor weight, long dropoutKey, boolean training) {
        Tensor tf = timestepsFloat.get(xt.dim(0));
        Tensor prediction = model.forward(xt, tf, cond, training, dropoutKey);
        Ops.mseForward(prediction, target, weight, lossValue);
        lastPrediction = prediction;
        lastTarget = target;
        lastWeight = weight;
        return lossValue.item();
    }

    /**
     * Backpropagates lossScale * the last loss into the denoiser's parameter gradients (accumulating); d loss / d cond
     * is then {@code model.condGrad()}.
     */
    void backward(float lossScale) {
        if (lastPrediction == null) {
            throw new IllegalStateException("policy backward before loss");
        }
        Ops.fill(lossGrad, lossScale);
        Tensor d = dPrediction.zeros(lastPrediction.shape());
        Ops.mseBackward(lastPrediction, lastTarget, lastWeight, lossGrad, d);
        model.backward(d);
    }

    /** The denoiser's output of the last loss (B, H, Da), or null before one. */
    Tensor lastPrediction() {
        return lastPrediction;
    }

    @Override
    public void close() {
        trainScheduler.close();
        for (Buffer buf : new Buffer[] {timestepsInt, timestepsFloat, noise, noisy, dPrediction, minSteps,
                ambientNoise, ambientTarget, lossWeight}) {
            buf.close();
        }
        lossValue.close();
        lossGrad.close();
    }
}
