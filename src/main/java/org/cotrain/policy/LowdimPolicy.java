package org.cotrain.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cotrain.config.Config;
import org.cotrain.config.OptimizerConfig;
import org.cotrain.data.ConditionDropout;
import org.cotrain.data.DomainLabels;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.random.Streams;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's low-dim transformer policy (DiffusionTransformerLowdimPolicy with obs_as_cond): the normalised
 * observations of the first To steps are the condition tokens of a {@link TransformerForDiffusion} that denoises a
 * chunk of H actions; the policy executes Ta of them from index To - 1. With a U-Net config (DP's
 * DiffusionUnetLowdimPolicy with obs_as_global_cond) the denoiser is a {@link ConditionalUnet1D} conditioned on the
 * same observations, flattened; everything else is the same.
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
public final class LowdimPolicy implements TrainablePolicy {
    private final LowdimPolicyConfig config;
    private final Backend backend;
    private final TrainableDenoiser model;
    private final DenoisingObjective objective;
    private final ChunkSampling sampling;
    private LinearNormalizer normalizer;
    private int domain;
    private int actionSteps;

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
        this.model = config.unet() != null ? new ConditionalUnet1D(backend, config.unet())
                : new TransformerForDiffusion(backend, config.model());
        this.objective = new DenoisingObjective(backend, model, config.noiseScheduler());
        this.actionSteps = config.nActionSteps();
        this.sampling = new ChunkSampling(backend, model, config.noiseScheduler(), config.horizon(),
                config.actionDim(), config.numInferenceSteps());
        float[][] nullCondition = config.nullCondition();
        if (nullCondition != null) {
            sampling.setNullCondition(nullCondition[0], nullCondition[1]);
        }
        double w = config.guidance().weight();
        if (w != 1) { // cotrain.guidance.weight: the config's default sampling is guided
            sampling.setSampling(sampling.sampling().guidance(w));
        }
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

    @Override
    public Backend backend() {
        return backend;
    }

    /**
     * The transformer denoiser (DP-T); a U-Net policy has none ({@link #denoiser()} is its ConditionalUnet1D), and
     * asking is an error that says so.
     */
    public TransformerForDiffusion model() {
        if (model instanceof TransformerForDiffusion t) {
            return t;
        }
        throw new IllegalStateException("this low-dim policy's denoiser is " + model.getClass().getSimpleName()
                + " (DP-C), not the transformer: use denoiser()");
    }

    /** The denoiser: TransformerForDiffusion (DP-T) or ConditionalUnet1D (DP-C). */
    public TrainableDenoiser denoiser() {
        return model;
    }

    @Override
    public List<Parameter> parameters() {
        return model.parameters();
    }

    @Override
    public LinearNormalizer normalizer() {
        return normalizer;
    }

    /** The data pipeline's normaliser is DP's own here: fields "obs" and "action". */
    @Override
    public LinearNormalizer dataNormalizer() {
        return normalizer;
    }

    /** DP's get_optim_groups: optimizer.weight_decay on Linear and attention weights, none on the rest. */
    @Override
    public float[] weightDecays(OptimizerConfig optimizer) {
        List<Parameter> ps = parameters();
        float[] out = new float[ps.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ps.get(i).weightDecay() ? (float) optimizer.weightDecay() : 0f;
        }
        return out;
    }

    // ---- training -------------------------------------------------------------------------------------------------

    @Override
    public float loss(BatchTensors batch, long seed, long step, boolean training, boolean ambientWeighting) {
        if (batch.obs() == null) {
            throw new IllegalArgumentException("low-dim policy loss: the batch has no observations");
        }
        return batch.timesteps() == null ? loss(batch.actions(), batch.obs(), seed, step, training)
                : loss(batch.actions(), batch.obs(), batch.timesteps(), batch.minNoiseSteps(), ambientWeighting, seed,
                step, training);
    }

    /**
     * DP's compute_loss for training step {@code step} of a run seeded {@code seed}: returns the loss and keeps
     * what {@link #backward} needs. training turns dropout on.
     *
     * @param action (B, H, Da) normalised action chunks
     * @param obs    (B, To, Do) normalised observations
     */
    public float loss(Tensor action, Tensor obs, long seed, long step, boolean training) {
        checkBatch(action, obs);
        return objective.loss(action, obs, seed, step, training);
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
        checkBatch(action, obs);
        return objective.loss(action, obs, timesteps, minNoiseSteps, weighting, seed, step, training);
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

    /** Backpropagates lossScale * the last {@link #loss} into every parameter's gradient (accumulating). */
    @Override
    public void backward(float lossScale) {
        objective.backward(lossScale);
    }

    /** The denoiser's output of the last {@link #loss} (B, H, Da), for diagnostics. */
    @Override
    public Tensor lastPrediction() {
        return objective.lastPrediction();
    }

    // ---- inference ------------------------------------------------------------------------------------------------

    public Sampling sampling() {
        return sampling.sampling();
    }

    /**
     * Chooses the sampler: DDPM (steps dividing T as diffusers spaces them) or DDIM with any steps and eta, and the
     * guidance weight (w != 1 needs a policy trained with the null condition, or mode domain; see
     * {@link LowdimPolicyConfig#nullCondition}). The config's is DDPM at num_inference_steps with
     * cotrain.guidance.weight.
     */
    public void setSampling(Sampling s) {
        sampling.setSampling(s);
    }

    /**
     * The domain label given at inference when the policy is domain conditioned (default 0: the target data, the
     * first dataset of training).
     */
    public void setDomain(int domain) {
        this.domain = DomainLabels.checkInferenceDomain(domain, config.numDomains());
    }

    /** The seed of the sampling noise; each later call to predictAction draws fresh noise from it. */
    public void setSeed(long seed) {
        sampling.setSeed(seed);
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
        float[] chunk;
        float[] condition = condition(normalizer.normalize("obs", obs), batch, domain);
        try (Tensor cond = backend.of(condition, batch, to, config.conditionDim());
                Tensor out = backend.empty(batch, config.horizon(), config.actionDim())) {
            sampling.sample(cond, out, sampling.nextKey());
            chunk = out.toFloatArray();
        }
        return normalizer.unnormalize("action", chunk);
    }

    /**
     * The denoiser's condition (B, To, conditionDim) of normalised observations (B, To, Do): each step's values, its
     * "has observation" flag (1) when the policy has one, and the one-hot label of {@code domain} when it is domain
     * conditioned (else domain is ignored).
     */
    public float[] condition(float[] normalizedObs, int batch, int domain) {
        int to = config.nObsSteps();
        int dobs = config.obsDim();
        float[] c = normalizedObs;
        int width = dobs;
        if (config.guidance().observedFlag()) {
            c = new ConditionDropout(0, true).apply(c, batch, to, dobs, new boolean[batch]);
            width++;
        }
        if (config.numDomains() > 0) {
            int[] labels = new int[batch];
            java.util.Arrays.fill(labels, domain);
            c = DomainLabels.append(c, batch, to, width, labels, config.numDomains());
        }
        return c;
    }

    /**
     * Samples action chunks for conditions already in the denoiser's space: cond (B, To, conditionDim), normalised
     * observations with the domain label columns when the policy has them (a training batch's obs); out (B, H, Da)
     * normalised chunks. The sampling noise comes from the seed of {@link #setSeed}, as for predictAction. Afterwards
     * the denoiser's {@link EmbeddingCapture} holds the last denoising step's embeddings (the analysis reads them).
     */
    public void sampleNormalized(Tensor cond, Tensor out) {
        int b = cond.dim(0);
        if (!cond.hasShape(b, config.nObsSteps(), config.conditionDim())
                || !out.hasShape(b, config.horizon(), config.actionDim())) {
            throw new IllegalArgumentException("sampleNormalized: cond " + cond.shapeString() + " and out "
                    + out.shapeString() + ", expected (B, " + config.nObsSteps() + ", " + config.conditionDim()
                    + ") and (B, " + config.horizon() + ", " + config.actionDim() + ")");
        }
        sampling.sample(cond, out, sampling.nextKey());
    }

    /** The actions executed of each chunk: the config's n_action_steps unless {@link #setActionSteps} changed it. */
    public int actionSteps() {
        return actionSteps;
    }

    /**
     * Executes n actions of each chunk from To - 1 instead of the config's n_action_steps (1 <= n <= H - To + 1): an
     * evaluation setting (fewer actions replan more often, at more sampling per episode); training is unchanged.
     */
    public void setActionSteps(int n) {
        this.actionSteps = ActionChunks.checkActionSteps(n, config.horizon(), config.nObsSteps());
    }

    /** The Ta executed actions of each chunk, (B, Ta, Da), from {@link #predictActionChunk}'s (B, H, Da). */
    public float[] executedActions(float[] chunk, int batch) {
        return ActionChunks.executed(chunk, batch, config.horizon(), config.actionDim(), config.nObsSteps(),
                actionSteps);
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
        float[][] out = new float[actionSteps][da];
        for (int k = 0; k < out.length; k++) {
            System.arraycopy(actions, k * da, out[k], 0, da);
        }
        return out;
    }

    // ---- state dict -----------------------------------------------------------------------------------------------

    /** Adds DP's policy state dict: the denoiser ("model.*", with its mask buffers) and the normaliser. */
    @Override
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
    @Override
    public void load(Safetensors file, boolean ema) {
        LinearNormalizer n = LinearNormalizer.read(file);
        checkNormalizer(n, config, file.source() + ": the normaliser");
        model.loadWeights(file);
        if (ema && Checkpoint.hasEma(file)) {
            for (Parameter p : model.parameters()) {
                String name = Checkpoint.EMA_PREFIX + p.name();
                if (!file.contains(name)) {
                    throw new IllegalArgumentException(file.source() + ": missing EMA weight " + name);
                }
                file.copyInto(name, p.value());
            }
        }
        this.normalizer = n;
    }

    /** Writes the policy alone (DP's state dict plus the config in the metadata). */
    public void save(Path path, String configYaml) throws IOException {
        Safetensors.Writer w = Checkpoint.writer(configYaml);
        addTo(w);
        org.cotrain.io.AtomicFiles.write(path, w::write);
    }

    /**
     * Opens a policy from a checkpoint or a saved policy: its config from the metadata, the EMA weights when there
     * are any (what Diffusion Policy evaluates), else the trained ones.
     */
    public static LowdimPolicy load(Path path, Backend backend) throws IOException {
        Safetensors file = Safetensors.read(path);
        String yaml = Checkpoint.configYaml(file);
        LowdimPolicyConfig config = LowdimPolicyConfig.from(Config.fromYaml(yaml, path + " metadata")
                .toTrainConfig());
        LowdimPolicy policy = new LowdimPolicy(backend, config, LinearNormalizer.read(file));
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
        sampling.close();
        objective.close();
        model.close();
    }
}
