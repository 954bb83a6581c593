package org.cotrain.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.cotrain.backend.Backend;
import org.cotrain.config.Config;
import org.cotrain.data.DomainLabels;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.diffusion.DdimScheduler;
import org.cotrain.diffusion.DdpmScheduler;
import org.cotrain.diffusion.DiffusionSampler;
import org.cotrain.diffusion.NoiseScheduler;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Buffer;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.Ops;
import org.cotrain.ops.Prediction;
import org.cotrain.random.Philox;
import org.cotrain.random.Streams;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's low-dim transformer policy (DiffusionTransformerLowdimPolicy with obs_as_cond): the normalised
 * observations of the first To steps are the condition tokens of a {@link TransformerForDiffusion} that denoises a
 * chunk of H actions; the policy executes Ta of them from index To - 1.
 *
 * <p>Training ({@link #loss} then {@link #backward}): DP's compute_loss on a normalised batch: a diffusion step t
 * uniform in [0, T) and noise per sample, x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps on the batched DDPM kernel,
 * and the MSE between the prediction and eps (or x_0 with sample prediction). The randomness of training step k is
 * a pure function of (seed, k) (see {@link Streams}).
 *
 * <p>Inference ({@link #predictAction}): observations in, actions out, both in the units of the data; DDPM or DDIM
 * with any number of steps ({@link #setSampling}). The state dict (weights under DP's names "model.*", the
 * normaliser under "normalizer.params_dict.*") is DP's, so {@link #save} writes a file PyTorch's
 * load_state_dict accepts after safetensors.torch.load_file.
 */
public final class LowdimPolicy implements AutoCloseable {
    /** Where a checkpoint keeps the EMA copy of the weights (DP's workspace: state_dicts["ema_model"]). */
    public static final String EMA_PREFIX = org.cotrain.train.EmaModel.PREFIX;
    /** The metadata entry holding the resolved YAML config the policy was built from. */
    public static final String CONFIG_METADATA = "cotrain.config";

    /** How actions are sampled: the scheduler, its number of denoising steps and (DDIM) eta. */
    public record Sampling(Kind kind, int steps, float eta) {
        public enum Kind { DDPM, DDIM }

        public static Sampling ddpm(int steps) {
            return new Sampling(Kind.DDPM, steps, 0f);
        }

        public static Sampling ddim(int steps) {
            return new Sampling(Kind.DDIM, steps, 0f);
        }
    }

    private final LowdimPolicyConfig config;
    private final Backend backend;
    private final TransformerForDiffusion model;
    private final DdpmScheduler trainScheduler;
    private LinearNormalizer normalizer;

    // training buffers (B, ...)
    private final Buffer timestepsInt;   // (B) int32
    private final Buffer timestepsFloat; // (B) the same steps as the denoiser's float input
    private final Buffer noise;          // (B, H, Da)
    private final Buffer noisy;          // (B, H, Da)
    private final Buffer dPrediction;    // (B, H, Da)
    private final Tensor lossValue;      // (1)
    private final Tensor lossGrad;       // (1)
    private final Buffer minSteps;       // (B) int32: ambient diffusion's t_n per sample, -1 for ordinary ones
    private final Buffer ambientNoise;   // (B, H, Da): the noise from x_{t_n} to x_t
    private final Buffer ambientTarget;  // (B, H, Da)
    private final Buffer lossWeight;     // (B, H, Da)
    private Tensor lastPrediction;
    private Tensor lastTarget;
    private Tensor lastWeight;

    // sampling
    private Sampling sampling;
    private NoiseScheduler samplingScheduler;
    private DiffusionSampler sampler;
    private long samplingSeed;
    private long samplingCalls;
    private int domain;

    /** A policy with freshly initialised weights (DP's init from {@code seed}) and the given normaliser. */
    public LowdimPolicy(Backend backend, LowdimPolicyConfig config, LinearNormalizer normalizer, long seed) {
        this(backend, config, normalizer);
        model.initialize(Streams.key(seed, Streams.INIT, 0));
    }

    private LowdimPolicy(Backend backend, LowdimPolicyConfig config, LinearNormalizer normalizer) {
        checkNormalizer(normalizer, config, "the normaliser");
        this.config = config;
        this.backend = backend;
        this.normalizer = normalizer;
        this.model = new TransformerForDiffusion(backend, config.model());
        this.trainScheduler = new DdpmScheduler(backend, config.noiseScheduler());
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
        this.sampling = Sampling.ddpm(config.numInferenceSteps());
    }

    private static void checkNormalizer(LinearNormalizer n, LowdimPolicyConfig c, String what) {
        if (!n.has("obs") || !n.has("action") || n.field("obs").dim() != c.obsDim()
                || n.field("action").dim() != c.actionDim()) {
            throw new IllegalArgumentException(what + " must have fields obs (" + c.obsDim() + ") and action ("
                    + c.actionDim() + "), has " + n.keys());
        }
    }

    public LowdimPolicyConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    public TransformerForDiffusion model() {
        return model;
    }

    public LinearNormalizer normalizer() {
        return normalizer;
    }

    // ---- training -------------------------------------------------------------------------------------------------

    /**
     * DP's compute_loss for training step {@code step} of a run seeded {@code seed}: returns the loss and keeps
     * what {@link #backward} needs. training turns dropout on.
     *
     * @param action (B, H, Da) normalised action chunks
     * @param obs    (B, To, Do) normalised observations
     */
    public float loss(Tensor action, Tensor obs, long seed, long step, boolean training) {
        int b = checkBatch(action, obs);
        int numTrain = config.noiseScheduler().numTrainTimesteps();
        long timestepKey = Streams.key(seed, Streams.TIMESTEPS, step);
        int[] steps = new int[b];
        for (int i = 0; i < b; i++) {
            steps[i] = Philox.randint(timestepKey, i, 0, numTrain);
        }
        Tensor t = timesteps(steps);
        Tensor eps = noise.get(action.shape());
        Ops.randNormal(eps, Streams.key(seed, Streams.NOISE, step), 0);
        Tensor xt = noisy.get(action.shape());
        trainScheduler.addNoise(action, eps, t, xt);
        Tensor target = config.noiseScheduler().predictionType() == Prediction.EPSILON ? eps : action;
        return lossOf(xt, obs, target, null, seed, step, training);
    }

    /**
     * The training loss of ambient diffusion (ambient.h) for step {@code step} of a run seeded {@code seed}: each
     * sample at its given diffusion step, drawn by the data pipeline together with its dataset; a sample with
     * minNoiseSteps[i] = -1 gets the ordinary loss (the same noise and target as {@link #loss}, so a batch of them
     * gives its loss exactly), one with minNoiseSteps[i] = t_n &gt;= 0 the ambient loss observed at x_{t_n}, weighted
     * by (s_t^2 - s_tn^2) / s_t^2 when {@code weighting}.
     *
     * @param action        (B, H, Da) normalised action chunks (x0, corrupt for ambient samples)
     * @param obs           (B, To, Do) normalised observations
     * @param timesteps     (B) each sample's diffusion step in [0, T)
     * @param minNoiseSteps (B) each sample's t_n (&lt; its step), or -1
     */
    public float loss(Tensor action, Tensor obs, int[] timesteps, int[] minNoiseSteps, boolean weighting, long seed,
                      long step, boolean training) {
        int b = checkBatch(action, obs);
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
        Ops.ambientBatch(action, eps, z, t, tn, trainScheduler.alphasCumprod(),
                config.noiseScheduler().predictionType(), weighting, xt, target, weight);
        return lossOf(xt, obs, target, weight, seed, step, training);
    }

    private int checkBatch(Tensor action, Tensor obs) {
        int b = action.dim(0);
        if (!action.hasShape(b, config.horizon(), config.actionDim())
                || !obs.hasShape(b, config.nObsSteps(), config.conditionDim())) {
            throw new IllegalArgumentException("policy loss: action " + action.shapeString() + " and obs "
                    + obs.shapeString() + ", expected (B, " + config.horizon() + ", " + config.actionDim() + ") and (B, "
                    + config.nObsSteps() + ", " + config.conditionDim() + ")");
        }
        return b;
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
    private float lossOf(Tensor xt, Tensor obs, Tensor target, Tensor weight, long seed, long step,
                         boolean training) {
        Tensor tf = timestepsFloat.get(xt.dim(0));
        Tensor prediction = model.forward(xt, tf, obs, training, Streams.key(seed, Streams.DROPOUT, step));
        Ops.mseForward(prediction, target, weight, lossValue);
        lastPrediction = prediction;
        lastTarget = target;
        lastWeight = weight;
        return lossValue.item();
    }

    /** Backpropagates lossScale * the last {@link #loss} into every parameter's gradient (accumulating). */
    public void backward(float lossScale) {
        if (lastPrediction == null) {
            throw new IllegalStateException("policy backward before loss");
        }
        Ops.fill(lossGrad, lossScale);
        Tensor d = dPrediction.zeros(lastPrediction.shape());
        Ops.mseBackward(lastPrediction, lastTarget, lastWeight, lossGrad, d);
        model.backward(d);
    }

    /** The denoiser's output of the last {@link #loss} (B, H, Da), for diagnostics. */
    public Tensor lastPrediction() {
        return lastPrediction;
    }

    // ---- inference ------------------------------------------------------------------------------------------------

    public Sampling sampling() {
        return sampling;
    }

    /** Chooses the sampler: DDPM (steps dividing T as diffusers spaces them) or DDIM with any steps and eta. */
    public void setSampling(Sampling sampling) {
        int t = config.noiseScheduler().numTrainTimesteps();
        if (sampling.steps() < 1 || sampling.steps() > t) {
            throw new IllegalArgumentException("sampling steps must be in [1, " + t + "], got " + sampling.steps());
        }
        closeSampler();
        this.sampling = sampling;
    }

    /**
     * The domain label given at inference when the policy is domain conditioned (default 0: the target data, the
     * first dataset of training).
     */
    public void setDomain(int domain) {
        if (config.numDomains() == 0) {
            throw new IllegalStateException("setDomain: this policy is not domain conditioned");
        }
        if (domain < 0 || domain >= config.numDomains()) {
            throw new IllegalArgumentException("domain " + domain + " outside [0, " + config.numDomains() + ")");
        }
        this.domain = domain;
    }

    /** The seed of the sampling noise; each later call to predictAction draws fresh noise from it. */
    public void setSeed(long seed) {
        this.samplingSeed = seed;
        this.samplingCalls = 0;
    }

    /**
     * DP's predict_action for a batch of observation histories.
     *
     * @param obs (B, To, Do) observations in data units, flattened row-major
     * @return (B, H, Da) the whole predicted chunk in data units (DP's action_pred); the executed actions are
     *     steps [To - 1, To - 1 + Ta) of each chunk, see {@link #executedActions}
     */
    public float[] predictActionChunk(float[] obs, int batch) {
        int to = config.nObsSteps();
        int dobs = config.obsDim();
        if (batch < 1 || obs.length != batch * to * dobs) {
            throw new IllegalArgumentException("predictAction: " + obs.length + " observation values for batch "
                    + batch + ", expected (" + batch + ", " + to + ", " + dobs + ") = " + (batch * to * dobs));
        }
        for (int i = 0; i < obs.length; i++) {
            if (!Float.isFinite(obs[i])) {
                throw new IllegalArgumentException("predictAction: observation value " + i + " (batch "
                        + i / (to * dobs) + ", step " + (i / dobs) % to + ", dim " + i % dobs + ") is " + obs[i]);
            }
        }
        DiffusionSampler s = sampler(batch);
        float[] chunk;
        float[] condition = normalizer.normalize("obs", obs);
        if (config.numDomains() > 0) {
            int[] labels = new int[batch];
            java.util.Arrays.fill(labels, domain);
            condition = DomainLabels.append(condition, batch, to, dobs, labels, config.numDomains());
        }
        try (Tensor cond = backend.of(condition, batch, to, config.conditionDim());
                Tensor out = backend.empty(batch, config.horizon(), config.actionDim())) {
            s.sample(cond, Streams.key(samplingSeed, Streams.SAMPLING, samplingCalls++), 0, out);
            chunk = out.toFloatArray();
        }
        return normalizer.unnormalize("action", chunk);
    }

    /**
     * Samples action chunks for conditions already in the denoiser's space: cond (B, To, conditionDim), normalised
     * observations with the domain label columns when the policy has them (a training batch's obs); out (B, H, Da)
     * normalised chunks. The sampling noise comes from the seed of {@link #setSeed}, as for predictAction. Afterwards
     * {@code model().lastMemory()} and {@code model().lastFinalActivations()} hold the last denoising step's
     * activations (the analysis reads them).
     */
    public void sampleNormalized(Tensor cond, Tensor out) {
        int b = cond.dim(0);
        if (!cond.hasShape(b, config.nObsSteps(), config.conditionDim())
                || !out.hasShape(b, config.horizon(), config.actionDim())) {
            throw new IllegalArgumentException("sampleNormalized: cond " + cond.shapeString() + " and out "
                    + out.shapeString() + ", expected (B, " + config.nObsSteps() + ", " + config.conditionDim()
                    + ") and (B, " + config.horizon() + ", " + config.actionDim() + ")");
        }
        sampler(b).sample(cond, Streams.key(samplingSeed, Streams.SAMPLING, samplingCalls++), 0, out);
    }

    /** The Ta executed actions of each chunk, (B, Ta, Da), from {@link #predictActionChunk}'s (B, H, Da). */
    public float[] executedActions(float[] chunk, int batch) {
        int h = config.horizon();
        int da = config.actionDim();
        int ta = config.nActionSteps();
        int start = config.nObsSteps() - 1;
        float[] out = new float[batch * ta * da];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(chunk, (b * h + start) * da, out, b * ta * da, ta * da);
        }
        return out;
    }

    /**
     * One environment's next actions: obsHistory[k] is the observation k steps into the last To (oldest first);
     * returns Ta actions of Da values in data units.
     */
    public float[][] predictAction(float[][] obsHistory) {
        int to = config.nObsSteps();
        int dobs = config.obsDim();
        if (obsHistory.length != to) {
            throw new IllegalArgumentException("predictAction: " + obsHistory.length + " observations, the policy"
                    + " needs the last n_obs_steps = " + to);
        }
        float[] flat = new float[to * dobs];
        for (int k = 0; k < to; k++) {
            if (obsHistory[k].length != dobs) {
                throw new IllegalArgumentException("predictAction: observation " + k + " has " + obsHistory[k].length
                        + " values, expected obs_dim " + dobs);
            }
            System.arraycopy(obsHistory[k], 0, flat, k * dobs, dobs);
        }
        float[] actions = executedActions(predictActionChunk(flat, 1), 1);
        int da = config.actionDim();
        float[][] out = new float[config.nActionSteps()][da];
        for (int k = 0; k < out.length; k++) {
            System.arraycopy(actions, k * da, out[k], 0, da);
        }
        return out;
    }

    private DiffusionSampler sampler(int batch) {
        if (sampler != null && sampler.batchSize() == batch) {
            return sampler;
        }
        closeSampler();
        samplingScheduler = sampling.kind() == Sampling.Kind.DDPM
                ? new DdpmScheduler(backend, config.noiseScheduler())
                : new DdimScheduler(backend, config.noiseScheduler(), sampling.eta(), false);
        sampler = new DiffusionSampler(model, samplingScheduler, sampling.steps(), batch, config.horizon(),
                config.actionDim());
        return sampler;
    }

    private void closeSampler() {
        if (sampler != null) {
            sampler.close();
            sampler = null;
        }
        if (samplingScheduler != null) {
            samplingScheduler.close();
            samplingScheduler = null;
        }
    }

    // ---- state dict -----------------------------------------------------------------------------------------------

    /** Adds DP's policy state dict: the denoiser ("model.*", with its mask buffers) and the normaliser. */
    public void addTo(Safetensors.Writer writer) {
        // DP's ModuleAttrMixin registers an empty _dummy_variable in the policy and in its mask generator; written
        // so that torch's load_state_dict(strict=True) accepts the file
        writer.add(TransformerForDiffusion.DUMMY_VARIABLE, new float[0], 0);
        writer.add("mask_generator." + TransformerForDiffusion.DUMMY_VARIABLE, new float[0], 0);
        model.addTo(writer);
        for (Map.Entry<String, float[]> e : normalizer.stateDict().entrySet()) {
            writer.add(e.getKey(), e.getValue(), e.getValue().length);
        }
    }

    /** Loads the weights (EMA ones when {@code ema} and the file has them) and the normaliser from a file. */
    public void load(Safetensors file, boolean ema) {
        LinearNormalizer n = readNormalizer(file);
        checkNormalizer(n, config, file.source() + ": the normaliser");
        model.loadWeights(file);
        if (ema && hasEma(file)) {
            for (Parameter p : model.parameters()) {
                String name = EMA_PREFIX + p.name();
                if (!file.contains(name)) {
                    throw new IllegalArgumentException(file.source() + ": missing EMA weight " + name);
                }
                file.copyInto(name, p.value());
            }
        }
        this.normalizer = n;
    }

    /** The normaliser stored in a checkpoint or saved policy (DP's normalizer.params_dict.* entries). */
    public static LinearNormalizer readNormalizer(Safetensors file) {
        Map<String, float[]> state = new LinkedHashMap<>();
        for (String name : file.names()) {
            if (name.startsWith(LinearNormalizer.STATE_DICT_PREFIX)) {
                state.put(name, file.floats(name));
            }
        }
        return LinearNormalizer.fromStateDict(state);
    }

    /** Whether a file holds EMA weights. */
    public static boolean hasEma(Safetensors file) {
        return file.names().stream().anyMatch(n -> n.startsWith(EMA_PREFIX));
    }

    /** Writes the policy alone (DP's state dict plus the config in the metadata). */
    public void save(Path path, String configYaml) throws IOException {
        Safetensors.Writer w = Safetensors.writer().metadata("format", "pt").metadata(CONFIG_METADATA, configYaml);
        addTo(w);
        org.cotrain.io.AtomicFiles.write(path, w::write);
    }

    /**
     * Opens a policy from a checkpoint or a saved policy: its config from the metadata, the EMA weights when there
     * are any (what Diffusion Policy evaluates), else the trained ones.
     */
    public static LowdimPolicy load(Path path, Backend backend) throws IOException {
        Safetensors file = Safetensors.read(path);
        String yaml = file.metadata().get(CONFIG_METADATA);
        if (yaml == null) {
            throw new IllegalArgumentException(path + ": no " + CONFIG_METADATA + " metadata; not a cotrain policy or"
                    + " checkpoint");
        }
        LowdimPolicyConfig config = LowdimPolicyConfig.from(Config.fromYaml(yaml, path + " metadata")
                .toTrainConfig());
        LowdimPolicy policy = new LowdimPolicy(backend, config, readNormalizer(file));
        try {
            policy.load(file, true);
        } catch (RuntimeException e) {
            policy.close();
            throw e;
        }
        return policy;
    }

    @Override
    public void close() {
        closeSampler();
        model.close();
        trainScheduler.close();
        for (Buffer buf : new Buffer[] {timestepsInt, timestepsFloat, noise, noisy, dPrediction, minSteps,
                ambientNoise, ambientTarget, lossWeight}) {
            buf.close();
        }
        lossValue.close();
        lossGrad.close();
    }
}
