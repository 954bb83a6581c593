package org.cotrain.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cotrain.config.TransformerForDiffusionConfig;
import org.cotrain.diffusion.Denoiser;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Buffer;
import org.cotrain.nn.Dropout;
import org.cotrain.nn.DropoutSites;
import org.cotrain.nn.LayerNorm;
import org.cotrain.nn.Linear;
import org.cotrain.nn.MlpEncoder;
import org.cotrain.nn.Parameter;
import org.cotrain.nn.StateDict;
import org.cotrain.nn.TransformerDecoderLayer;
import org.cotrain.nn.TransformerEncoderLayer;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's transformer denoiser (diffusion_policy/model/diffusion/transformer_for_diffusion.py), forward
 * and backward composed from the backend's ops. With time_as_cond (DP's transformer policies):
 * <pre>
 *   cond tokens   [SinusoidalPosEmb(t); cond_obs_emb(cond)] + cond_pos_emb -> drop -> encoder   = memory (B, Tc, C)
 *   sample tokens input_emb(sample) + pos_emb -> drop -> decoder(tgt, memory, tgt_mask, memory_mask) (B, T, C)
 *   output        head(ln_f(x))                                                                   (B, T, out)
 * </pre>
 * encoder = token-wise MLP (n_cond_layers 0) or n_cond_layers TransformerEncoder layers (no mask); decoder = n_layer
 * pre-norm TransformerDecoder layers; with causal_attn the self-attention is causal and the cross-attention lets
 * sample token t see condition token s when t >= s - 1 (DP's memory_mask). Without time_as_cond (BERT style) the
 * step token is prepended to the sample tokens, which run through n_layer TransformerEncoder layers (causal with
 * causal_attn), and its output position is dropped before ln_f.
 *
 * <p>Parameters are named as in the DP policy's state_dict (prefix "model.") and listed in its order; the
 * checkpoint also carries the mask buffers (model.mask, model.memory_mask) and the empty model._dummy_variable as
 * DP's does, so that PyTorch loads it strictly. Dropout: torch's {@code self.drop} is two sites here (condition
 * tokens, then sample tokens), then each layer's sites in construction order (encoder, then decoder); see
 * {@link DropoutSites}. All masks of a forward pass come from its seed, and the backward recomputes them.
 *
 * <p>Activations are buffers sized by the batch and reused while it stays the same. The output of
 * {@link #forward} is one of them: valid until the next forward call. The inputs must stay unchanged until
 * {@link #backward}, which accumulates into every parameter's gradient and writes the input gradients
 * ({@link #sampleGrad()}, {@link #condGrad()}).
 */
public final class TransformerForDiffusion implements TrainableDenoiser {
    /**
     * The zero-size parameter that DP's ModuleAttrMixin registers first in every DP module (it only answers
     * "which device?"): written to checkpoints so that PyTorch loads them strictly, accepted when loading, never
     * trained.
     */
    public static final String DUMMY_VARIABLE = "_dummy_variable";

    private final Backend backend;
    private final TransformerForDiffusionConfig config;
    private final String prefix;
    private final int nEmb;
    private final int tokens;      // DP's T
    private final int condTokens;  // DP's T_cond

    // modules, in DP's registration order
    private final Parameter posEmb;            // (1, T, C)
    private final Parameter condPosEmb;        // (1, Tc, C) or null (BERT)
    private final Linear inputEmb;
    private final Linear condObsEmb;           // null without obs_as_cond
    private final MlpEncoder mlpEncoder;       // n_cond_layers == 0 with time_as_cond
    private final List<TransformerEncoderLayer> encoderLayers; // n_cond_layers, or n_layer in the BERT variant
    private final List<TransformerDecoderLayer> decoderLayers;
    private final LayerNorm lnF;
    private final Linear head;
    private final Dropout dropCond;
    private final Dropout dropSample;
    private final List<Parameter> parameters;
    private final Tensor causalMask;           // the (T, T) buffer DP saves as "mask"; the kernel uses the causal flag
    private final Tensor memoryMask;           // (T, Tc) additive, or null

    // forward activations
    private final Buffer timeEmb;      // (B, C)
    private final Buffer condIn;       // (B, Tc, C) [step; observations]
    private final Buffer condSum;      // (B, Tc, C) + cond_pos_emb
    private final Buffer sampleIn;     // (B, T, C) token embeddings (+ step token in the BERT variant)
    private final Buffer sampleSum;    // (B, T, C) + pos_emb
    private final Buffer trunk;        // BERT: (B, horizon, C), the output without the step token
    // backward scratch
    private final Buffer dHead;        // (B, horizon, C)
    private final Buffer dTrunk;       // BERT: (B, horizon, C)
    private final Buffer dTokensA;     // (B, T, C), two buffers taking turns through the layers
    private final Buffer dTokensB;
    private final Buffer dMemory;      // (B, Tc, C), accumulated over the decoder layers
    private final Buffer dCondA;       // (B, Tc, C), taking turns through the encoder layers
    private final Buffer dCondB;
    private final Buffer dObsEmb;      // (B, To, C)
    private final Buffer dSampleEmb;   // BERT: (B, horizon, C)
    private final Buffer dSample;      // (B, horizon, input_dim)
    private final Buffer dCond;        // (B, To, cond_dim)

    // the last forward call
    private int batch = -1;
    private boolean training;
    private long seed;
    private boolean hasCond;
    private Tensor lastSampleGrad;
    private Tensor lastCondGrad;
    private TransformerSamplingSession session; // the open sampling session (beginSampling), or null
    private Tensor lastMemory;         // (B, Tc, C) or null (BERT variant)
    private Tensor lastFinal;          // (B, horizon, C): the trunk's output before ln_f

    public TransformerForDiffusion(Backend backend, TransformerForDiffusionConfig config) {
        this(backend, config, Checkpoint.MODEL_PREFIX);
    }

    /** A model with zero weights (ones for LayerNorm); call {@link #initialize} or {@link #loadWeights}. */
    public TransformerForDiffusion(Backend backend, TransformerForDiffusionConfig config, String prefix) {
        this.backend = backend;
        this.config = config;
        this.prefix = prefix;
        this.nEmb = config.nEmb();
        this.tokens = config.tokens();
        this.condTokens = config.condTokens();
        int c = nEmb;
        DropoutSites sites = new DropoutSites();
        this.dropCond = new Dropout(backend, config.pDropEmb(), sites.next());
        this.dropSample = new Dropout(backend, config.pDropEmb(), sites.next());

        this.posEmb = new Parameter(backend, prefix + "pos_emb", Parameter.Init.NORMAL, false, 1, tokens, c);
        // DP draws cond_pos_emb only when there is an observation embedding, and leaves it zero otherwise
        this.condPosEmb = condTokens == 0 ? null : new Parameter(backend, prefix + "cond_pos_emb",
                config.obsAsCond() ? Parameter.Init.NORMAL : Parameter.Init.ZEROS, false, 1, condTokens, c);
        this.inputEmb = new Linear(backend, prefix + "input_emb", config.inputDim(), c);
        this.condObsEmb = config.obsAsCond() ? new Linear(backend, prefix + "cond_obs_emb", config.condDim(), c) : null;
        this.encoderLayers = new ArrayList<>();
        this.decoderLayers = new ArrayList<>();
        if (config.timeAsCond()) {
            if (config.nCondLayers() > 0) {
                this.mlpEncoder = null;
                for (int i = 0; i < config.nCondLayers(); i++) {
                    encoderLayers.add(new TransformerEncoderLayer(backend, prefix + "encoder.layers." + i + ".", c,
                            config.nHead(), config.pDropAttn(), sites));
                }
            } else {
                this.mlpEncoder = new MlpEncoder(backend, prefix + "encoder.", c);
            }
            for (int i = 0; i < config.nLayer(); i++) {
                decoderLayers.add(new TransformerDecoderLayer(backend, prefix + "decoder.layers." + i + ".", c,
                        config.nHead(), config.pDropAttn(), sites));
            }
        } else {
            this.mlpEncoder = null;
            for (int i = 0; i < config.nLayer(); i++) {
                encoderLayers.add(new TransformerEncoderLayer(backend, prefix + "encoder.layers." + i + ".", c,
                        config.nHead(), config.pDropAttn(), sites));
            }
        }
        this.lnF = new LayerNorm(backend, prefix + "ln_f", c);
        this.head = new Linear(backend, prefix + "head", c, config.outputDim());

        List<Parameter> ps = new ArrayList<>();
        ps.add(posEmb);
        if (condPosEmb != null) {
            ps.add(condPosEmb);
        }
        ps.addAll(inputEmb.parameters());
        if (condObsEmb != null) {
            ps.addAll(condObsEmb.parameters());
        }
        if (mlpEncoder != null) {
            ps.addAll(mlpEncoder.parameters());
        }
        encoderLayers.forEach(l -> ps.addAll(l.parameters()));
        decoderLayers.forEach(l -> ps.addAll(l.parameters()));
        ps.addAll(lnF.parameters());
        ps.addAll(head.parameters());
        this.parameters = Collections.unmodifiableList(ps);

        this.causalMask = config.causalAttn() ? backend.of(causalMaskValues(tokens), tokens, tokens) : null;
        this.memoryMask = config.hasMemoryMask()
                ? backend.of(memoryMaskValues(tokens, condTokens), tokens, condTokens) : null;

        this.timeEmb = new Buffer(backend);
        this.condIn = new Buffer(backend);
        this.condSum = new Buffer(backend);
        this.sampleIn = new Buffer(backend);
        this.sampleSum = new Buffer(backend);
        this.trunk = new Buffer(backend);
        this.dHead = new Buffer(backend);
        this.dTrunk = new Buffer(backend);
        this.dTokensA = new Buffer(backend);
        this.dTokensB = new Buffer(backend);
        this.dMemory = new Buffer(backend);
        this.dCondA = new Buffer(backend);
        this.dCondB = new Buffer(backend);
        this.dObsEmb = new Buffer(backend);
        this.dSampleEmb = new Buffer(backend);
        this.dSample = new Buffer(backend);
        this.dCond = new Buffer(backend);
    }

    /** DP's "mask": 0 where key j <= query i, -inf above the diagonal. */
    static float[] causalMaskValues(int t) {
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                m[i * t + j] = j <= i ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        return m;
    }

    /** DP's "memory_mask": sample token t sees condition token s when t >= s - 1 (the step token is s = 0). */
    static float[] memoryMaskValues(int t, int s) {
        float[] m = new float[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                m[i * s + j] = i >= j - 1 ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        return m;
    }

    public TransformerForDiffusionConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** Every parameter, in the order of DP's state_dict. */
    public List<Parameter> parameters() {
        return parameters;
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters) {
            n += p.numel();
        }
        return n;
    }

    /** DP's non-parameter state_dict entries (the attention masks), by full name. */
    public Map<String, Tensor> buffers() {
        Map<String, Tensor> b = new LinkedHashMap<>();
        if (causalMask != null) {
            b.put(prefix + "mask", causalMask);
        }
        if (memoryMask != null) {
            b.put(prefix + "memory_mask", memoryMask);
        }
        return b;
    }

    /**
     * DP's initialisation: N(0, 0.02) weights and position embeddings, zero biases, LayerNorm ones and zeros.
     * Normal values come from Philox at (seed, offset), with offsets running on through the parameters in order.
     */
    public void initialize(long seed) {
        long offset = 0;
        for (Parameter p : parameters) {
            p.initialize(seed, offset);
            offset += p.numel();
        }
    }

    public void zeroGrad() {
        for (Parameter p : parameters) {
            p.zeroGrad();
        }
    }

    // ---- forward ----------------------------------------------------------------------------------------------------

    /** Denoiser: the evaluation forward pass (no dropout), copied into out. */
    @Override
    public void predict(Tensor sample, Tensor timesteps, Tensor cond, Tensor out) {
        Tensor y = forward(sample, timesteps, cond, false, 0L);
        if (!out.hasShape(y.shape())) {
            throw new IllegalArgumentException("TransformerForDiffusion: out has shape " + out.shapeString()
                    + ", expected " + y.shapeString());
        }
        backend.copy(y, out);
    }

    /**
     * The denoiser's prediction. sample (B, horizon, input_dim); timesteps (B) float32 diffusion steps; cond
     * (B, n_obs_steps, cond_dim) with obs_as_cond, else null. training turns dropout on, with its masks drawn from
     * seed. Returns (B, horizon, output_dim), a buffer valid until the next forward.
     */
    public Tensor forward(Tensor sample, Tensor timesteps, Tensor cond, boolean training, long seed) {
        int b = checkInputs(sample, timesteps, cond);
        int c = nEmb;
        int h = config.horizon();
        this.batch = b;
        this.training = training;
        this.seed = seed;
        this.hasCond = cond != null;

        Tensor inEmb = inputEmb.forward(sample); // (B, horizon, C)
        Tensor x;
        if (!config.timeAsCond()) {
            Tensor temb = timeEmbedding(timesteps, b);
            // BERT: tokens [step; sample] (B, horizon + 1, C), a concatenation along T done as column blocks of
            // one row of T * C per batch entry
            Tensor tok = sampleIn.get(b, tokens, c);
            Ops.mergeHeads(temb.view(b, 1, 1, c), tok.view(b, 1, tokens * c), 0, false);
            Ops.mergeHeads(inEmb.view(b, 1, 1, h * c), tok.view(b, 1, tokens * c), c, false);
            Tensor sum = sampleSum.get(b, tokens, c);
            Ops.addBroadcast(tok, posEmb.value().view(tokens, c), sum);
            x = dropSample.forward(sum, training, seed);
            for (TransformerEncoderLayer layer : encoderLayers) {
                x = layer.forward(x, config.causalAttn(), training, seed);
            }
            Tensor tr = trunk.get(b, h, c); // x[:, 1:, :]
            Ops.splitHeads(x.view(b, 1, tokens * c), c, tr.view(b, 1, 1, h * c), false);
            x = tr;
            lastMemory = null;
        } else {
            boolean fused = session != null && !training;
            int step = fused ? session.step(timesteps, cond) : -1;
            Tensor memory = null;
            if (step < 0 || !session.hasMemory()) { // a hoisted step needs neither the step embedding nor the memory
                memory = encode(timeEmbedding(timesteps, b), cond, b, training, seed);
                lastMemory = memory;
            }
            if (step >= 0 && !session.hasMemory()) { // the session's first step: the condition tokens, once
                session.projectMemory(memory, cond, b);
            }
            Tensor sum = sampleSum.get(b, tokens, c);
            Ops.addBroadcast(inEmb, posEmb.value().view(tokens, c), sum);
            x = dropSample.forward(sum, training, seed);
            if (step >= 0) { // in place: x is sum
                session.decode(x, step, b, config.causalAttn(), memoryMask);
            } else if (fused) {
                for (TransformerDecoderLayer layer : decoderLayers) {
                    layer.forwardInference(x, memory, config.causalAttn(), memoryMask);
                }
            } else {
                for (TransformerDecoderLayer layer : decoderLayers) {
                    x = layer.forward(x, memory, config.causalAttn(), memoryMask, training, seed);
                }
            }
        }
        lastFinal = x;
        return head.forward(lnF.forward(x));
    }

    /**
     * Denoiser: while the session is open, evaluation forwards run each decoder layer as one native call
     * (decoder_inference.h), and the MLP condition encoder on packed_linear.h, with their weights packed here, once:
     * the sampling of one action chunk at batch 1 spends most of its time in the decoder's small ops otherwise (also
     * faster at larger batches; measured 2.3x at batch 4, 2.0x at 32, 1.45x at 128). With the token-wise condition
     * encoder (n_cond_layers 0) the session also hoists the memory's keys and values out of the steps (see
     * {@link TransformerSamplingSession}). Same results as without a session to float rounding. CPU backend only:
     * the CUDA version of the fused layer has not run on a GPU yet.
     */
    @Override
    public Session beginSampling(float[] timesteps) {
        if (!config.timeAsCond() || decoderLayers.isEmpty() || !"cpu".equals(backend.name())) {
            return () -> { };
        }
        endSampling();
        for (TransformerDecoderLayer layer : decoderLayers) {
            layer.packForInference();
        }
        if (mlpEncoder != null) {
            mlpEncoder.packForInference();
        }
        session = new TransformerSamplingSession(backend, decoderLayers, mlpEncoder, condPosEmb.value(), condTokens,
                nEmb, timesteps, closed -> {
                    if (session == closed) {
                        session = null;
                    }
                });
        return session;
    }

    private void endSampling() {
        if (session != null) {
            session.close();
        }
    }

    /**
     * The condition tokens after the condition encoder (the decoder's memory) of the last forward, (B, Tc, C): token 0
     * is the diffusion step, tokens 1..To the observation steps; null in the BERT variant. A buffer of the model,
     * valid until the next forward (for analysis: probes on the observation embeddings). In a sampling session that
     * hoists the memory (see {@link #beginSampling}) it is the memory of the session's first step.
     */
    public Tensor lastMemory() {
        return lastMemory;
    }

    /**
     * The final activations of the last forward, (B, horizon, C): the decoder's output before the last LayerNorm and
     * the head. A buffer of the model, valid until the next forward (for analysis).
     */
    public Tensor lastFinalActivations() {
        if (lastFinal == null) {
            throw new IllegalStateException("TransformerForDiffusion: no forward yet");
        }
        return lastFinal;
    }

    /**
     * EmbeddingCapture: the observation tokens of {@link #lastMemory} (tokens 1..To after the condition encoder, the
     * step token left out), (B, To C); DP's image policies feed their encoders' features there.
     */
    @Override
    public float[][] observationEmbeddings() {
        if (lastMemory == null) {
            throw new IllegalStateException(lastFinal == null ? "TransformerForDiffusion: no forward yet"
                    : "TransformerForDiffusion: no condition encoder (BERT variant): no observation embeddings");
        }
        int b = lastMemory.dim(0);
        int tc = lastMemory.dim(1);
        int c = lastMemory.dim(2);
        return EmbeddingCapture.rows(lastMemory.toFloatArray(), b, tc * c, c, (tc - 1) * c);
    }

    /** EmbeddingCapture: {@link #lastFinalActivations}, (B, horizon C). */
    @Override
    public float[][] finalActivations() {
        Tensor f = lastFinalActivations();
        int b = f.dim(0);
        int w = f.dim(1) * f.dim(2);
        return EmbeddingCapture.rows(f.toFloatArray(), b, w, 0, w);
    }

    /** SinusoidalPosEmb of the diffusion steps: (B, C), a buffer of the model. */
    private Tensor timeEmbedding(Tensor timesteps, int b) {
        Tensor temb = timeEmb.get(b, nEmb);
        Ops.sinusoidalEmbedding(timesteps, temb);
        return temb;
    }

    /** The condition tokens through the condition encoder: the memory (B, Tc, C). */
    private Tensor encode(Tensor temb, Tensor cond, int b, boolean training, long seed) {
        int c = nEmb;
        Tensor ct = condIn.get(b, condTokens, c);
        Ops.mergeHeads(temb.view(b, 1, 1, c), ct.view(b, 1, condTokens * c), 0, false);
        if (condObsEmb != null) {
            Tensor obs = condObsEmb.forward(cond); // (B, To, C)
            Ops.mergeHeads(obs.view(b, 1, 1, config.nObsSteps() * c), ct.view(b, 1, condTokens * c), c, false);
        }
        Tensor sum = condSum.get(b, condTokens, c);
        Ops.addBroadcast(ct, condPosEmb.value().view(condTokens, c), sum);
        Tensor x = dropCond.forward(sum, training, seed);
        if (mlpEncoder != null) {
            return session != null && !training ? mlpEncoder.forwardInference(x)
                    : mlpEncoder.forward(x);
        }
        for (TransformerEncoderLayer layer : encoderLayers) {
            x = layer.forward(x, false, training, seed); // DP runs its condition encoder without a mask
        }
        return x;
    }

    private int checkInputs(Tensor sample, Tensor timesteps, Tensor cond) {
        return DenoiserInputs.check("TransformerForDiffusion", backend, sample, timesteps, cond, config.horizon(),
                config.inputDim(), config.obsAsCond(), config.nObsSteps(), config.condDim(), "observation");
    }

    // ---- backward ---------------------------------------------------------------------------------------------------

    /**
     * Backpropagates dout (B, horizon, output_dim), the gradient of a loss with respect to the last forward's output:
     * every parameter's gradient accumulates (zero them once per step), and the input gradients are written
     * ({@link #sampleGrad()}, {@link #condGrad()}). Dropout masks are those of the last forward.
     */
    public void backward(Tensor dout) {
        if (batch < 0) {
            throw new IllegalStateException("TransformerForDiffusion: backward before forward");
        }
        int b = batch;
        int c = nEmb;
        int h = config.horizon();
        if (!dout.hasShape(b, h, config.outputDim())) {
            throw new IllegalArgumentException("TransformerForDiffusion: dout has shape " + dout.shapeString()
                    + ", expected the output's (" + b + ", " + h + ", " + config.outputDim() + ")");
        }
        Tensor dh = dHead.get(b, h, c);
        head.backward(dout, dh, false);
        Tensor ds = dSample.get(b, h, config.inputDim());
        if (!config.timeAsCond()) {
            Tensor dtr = dTrunk.zeros(b, h, c);
            lnF.backward(dh, dtr);
            Tensor dx = dTokensA.zeros(b, tokens, c); // the dropped step position gets no gradient
            Ops.mergeHeads(dtr.view(b, 1, 1, h * c), dx.view(b, 1, tokens * c), c, false);
            Tensor other = dTokensB.get(b, tokens, c);
            for (int i = encoderLayers.size() - 1; i >= 0; i--) {
                encoderLayers.get(i).backward(dx, other);
                Tensor t = dx;
                dx = other;
                other = t;
            }
            Tensor dsum = dropSample.backward(dx);
            Ops.sumRows(dsum, posEmb.grad().view(tokens, c));
            Tensor dEmb = dSampleEmb.get(b, h, c);
            Ops.splitHeads(dsum.view(b, 1, tokens * c), c, dEmb.view(b, 1, 1, h * c), false);
            inputEmb.backward(dEmb, ds, false);
            lastSampleGrad = ds;
            lastCondGrad = null;
            return;
        }
        Tensor dx = dTokensA.zeros(b, tokens, c);
        lnF.backward(dh, dx);
        Tensor other = dTokensB.get(b, tokens, c);
        Tensor dmem = dMemory.zeros(b, condTokens, c);
        for (int i = decoderLayers.size() - 1; i >= 0; i--) {
            decoderLayers.get(i).backward(dx, other, dmem);
            Tensor t = dx;
            dx = other;
            other = t;
        }
        Tensor dsum = dropSample.backward(dx);
        Ops.sumRows(dsum, posEmb.grad().view(tokens, c));
        inputEmb.backward(dsum, ds, false);
        lastSampleGrad = ds;

        // the condition encoder
        Tensor dcx = dCondA.get(b, condTokens, c);
        if (mlpEncoder != null) {
            mlpEncoder.backward(dmem, dcx);
        } else {
            Tensor dy = dmem;
            for (int i = encoderLayers.size() - 1; i >= 0; i--) {
                Tensor target = dy == dcx ? dCondB.get(b, condTokens, c) : dcx;
                encoderLayers.get(i).backward(dy, target);
                dy = target;
            }
            dcx = dy;
        }
        Tensor dcsum = dropCond.backward(dcx);
        Ops.sumRows(dcsum, condPosEmb.grad().view(condTokens, c));
        if (condObsEmb != null) {
            int to = config.nObsSteps();
            Tensor dobs = dObsEmb.get(b, to, c);
            Ops.splitHeads(dcsum.view(b, 1, condTokens * c), c, dobs.view(b, 1, 1, to * c), false);
            Tensor dc = dCond.get(b, to, config.condDim());
            condObsEmb.backward(dobs, dc, false);
            lastCondGrad = dc;
        } else {
            lastCondGrad = null;
        }
    }

    /** d loss / d sample (B, horizon, input_dim) from the last backward. */
    public Tensor sampleGrad() {
        if (lastSampleGrad == null) {
            throw new IllegalStateException("TransformerForDiffusion: no backward yet");
        }
        return lastSampleGrad;
    }

    /** d loss / d cond (B, n_obs_steps, cond_dim) from the last backward, or null without an observation condition. */
    public Tensor condGrad() {
        if (lastSampleGrad == null) {
            throw new IllegalStateException("TransformerForDiffusion: no backward yet");
        }
        return lastCondGrad;
    }

    // ---- weights ----------------------------------------------------------------------------------------------------

    /** Adds the parameters and the mask buffers, under their DP names, in state_dict order. */
    public void addTo(Safetensors.Writer writer) {
        Map<String, Tensor> bufs = buffers();
        writer.add(prefix + DUMMY_VARIABLE, new float[0], 0);
        boolean buffersAdded = false;
        for (Parameter p : parameters) {
            writer.add(p.name(), p.value());
            // DP's state_dict lists the module's own parameters (pos_emb, cond_pos_emb), then its buffers
            if (!buffersAdded && (p == condPosEmb || (condPosEmb == null && p == posEmb))) {
                bufs.forEach(writer::add);
                buffersAdded = true;
            }
        }
    }

    /** Writes the weights alone as a safetensors file. */
    public void saveWeights(Path path) throws IOException {
        Safetensors.Writer w = Safetensors.writer().metadata("format", "pt");
        addTo(w);
        w.write(path);
    }

    /**
     * Loads every parameter by name from a file (which may hold other things, e.g. a whole checkpoint). Missing
     * parameters, shapes that differ, unknown names under this model's prefix, and mask buffers that disagree with
     * the configuration are errors naming the file and the tensor.
     */
    public void loadWeights(Safetensors file) {
        if (file.contains(prefix + DUMMY_VARIABLE) && Tensor.numel(file.shape(prefix + DUMMY_VARIABLE)) != 0) {
            throw new IllegalArgumentException(file.source() + ": tensor " + prefix + DUMMY_VARIABLE + " has shape "
                    + Tensor.shapeString(file.shape(prefix + DUMMY_VARIABLE)) + ", DP's is empty (0)");
        }
        StateDict.load(file, prefix, parameters, buffers(), Set.of(prefix + DUMMY_VARIABLE), "this model",
                "a mask: causal_attn or sizes differ?");
    }

    public void loadWeights(Path path) throws IOException {
        loadWeights(Safetensors.read(path));
    }

    @Override
    public void close() {
        posEmb.close();
        if (condPosEmb != null) {
            condPosEmb.close();
        }
        inputEmb.close();
        if (condObsEmb != null) {
            condObsEmb.close();
        }
        if (mlpEncoder != null) {
            mlpEncoder.close();
        }
        encoderLayers.forEach(TransformerEncoderLayer::close);
        decoderLayers.forEach(TransformerDecoderLayer::close);
        lnF.close();
        head.close();
        dropCond.close();
        dropSample.close();
        if (causalMask != null) {
            causalMask.close();
        }
        if (memoryMask != null) {
            memoryMask.close();
        }
        for (Buffer buf : new Buffer[] {timeEmb, condIn, condSum, sampleIn, sampleSum, trunk, dHead, dTrunk,
                dTokensA, dTokensB, dMemory, dCondA, dCondB, dObsEmb, dSampleEmb, dSample, dCond}) {
            buf.close();
        }
        endSampling();
    }
}
