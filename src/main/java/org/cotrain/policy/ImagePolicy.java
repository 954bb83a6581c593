package org.cotrain.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.cotrain.config.Config;
import org.cotrain.config.OptimizerConfig;
import org.cotrain.config.ShapeMeta;
import org.cotrain.data.DomainLabels;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Buffer;
import org.cotrain.nn.ImageEncoder;
import org.cotrain.nn.Parameter;
import org.cotrain.nn.StateDict;
import org.cotrain.ops.Ops;
import org.cotrain.random.Streams;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's image transformer policy (DiffusionTransformerHybridImagePolicy with obs_as_cond): an
 * {@link ImageEncoder} per camera (DP's robomimic obs encoder with GroupNorm: crop, ResNet18, spatial softmax,
 * Linear, ReLU) turns each of the first To frames into 64 features; with the normalised low-dim keys (and the domain
 * label) they are the condition tokens of a {@link TransformerForDiffusion} that denoises a chunk of H actions.
 * <pre>
 *   frames_c (B, To, H, W, 3) uint8 -> (B To, H, W, 3) -> encoder_c -> (B To, 64) -> cond[:, :, 64 c : 64 (c+1)]
 *   low-dim obs (B, To, Dl + domains), normalised                    -> cond[:, :, 64 C :]
 *   cond (B, To, 64 C + Dl + domains) -> denoiser, DP's loss (epsilon MSE, or ambient diffusion's)
 * </pre>
 * Training crops every frame at random (robomimic's CropRandomizer; per frame offsets from (seed, CROP, step));
 * evaluation takes the centre crop (DP's eval_fixed_crop). The backward runs through the denoiser into its condition
 * and from there through every encoder, so the encoders learn end to end (DP trains them from scratch).
 *
 * <p>State dict, DP's names: "obs_encoder.obs_nets.&lt;camera&gt;.*" (the encoders, the SpatialSoftmax buffers
 * included), "model.*" (the denoiser with its mask buffers), "normalizer.params_dict.*" with a field per key: "action",
 * each low-dim key fit on the data, each camera DP's image range normaliser (x/255 in [0, 1] to [-1, 1], applied by
 * the crop kernel), and the empty "_dummy_variable"s of DP's modules; so a checkpoint loads into DP's policy with
 * load_state_dict(strict=True). Optimizer groups as DP's get_optimizer: the denoiser's with
 * transformer_weight_decay (none on its biases, LayerNorms and position embeddings), every encoder parameter with
 * obs_encoder_weight_decay.
 */
public final class ImagePolicy implements TrainablePolicy {

    private final ImagePolicyConfig config;
    private final Backend backend;
    private final List<ImageEncoder> encoders = new ArrayList<>();
    private final TransformerForDiffusion model;
    private final DenoisingObjective objective;
    private final ChunkSampling sampling;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Buffer cond;                 // (B, To, cond_dim)
    private final List<Buffer> dFeatures = new ArrayList<>(); // per camera (B To, 64)
    private LinearNormalizer normalizer;
    private LinearNormalizer dataNormalizer;
    private int domain;
    private int actionSteps;
    private int lastBatch = -1;

    /**
     * A policy with freshly initialised weights (DP's: torchvision / torch defaults for the encoders, DP's
     * _init_weights for the denoiser, from {@code seed}) and the given normaliser (see {@link #normalizerFor}).
     */
    public ImagePolicy(Backend backend, ImagePolicyConfig config, LinearNormalizer normalizer, long seed) {
        this(backend, config, normalizer);
        model.initialize(Streams.key(seed, Streams.INIT, 0));
        for (int c = 0; c < encoders.size(); c++) {
            encoders.get(c).initialize(Streams.key(seed, Streams.INIT, 1 + c));
        }
    }

    private ImagePolicy(Backend backend, ImagePolicyConfig config, LinearNormalizer normalizer) {
        this.config = config;
        this.backend = backend;
        setNormalizer(normalizer, "the normaliser");
        for (ShapeMeta.ObsKey camera : config.cameras()) {
            int[] crop = config.crop(camera);
            ImageEncoder encoder = new ImageEncoder(backend, camera.key(), crop[0], crop[1]);
            encoders.add(encoder);
            parameters.addAll(encoder.parameters());
            dFeatures.add(new Buffer(backend));
        }
        this.model = new TransformerForDiffusion(backend, config.model());
        parameters.addAll(model.parameters());
        this.objective = new DenoisingObjective(backend, model, config.noiseScheduler());
        this.actionSteps = config.nActionSteps();
        this.sampling = new ChunkSampling(backend, model, config.noiseScheduler(), config.horizon(),
                config.actionDim(), config.numInferenceSteps());
        this.cond = new Buffer(backend);
    }

    /**
     * DP's normaliser of an image policy from the data's: "action", each low-dim key (the columns of the data's "obs"
     * field that are that key's, fit on the data as DP fits each key), each camera the image range normaliser.
     *
     * @param data fields "obs" (the low-dim keys concatenated, width Dl) and "action"
     */
    public static LinearNormalizer normalizerFor(ImagePolicyConfig config, LinearNormalizer data) {
        LinearNormalizer n = new LinearNormalizer();
        n.put("action", data.field("action"));
        int at = 0;
        for (ShapeMeta.ObsKey key : config.lowdim()) {
            n.put(key.key(), data.slice("obs", at, key.dim()));
            at += key.dim();
        }
        for (ShapeMeta.ObsKey camera : config.cameras()) {
            n.put(camera.key(), LinearNormalizer.imageRange());
        }
        return n;
    }

    /** Checks a normaliser against the config (fields, widths, the cameras' range normaliser) and derives the data's. */
    private void setNormalizer(LinearNormalizer n, String what) {
        List<String> problems = new ArrayList<>();
        if (!n.has("action") || n.field("action").dim() != config.actionDim()) {
            problems.add("action (" + config.actionDim() + ")");
        }
        for (ShapeMeta.ObsKey key : config.lowdim()) {
            if (!n.has(key.key()) || n.field(key.key()).dim() != key.dim()) {
                problems.add(key.key() + " (" + key.dim() + ")");
            }
        }
        LinearNormalizer.Field range = LinearNormalizer.imageRange();
        for (ShapeMeta.ObsKey camera : config.cameras()) {
            if (!n.has(camera.key()) || !Arrays.equals(n.field(camera.key()).scale(), range.scale())
                    || !Arrays.equals(n.field(camera.key()).offset(), range.offset())) {
                problems.add(camera.key() + " (DP's image range normaliser: scale [2], offset [-1]; the crop kernel"
                        + " maps uint8 / 255 to [-1, 1])");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(what + " must have the fields " + String.join(", ", problems)
                    + "; it has " + n.keys());
        }
        LinearNormalizer d = new LinearNormalizer();
        d.put("obs", n.concat(config.lowdim().stream().map(ShapeMeta.ObsKey::key).toList()));
        d.put("action", n.field("action"));
        this.normalizer = n;
        this.dataNormalizer = d;
    }

    public ImagePolicyConfig config() {
        return config;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /** The denoiser. */
    public TransformerForDiffusion model() {
        return model;
    }

    /** The image encoders, one per camera, in the config's order. */
    public List<ImageEncoder> encoders() {
        return encoders;
    }

    /** Every encoder's parameters (camera order), then the denoiser's. */
    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    @Override
    public LinearNormalizer normalizer() {
        return normalizer;
    }

    @Override
    public LinearNormalizer dataNormalizer() {
        return dataNormalizer;
    }

    /** DP's get_optimizer: transformer_weight_decay on the denoiser's weights, obs_encoder_weight_decay on the encoders. */
    @Override
    public float[] weightDecays(OptimizerConfig optimizer) {
        float[] out = new float[parameters.size()];
        int i = 0;
        for (ImageEncoder e : encoders) {
            for (Parameter ignored : e.parameters()) {
                out[i++] = (float) optimizer.obsEncoderWeightDecay();
            }
        }
        for (Parameter p : model.parameters()) {
            out[i++] = p.weightDecay() ? (float) optimizer.weightDecay() : 0f;
        }
        return out;
    }

    // ---- the condition --------------------------------------------------------------------------------------------

    /**
     * The denoiser's condition of a batch: each camera's features, then the low-dim observations.
     *
     * @param images     per camera (B, To, H, W, 3) uint8
     * @param obs        (B, To, Dl + domains) normalised, or null when that width is 0
     * @param randomCrop random crops from cropKey (training), else centre crops
     * @return (B, To, cond_dim), a buffer of this policy
     */
    public Tensor condition(List<Tensor> images, Tensor obs, boolean randomCrop, long cropKey) {
        // robomimic crops each of the B To frames independently; camera k's offsets start at k 2^32
        return condition(images, obs, (k, frames) -> encoders.get(k).forward(frames, randomCrop, cropKey,
                (long) k << 32));
    }

    /** The condition with camera k's features from encode(k, frames (B To, H, W, 3)) -> (B To, 64). */
    private Tensor condition(List<Tensor> images, Tensor obs, BiFunction<Integer, Tensor, Tensor> encode) {
        int b = checkObservations(images, obs);
        int to = config.nObsSteps();
        int f = ImageEncoder.FEATURES;
        Tensor c = cond.get(b, to, config.conditionDim());
        for (int k = 0; k < encoders.size(); k++) {
            Tensor frames = images.get(k);
            Tensor features = encode.apply(k, frames.view(b * to, frames.dim(2), frames.dim(3), frames.dim(4)));
            Ops.mergeHeads(features.view(b, 1, to, f), c, f * k, false);
        }
        if (config.obsWidth() > 0) {
            Ops.mergeHeads(obs.view(b, 1, to, config.obsWidth()), c, f * encoders.size(), false);
        }
        lastBatch = b;
        return c;
    }

    private int checkObservations(List<Tensor> images, Tensor obs) {
        int to = config.nObsSteps();
        if (images.size() != encoders.size()) {
            throw new IllegalArgumentException("image policy: " + images.size() + " cameras' frames, the policy has "
                    + encoders.size() + " (" + config.cameras().stream().map(ShapeMeta.ObsKey::key).toList() + ")");
        }
        int b = -1;
        for (int k = 0; k < images.size(); k++) {
            ShapeMeta.ObsKey cam = config.cameras().get(k);
            Tensor t = images.get(k);
            int bk = t.rank() == 5 ? t.dim(0) : -1;
            if (t.dtype() != DType.U8 || !t.hasShape(bk, to, cam.height(), cam.width(), 3) || (b >= 0 && bk != b)) {
                throw new IllegalArgumentException("image policy: frames of camera '" + cam.key() + "' are "
                        + t.dtype() + " " + t.shapeString() + ", expected uint8 (B, " + to + ", " + cam.height() + ", "
                        + cam.width() + ", 3)" + (b >= 0 ? " with B = " + b : ""));
            }
            b = bk;
        }
        if (config.obsWidth() > 0) {
            if (obs == null || obs.rank() != 3 || (b >= 0 && obs.dim(0) != b)
                    || !obs.hasShape(obs.dim(0), to, config.obsWidth())) {
                throw new IllegalArgumentException("image policy: low-dim obs " + (obs == null ? "missing"
                        : obs.shapeString()) + ", expected (B, " + to + ", " + config.obsWidth() + ") (low-dim keys "
                        + config.lowdim().stream().map(ShapeMeta.ObsKey::key).toList()
                        + (config.numDomains() > 0 ? " and " + config.numDomains() + " domain labels" : "") + ")");
            }
            b = obs.dim(0);
        }
        return b;
    }

    // ---- training -------------------------------------------------------------------------------------------------

    @Override
    public float loss(BatchTensors batch, long seed, long step, boolean training, boolean ambientWeighting) {
        checkActions(batch.actions());
        Tensor c = condition(batch.images(), batch.obs(), training, Streams.key(seed, Streams.CROP, step));
        return batch.timesteps() == null ? objective.loss(batch.actions(), c, seed, step, training)
                : objective.loss(batch.actions(), c, batch.timesteps(), batch.minNoiseSteps(), ambientWeighting, seed,
                step, training);
    }

    /**
     * The loss with every random draw given: the crop offsets of each camera ((B To, 2) int32 (top, left), or null
     * for centre crops), the diffusion steps, the noise eps (B, H, Da) and the dropout masks' key. What {@link #loss}
     * computes after its draws; the PyTorch parity test feeds PyTorch's draws here.
     */
    public float lossWith(BatchTensors batch, List<Tensor> cropOffsets, int[] timesteps, Tensor eps, long dropoutKey,
                          boolean training) {
        checkActions(batch.actions());
        Tensor c = condition(batch.images(), batch.obs(), (k, frames) -> encoders.get(k).forward(frames,
                cropOffsets == null ? null : cropOffsets.get(k)));
        return objective.lossWith(batch.actions(), c, timesteps, eps, dropoutKey, training);
    }

    private void checkActions(Tensor action) {
        if (action.rank() != 3 || !action.hasShape(action.dim(0), config.horizon(), config.actionDim())) {
            throw new IllegalArgumentException("image policy loss: actions " + action.shapeString() + ", expected (B, "
                    + config.horizon() + ", " + config.actionDim() + ")");
        }
    }

    /**
     * Backpropagates lossScale * the last loss: through the denoiser (its gradients accumulate), then from its
     * condition's gradient through every camera's encoder (theirs accumulate too).
     */
    @Override
    public void backward(float lossScale) {
        objective.backward(lossScale);
        Tensor dCond = model.condGrad(); // (B, To, cond_dim)
        int b = lastBatch;
        int to = config.nObsSteps();
        int f = ImageEncoder.FEATURES;
        for (int k = 0; k < encoders.size(); k++) {
            Tensor df = dFeatures.get(k).get(b * to, f);
            Ops.splitHeads(dCond, f * k, df.view(b, 1, to, f), false);
            encoders.get(k).backward(df);
        }
    }

    @Override
    public Tensor lastPrediction() {
        return objective.lastPrediction();
    }

    // ---- inference ------------------------------------------------------------------------------------------------

    public Sampling sampling() {
        return sampling.sampling();
    }

    /**
     * Chooses the sampler: DDPM (steps dividing T as diffusers spaces them) or DDIM with any steps and eta; without
     * guidance (classifier-free guidance is for low-dim policies only for now).
     */
    public void setSampling(Sampling s) {
        if (s.guided()) {
            throw new IllegalArgumentException("guidance weight " + s.guidance() + ": classifier-free guidance is for"
                    + " low-dim policies only for now; an image policy samples with weight 1");
        }
        sampling.setSampling(s);
    }

    /** The seed of the sampling noise (and of evaluation crops without eval_fixed_crop). */
    public void setSeed(long seed) {
        sampling.setSeed(seed);
    }

    /** The domain label given at inference when the policy is domain conditioned (default 0: the target data). */
    public void setDomain(int d) {
        this.domain = DomainLabels.checkInferenceDomain(d, config.numDomains());
    }

    /**
     * DP's predict_action for a batch of observation histories.
     *
     * @param frames per camera (B, To, H, W, 3) uint8 frames, row-major, as the environment renders them
     * @param lowdim (B, To, Dl) the low-dim keys in data units, concatenated per step in the config's order
     * @return (B, H, Da) the whole predicted chunk in data units; the executed actions are steps
     *     [To - 1, To - 1 + Ta) of each chunk ({@link #executedActions})
     */
    public float[] predictActionChunk(List<byte[]> frames, float[] lowdim, int batch) {
        int to = config.nObsSteps();
        int dl = config.lowdimDim();
        if (batch < 1 || lowdim.length != batch * to * dl) {
            throw new IllegalArgumentException("predictAction: " + lowdim.length + " low-dim values for batch " + batch
                    + ", expected (" + batch + ", " + to + ", " + dl + ") = " + (batch * to * dl));
        }
        if (frames.size() != encoders.size()) {
            throw new IllegalArgumentException("predictAction: frames of " + frames.size() + " cameras, the policy has "
                    + encoders.size() + " (" + config.cameras().stream().map(ShapeMeta.ObsKey::key).toList() + ")");
        }
        for (int k = 0; k < frames.size(); k++) {
            ShapeMeta.ObsKey cam = config.cameras().get(k);
            long expected = (long) batch * to * cam.height() * cam.width() * 3;
            if (frames.get(k).length != expected) {
                throw new IllegalArgumentException("predictAction: " + frames.get(k).length + " bytes of camera '"
                        + cam.key() + "', expected (" + batch + ", " + to + ", " + cam.height() + ", " + cam.width()
                        + ", 3) = " + expected);
            }
        }
        for (int i = 0; i < lowdim.length; i++) {
            if (!Float.isFinite(lowdim[i])) {
                throw new IllegalArgumentException("predictAction: low-dim value " + i + " (batch " + i / (to * dl)
                        + ", step " + (i / dl) % to + ", dim " + i % dl + ") is " + lowdim[i]);
            }
        }
        float[] obs = dataNormalizer.normalize("obs", lowdim);
        if (config.numDomains() > 0) {
            int[] labels = new int[batch];
            Arrays.fill(labels, domain);
            obs = DomainLabels.append(obs, batch, to, dl, labels, config.numDomains());
        }
        List<Tensor> images = new ArrayList<>();
        Tensor obsTensor = null;
        try (Tensor out = backend.empty(batch, config.horizon(), config.actionDim())) {
            for (int k = 0; k < frames.size(); k++) {
                ShapeMeta.ObsKey cam = config.cameras().get(k);
                images.add(backend.empty(DType.U8, batch, to, cam.height(), cam.width(), 3).copyFrom(frames.get(k)));
            }
            obsTensor = config.obsWidth() == 0 ? null : backend.of(obs, batch, to, config.obsWidth());
            long key = sampling.nextKey();
            Tensor c = condition(images, obsTensor, !config.evalFixedCrop(), Streams.key(key, Streams.CROP, 0));
            sampling.sample(c, out, key);
            return dataNormalizer.unnormalize("action", out.toFloatArray());
        } finally {
            images.forEach(Tensor::close);
            if (obsTensor != null) {
                obsTensor.close();
            }
        }
    }

    /**
     * Samples action chunks for a batch already on the backend (normalised low-dim obs with domain labels, frames):
     * out (B, H, Da) normalised chunks, the noise from the seed of {@link #setSeed}. Afterwards
     * the denoiser's {@link EmbeddingCapture} holds the last denoising step's embeddings (the analysis reads them).
     */
    public void sampleNormalized(BatchTensors batch, Tensor out) {
        if (!out.hasShape(batch.size(), config.horizon(), config.actionDim())) {
            throw new IllegalArgumentException("sampleNormalized: out " + out.shapeString() + ", expected ("
                    + batch.size() + ", " + config.horizon() + ", " + config.actionDim() + ")");
        }
        long key = sampling.nextKey();
        Tensor c = condition(batch.images(), batch.obs(), !config.evalFixedCrop(), Streams.key(key, Streams.CROP, 0));
        sampling.sample(c, out, key);
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

    // ---- state dict -----------------------------------------------------------------------------------------------

    @Override
    public void addTo(Safetensors.Writer writer) {
        // DP's ModuleAttrMixin: an empty _dummy_variable in the policy and in its mask generator
        writer.add(TransformerForDiffusion.DUMMY_VARIABLE, new float[0], 0);
        for (ImageEncoder e : encoders) {
            Map<String, Tensor> buffers = e.buffers();
            Map<String, Parameter> params = byName(e.parameters());
            for (String name : e.stateDictNames()) {
                writer.add(name, buffers.containsKey(name) ? buffers.get(name) : params.get(name).value());
            }
        }
        model.addTo(writer);
        writer.add("mask_generator." + TransformerForDiffusion.DUMMY_VARIABLE, new float[0], 0);
        for (Map.Entry<String, float[]> e : normalizer.stateDict().entrySet()) {
            writer.add(e.getKey(), e.getValue(), e.getValue().length);
        }
    }

    private static Map<String, Parameter> byName(List<Parameter> ps) {
        Map<String, Parameter> m = new java.util.LinkedHashMap<>();
        for (Parameter p : ps) {
            m.put(p.name(), p);
        }
        return m;
    }

    /**
     * Loads the weights (the EMA ones when {@code ema} and the file has them) and the normaliser. Missing or
     * misshapen tensors, encoder tensors this config does not have (another camera?), and SpatialSoftmax buffers that
     * differ from this crop's are errors naming the file and the tensor.
     */
    @Override
    public void load(Safetensors file, boolean ema) {
        LinearNormalizer n = LinearNormalizer.read(file);
        setNormalizer(n, file.source() + ": the normaliser");
        List<Parameter> encoderParameters = new ArrayList<>();
        Map<String, Tensor> encoderBuffers = new LinkedHashMap<>();
        for (ImageEncoder e : encoders) {
            encoderParameters.addAll(e.parameters());
            encoderBuffers.putAll(e.buffers());
        }
        StateDict.load(file, "obs_encoder.", encoderParameters, encoderBuffers, Set.of(), "this policy's encoders"
                + " (cameras " + config.cameras().stream().map(ShapeMeta.ObsKey::key).toList() + ")",
                "another crop_shape?");
        model.loadWeights(file);
        if (ema && Checkpoint.hasEma(file)) {
            for (Parameter p : parameters) {
                String name = Checkpoint.EMA_PREFIX + p.name();
                if (!file.contains(name)) {
                    throw new IllegalArgumentException(file.source() + ": missing EMA weight " + name);
                }
                file.copyInto(name, p.value());
            }
        }
    }

    /** Writes the policy alone (DP's state dict plus the config in the metadata). */
    public void save(Path path, String configYaml) throws IOException {
        Safetensors.Writer w = Checkpoint.writer(configYaml);
        addTo(w);
        org.cotrain.io.AtomicFiles.write(path, w::write);
    }

    /**
     * Opens an image policy from a checkpoint or a saved policy: its config from the metadata, the EMA weights when
     * there are any (what Diffusion Policy evaluates), else the trained ones.
     */
    public static ImagePolicy load(Path path, Backend backend) throws IOException {
        Safetensors file = Safetensors.read(path);
        String yaml = Checkpoint.configYaml(file);
        ImagePolicyConfig config = ImagePolicyConfig.from(Config.fromYaml(yaml, path + " metadata").toTrainConfig());
        ImagePolicy policy = new ImagePolicy(backend, config, LinearNormalizer.read(file));
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
        encoders.forEach(ImageEncoder::close);
        dFeatures.forEach(Buffer::close);
        cond.close();
    }
}
