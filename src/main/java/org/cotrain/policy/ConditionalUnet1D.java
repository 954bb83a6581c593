package org.cotrain.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cotrain.config.ConditionalUnet1DConfig;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Buffer;
import org.cotrain.nn.ConditionalResidualBlock1D;
import org.cotrain.nn.Conv1d;
import org.cotrain.nn.Conv1dBlock;
import org.cotrain.nn.ConvTranspose1d;
import org.cotrain.nn.Linear;
import org.cotrain.nn.Mish;
import org.cotrain.nn.Parameter;
import org.cotrain.nn.StateDict;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's 1-D convolutional U-Net denoiser, DP-C (diffusion_policy/model/diffusion/conditional_unet1d.py),
 * forward and backward composed from the backend's ops. With all_dims = [input_dim] + down_dims and L levels:
 * <pre>
 *   x       sample (B, H, Da) as channels (B, Da, H)
 *   g       [diffusion_step_encoder(t) | cond flattened (B, To cond_dim)]      (B, dsed + global_cond_dim)
 *           diffusion_step_encoder = SinusoidalPosEmb(dsed), Linear(dsed, 4 dsed), Mish, Linear(4 dsed, dsed)
 *   down i  x = res(all[i] -> all[i+1])(x, g); x = res(all[i+1] -> all[i+1])(x, g); skip_i = x;
 *           x = Conv1d(all[i+1], all[i+1], 3, stride 2, padding 1)(x) except at the last level
 *   mid     two res(all[L] -> all[L])
 *   up      for the levels L-1 .. 1: x = cat(x, skip_i) along channels; res(2 all[i+1] -> all[i]); res(all[i] ->
 *           all[i]); ConvTranspose1d(all[i], all[i], 4, 2, 1) (DP's is_last test never holds here: every up level
 *           upsamples, and skip_0 is never used)
 *   out     final_conv = [Conv1dBlock(down_dims[0], down_dims[0], k, 8 groups), Conv1d(down_dims[0], Da, 1)], back
 *           to (B, H, Da)
 * </pre>
 * res = {@link ConditionalResidualBlock1D} (FiLM with cond_predict_scale). Parameters are named as in the DP policy's
 * state_dict (prefix "model.") and listed in its order, which is the modules' registration order: mid_modules,
 * diffusion_step_encoder, up_modules, down_modules, final_conv. Initialisation is torch's default for each layer
 * (DP's ConditionalUnet1D keeps it); every parameter decays, as DP's U-Net workspaces give model.parameters() to
 * AdamW whole.
 *
 * <p>Activations are buffers sized by the batch and reused while it stays the same. The output of {@link #forward}
 * is one of them: valid until the next forward call. The inputs must stay unchanged until {@link #backward}, which
 * accumulates into every parameter's gradient and writes the input gradients ({@link #sampleGrad()},
 * {@link #condGrad()}). No dropout.
 */
public final class ConditionalUnet1D implements TrainableDenoiser {
    private static final String NAME = "ConditionalUnet1D";

    /** One level of the down or up path: two residual blocks and the resampling conv (or none). */
    private record Level(ConditionalResidualBlock1D first, ConditionalResidualBlock1D second, Conv1d down,
                         ConvTranspose1d up, Buffer cat, Buffer dCat, Buffer dPre, Buffer dMid, Buffer dIn,
                         Buffer dSkip)
            implements AutoCloseable {
        @Override
        public void close() {
            first.close();
            second.close();
            if (down != null) {
                down.close();
            }
            if (up != null) {
                up.close();
            }
            for (Buffer b : new Buffer[] {cat, dCat, dPre, dMid, dIn, dSkip}) {
                b.close();
            }
        }
    }

    private final Backend backend;
    private final ConditionalUnet1DConfig config;
    private final String prefix;
    private final int[] dims;          // all_dims
    private final int dsed;
    private final int globalDim;       // dsed + global_cond_dim

    private final List<ConditionalResidualBlock1D> mid;
    private final Linear stepLinear1;
    private final Mish stepMish;
    private final Linear stepLinear3;
    private final List<Level> ups;
    private final List<Level> downs;
    private final Conv1dBlock finalBlock;
    private final Conv1d finalConv;
    private final Mish condMish;       // the Mish of every cond_encoder, on the same global feature
    private final List<Parameter> parameters;

    private final Buffer sampleT;      // (B, Da, H)
    private final Buffer timeEmb;      // (B, dsed)
    private final Buffer global;       // (B, dsed + global_cond_dim)
    private final Buffer output;       // (B, H, Da)
    private final Buffer dOutT;        // (B, Da, H)
    private final Buffer dFinal;       // (B, down_dims[0], H)
    private final Buffer dTop;         // (B, down_dims[0], H)
    private final Buffer dMidA;        // (B, all[L], H / 2^(L-1))
    private final Buffer dMidB;
    private final Buffer dGlobalMish;  // (B, G), summed over every block
    private final Buffer dGlobal;
    private final Buffer dStep;        // (B, dsed)
    private final Buffer dStepMish;    // (B, 4 dsed)
    private final Buffer dStepHidden;
    private final Buffer dSample;      // (B, H, Da)
    private final Buffer dCond;        // (B, To, cond_dim)

    private int batch = -1;
    private Tensor lastSampleGrad;
    private Tensor lastCondGrad;
    private boolean hasCond;

    public ConditionalUnet1D(Backend backend, ConditionalUnet1DConfig config) {
        this(backend, config, Checkpoint.MODEL_PREFIX);
    }

    /** A model with zero weights (GroupNorm weights one); call {@link #initialize} or {@link #loadWeights}. */
    public ConditionalUnet1D(Backend backend, ConditionalUnet1DConfig config, String prefix) {
        this.backend = backend;
        this.config = config;
        this.prefix = prefix;
        int levels = config.levels();
        this.dims = new int[levels + 1];
        dims[0] = config.inputDim();
        for (int i = 0; i < levels; i++) {
            dims[i + 1] = config.downDims().get(i);
        }
        this.dsed = config.diffusionStepEmbedDim();
        this.globalDim = config.blockCondDim();
        int k = config.kernelSize();
        int groups = config.nGroups();
        boolean scale = config.condPredictScale();

        // registration order: mid_modules, diffusion_step_encoder, up_modules, down_modules, final_conv
        this.mid = List.of(
                new ConditionalResidualBlock1D(backend, prefix + "mid_modules.0.", dims[levels], dims[levels],
                        globalDim, k, groups, scale),
                new ConditionalResidualBlock1D(backend, prefix + "mid_modules.1.", dims[levels], dims[levels],
                        globalDim, k, groups, scale));
        this.stepLinear1 = Linear.torchDefault(backend, prefix + "diffusion_step_encoder.1", dsed, 4 * dsed);
        this.stepMish = new Mish(backend);
        this.stepLinear3 = Linear.torchDefault(backend, prefix + "diffusion_step_encoder.3", 4 * dsed, dsed);
        List<Level> up = new ArrayList<>();
        for (int u = 0; u < levels - 1; u++) {
            int j = levels - 1 - u;  // in_out[j] = (dims[j], dims[j + 1]), reversed(in_out[1:])
            int dimIn = dims[j];
            int dimOut = dims[j + 1];
            String p = prefix + "up_modules." + u + ".";
            up.add(new Level(
                    new ConditionalResidualBlock1D(backend, p + "0.", 2 * dimOut, dimIn, globalDim, k, groups, scale),
                    new ConditionalResidualBlock1D(backend, p + "1.", dimIn, dimIn, globalDim, k, groups, scale),
                    null, new ConvTranspose1d(backend, p + "2.conv", dimIn, dimIn, 4, 2, 1),
                    new Buffer(backend), new Buffer(backend), new Buffer(backend), new Buffer(backend),
                    new Buffer(backend), new Buffer(backend)));
        }
        this.ups = Collections.unmodifiableList(up);
        List<Level> down = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            String p = prefix + "down_modules." + i + ".";
            boolean last = i == levels - 1;
            down.add(new Level(
                    new ConditionalResidualBlock1D(backend, p + "0.", dims[i], dims[i + 1], globalDim, k, groups,
                            scale),
                    new ConditionalResidualBlock1D(backend, p + "1.", dims[i + 1], dims[i + 1], globalDim, k, groups,
                            scale),
                    last ? null : new Conv1d(backend, p + "2.conv", dims[i + 1], dims[i + 1], 3, 2, 1), null,
                    new Buffer(backend), new Buffer(backend), new Buffer(backend), new Buffer(backend),
                    new Buffer(backend), new Buffer(backend)));
        }
        this.downs = Collections.unmodifiableList(down);
        int start = dims[1];
        this.finalBlock = new Conv1dBlock(backend, prefix + "final_conv.0.", start, start, k,
                ConditionalUnet1DConfig.FINAL_BLOCK_GROUPS);
        this.finalConv = new Conv1d(backend, prefix + "final_conv.1", start, config.inputDim(), 1, 1, 0);
        this.condMish = new Mish(backend);

        List<Parameter> ps = new ArrayList<>();
        mid.forEach(b -> ps.addAll(b.parameters()));
        ps.addAll(stepLinear1.parameters());
        ps.addAll(stepLinear3.parameters());
        for (Level l : ups) {
            ps.addAll(l.first().parameters());
            ps.addAll(l.second().parameters());
            ps.addAll(l.up().parameters());
        }
        for (Level l : downs) {
            ps.addAll(l.first().parameters());
            ps.addAll(l.second().parameters());
            if (l.down() != null) {
                ps.addAll(l.down().parameters());
            }
        }
        ps.addAll(finalBlock.parameters());
        ps.addAll(finalConv.parameters());
        this.parameters = Collections.unmodifiableList(ps);

        this.sampleT = new Buffer(backend);
        this.timeEmb = new Buffer(backend);
        this.global = new Buffer(backend);
        this.output = new Buffer(backend);
        this.dOutT = new Buffer(backend);
        this.dFinal = new Buffer(backend);
        this.dTop = new Buffer(backend);
        this.dMidA = new Buffer(backend);
        this.dMidB = new Buffer(backend);
        this.dGlobalMish = new Buffer(backend);
        this.dGlobal = new Buffer(backend);
        this.dStep = new Buffer(backend);
        this.dStepMish = new Buffer(backend);
        this.dStepHidden = new Buffer(backend);
        this.dSample = new Buffer(backend);
        this.dCond = new Buffer(backend);
    }

    public ConditionalUnet1DConfig config() {
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

    /**
     * torch's default initialisation of each layer (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for convolutions and linear
     * layers, GroupNorm ones and zeros). Uniform values come from Philox at (seed, offset), with offsets running on
     * through the parameters in order.
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

    /** Denoiser: the forward pass (the same in training and evaluation: no dropout), copied into out. */
    @Override
    public void predict(Tensor sample, Tensor timesteps, Tensor cond, Tensor out) {
        Tensor y = forward(sample, timesteps, cond);
        if (!out.hasShape(y.shape())) {
            throw new IllegalArgumentException(NAME + ": out has shape " + out.shapeString() + ", expected "
                    + y.shapeString());
        }
        backend.copy(y, out);
    }

    /**
     * The denoiser's prediction. sample (B, horizon, input_dim); timesteps (B) float32 diffusion steps; cond
     * (B, n_obs_steps, cond_dim) with observations (flattened into DP's global_cond), else null. Returns
     * (B, horizon, input_dim), a buffer valid until the next forward.
     */
    public Tensor forward(Tensor sample, Tensor timesteps, Tensor cond) {
        int b = checkInputs(sample, timesteps, cond);
        int h = config.horizon();
        int da = config.inputDim();
        this.batch = b;
        this.hasCond = cond != null;

        Tensor x = sampleT.get(b, da, h); // 'b h t -> b t h'
        Ops.splitHeads(sample, 0, x.view(b, da, h, 1), false);

        Tensor temb = timeEmb.get(b, dsed);
        Ops.sinusoidalEmbedding(timesteps, temb);
        Tensor step = stepLinear3.forward(stepMish.forward(stepLinear1.forward(temb)));
        Tensor g = global.get(b, globalDim);
        Ops.mergeHeads(step.view(b, 1, 1, dsed), g.view(b, 1, globalDim), 0, false);
        if (cond != null) {
            Ops.mergeHeads(cond.view(b, 1, 1, config.globalCondDim()), g.view(b, 1, globalDim), dsed, false);
        }
        Tensor gm = condMish.forward(g);

        for (Level l : downs) {
            x = l.second().forward(l.first().forward(x, gm), gm);
            if (l.down() != null) {
                x = l.down().forward(x);
            }
        }
        for (ConditionalResidualBlock1D m : mid) {
            x = m.forward(x, gm);
        }
        for (int u = 0; u < ups.size(); u++) {
            Level l = ups.get(u);
            Tensor skip = downs.get(downs.size() - 1 - u).second().output();
            x = l.first().forward(concat(x, skip, l.cat()), gm);
            x = l.up().forward(l.second().forward(x, gm));
        }
        Tensor y = finalConv.forward(finalBlock.forward(x)); // (B, Da, H)
        Tensor out = output.get(b, h, da);
        Ops.mergeHeads(y.view(b, da, h, 1), out, 0, false); // 'b t h -> b h t'
        return out;
    }

    /** torch.cat((a, s), dim=1) of (B, Ca, T) and (B, Cs, T) into the buffer: two column blocks per sample. */
    private static Tensor concat(Tensor a, Tensor s, Buffer into) {
        int b = a.dim(0);
        int t = a.dim(2);
        int ca = a.dim(1);
        int cs = s.dim(1);
        Tensor c = into.get(b, ca + cs, t);
        int w = (ca + cs) * t;
        Ops.mergeHeads(a.view(b, 1, 1, ca * t), c.view(b, 1, w), 0, false);
        Ops.mergeHeads(s.view(b, 1, 1, cs * t), c.view(b, 1, w), ca * t, false);
        return c;
    }

    /** {@link #forward(Tensor, Tensor, Tensor)}: the U-Net has no dropout, so training and seed change nothing. */
    @Override
    public Tensor forward(Tensor sample, Tensor timesteps, Tensor cond, boolean training, long seed) {
        return forward(sample, timesteps, cond);
    }

    private int checkInputs(Tensor sample, Tensor timesteps, Tensor cond) {
        return DenoiserInputs.check(NAME, backend, sample, timesteps, cond, config.horizon(), config.inputDim(),
                config.obsAsGlobalCond(), config.nObsSteps(), config.condDim(), "global");
    }

    // ---- backward ---------------------------------------------------------------------------------------------------

    /**
     * Backpropagates dout (B, horizon, input_dim), the gradient of a loss with respect to the last forward's output:
     * every parameter's gradient accumulates (zero them once per step), and the input gradients are written
     * ({@link #sampleGrad()}, {@link #condGrad()}).
     */
    public void backward(Tensor dout) {
        if (batch < 0) {
            throw new IllegalStateException(NAME + ": backward before forward");
        }
        int b = batch;
        int h = config.horizon();
        int da = config.inputDim();
        if (!dout.hasShape(b, h, da)) {
            throw new IllegalArgumentException(NAME + ": dout has shape " + dout.shapeString()
                    + ", expected the output's (" + b + ", " + h + ", " + da + ")");
        }
        Tensor dy = dOutT.get(b, da, h);
        Ops.splitHeads(dout, 0, dy.view(b, da, h, 1), false);
        int start = dims[1];
        Tensor df = dFinal.zeros(b, start, h);
        finalConv.backward(dy, df);
        Tensor dx = dTop.zeros(b, start, h);
        finalBlock.backward(df, dx);
        Tensor dgm = dGlobalMish.zeros(b, globalDim);

        for (int u = ups.size() - 1; u >= 0; u--) {
            Level l = ups.get(u);
            int j = dims.length - 2 - u;            // this level's in_out index
            int c = dims[j];                        // its output channels
            int cx = dims[j + 1];                   // channels of x and of the skip
            int t = h >> j;                         // length before the upsampling: that of skip j
            Tensor dPre = l.dPre().zeros(b, c, t);
            l.up().backward(dx, dPre);
            Tensor dMid = l.dMid().zeros(b, c, t);
            l.second().backward(dPre, dMid, dgm);
            Tensor dCat = l.dCat().zeros(b, 2 * cx, t);
            l.first().backward(dMid, dCat, dgm);
            Tensor dX = l.dIn().get(b, cx, t);
            Tensor dS = l.dSkip().get(b, cx, t);
            Ops.splitHeads(dCat.view(b, 1, 2 * cx * t), 0, dX.view(b, 1, 1, cx * t), false);
            Ops.splitHeads(dCat.view(b, 1, 2 * cx * t), cx * t, dS.view(b, 1, 1, cx * t), false);
            dx = dX;
        }
        int levels = downs.size();
        int cm = dims[levels];
        int tm = h >> (levels - 1);
        Tensor dm = dMidA.zeros(b, cm, tm);
        mid.get(1).backward(dx, dm, dgm);
        dx = dMidB.zeros(b, cm, tm);
        mid.get(0).backward(dm, dx, dgm);

        for (int i = levels - 1; i >= 0; i--) {
            Level l = downs.get(i);
            int t = h >> i;
            if (l.down() != null) {
                Tensor dPre = l.dPre().zeros(b, dims[i + 1], t);
                l.down().backward(dx, dPre);
                dx = dPre;
            }
            if (i >= 1) { // skip_i went to up level L-1-i; skip_0 is unused
                Ops.add(dx, ups.get(levels - 1 - i).dSkip().get(b, dims[i + 1], t), dx);
            }
            Tensor dMid = l.dMid().zeros(b, dims[i + 1], t);
            l.second().backward(dx, dMid, dgm);
            Tensor dIn = l.dIn().zeros(b, dims[i], t);
            l.first().backward(dMid, dIn, dgm);
            dx = dIn;
        }
        Tensor ds = dSample.get(b, h, da);
        Ops.mergeHeads(dx.view(b, da, h, 1), ds, 0, false);
        lastSampleGrad = ds;

        Tensor dg = dGlobal.zeros(b, globalDim);
        condMish.backward(dgm, dg);
        Tensor dstep = dStep.get(b, dsed);
        Ops.splitHeads(dg.view(b, 1, globalDim), 0, dstep.view(b, 1, 1, dsed), false);
        if (hasCond) {
            Tensor dc = dCond.get(b, config.nObsSteps(), config.condDim());
            Ops.splitHeads(dg.view(b, 1, globalDim), dsed, dc.view(b, 1, 1, config.globalCondDim()), false);
            lastCondGrad = dc;
        } else {
            lastCondGrad = null;
        }
        Tensor dm3 = dStepMish.get(b, 4 * dsed);
        stepLinear3.backward(dstep, dm3, false);
        Tensor dh1 = dStepHidden.zeros(b, 4 * dsed);
        stepMish.backward(dm3, dh1);
        stepLinear1.backward(dh1, null, false);
    }

    /** d loss / d sample (B, horizon, input_dim) from the last backward. */
    public Tensor sampleGrad() {
        if (lastSampleGrad == null) {
            throw new IllegalStateException(NAME + ": no backward yet");
        }
        return lastSampleGrad;
    }

    /** d loss / d cond (B, n_obs_steps, cond_dim) from the last backward, or null without a global condition. */
    public Tensor condGrad() {
        if (lastSampleGrad == null) {
            throw new IllegalStateException(NAME + ": no backward yet");
        }
        return lastCondGrad;
    }

    // ---- embeddings (analysis) --------------------------------------------------------------------------------------

    /**
     * EmbeddingCapture: the first down block's (down_modules.0.0) cond encoder output of the last forward, Linear(Mish(
     * [step features | obs flattened])), (B, 2 down_dims[0]) = its FiLM [scale | bias] with cond_predict_scale, else
     * (B, down_dims[0]). The observations enter DP-C only through this global condition, which every residual block
     * maps to its own FiLM parameters; the first down block's is the first learned encoding of them, met nearest the
     * sample's input, as DP-T's observation tokens are met by its decoder. At the last denoising step of a sampling
     * call every window has the same step, whose features then add one and the same vector to every row (Mish acts per
     * element, the Linear is affine), which neither a linear probe nor a t-SNE map sees. The obs part of the global
     * condition itself would not do: in a low-dim policy it is the normalised observation, nothing the network made
     * (DP's image policies feed their encoders' features there, and for them it would be the encoder's output).
     */
    @Override
    public float[][] observationEmbeddings() {
        if (batch < 0) {
            throw new IllegalStateException(NAME + ": no forward yet");
        }
        if (!hasCond) {
            throw new IllegalStateException(NAME + ": no global condition (obs_as_global_cond false or cond_dim 0):"
                    + " no observation embeddings");
        }
        Tensor e = downs.get(0).first().condEmbedding();
        return EmbeddingCapture.rows(e.toFloatArray(), batch, e.dim(1), 0, e.dim(1));
    }

    /**
     * EmbeddingCapture: the output of final_conv.0 (Conv1dBlock: conv, GroupNorm, Mish) of the last forward, before
     * the 1x1 conv that maps it to the prediction: (B, down_dims[0] horizon), each row channel-major as (C, T).
     */
    @Override
    public float[][] finalActivations() {
        Tensor f = finalBlock.output();
        if (batch < 0 || f == null) {
            throw new IllegalStateException(NAME + ": no forward yet");
        }
        int w = f.dim(1) * f.dim(2);
        return EmbeddingCapture.rows(f.toFloatArray(), batch, w, 0, w);
    }

    // ---- weights ----------------------------------------------------------------------------------------------------

    /** Adds the parameters under their DP names, in state_dict order (DP's ConditionalUnet1D has no buffers). */
    public void addTo(Safetensors.Writer writer) {
        for (Parameter p : parameters) {
            writer.add(p.name(), p.value());
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
     * parameters, shapes that differ and unknown names under this model's prefix are errors naming the file and the
     * tensor.
     */
    public void loadWeights(Safetensors file) {
        StateDict.load(file, prefix, parameters, Map.of(), Set.of(), "this ConditionalUnet1D (or by the other"
                + " denoiser?)", "");
    }

    public void loadWeights(Path path) throws IOException {
        loadWeights(Safetensors.read(path));
    }

    @Override
    public void close() {
        mid.forEach(ConditionalResidualBlock1D::close);
        stepLinear1.close();
        stepMish.close();
        stepLinear3.close();
        ups.forEach(Level::close);
        downs.forEach(Level::close);
        finalBlock.close();
        finalConv.close();
        condMish.close();
        for (Buffer buf : new Buffer[] {sampleT, timeEmb, global, output, dOutT, dFinal, dTop, dMidA, dMidB,
                dGlobalMish, dGlobal, dStep, dStepMish, dStepHidden, dSample, dCond}) {
            buf.close();
        }
    }
}
