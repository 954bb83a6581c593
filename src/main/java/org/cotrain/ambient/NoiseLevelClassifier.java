package org.cotrain.ambient;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.nn.Buffer;
import org.cotrain.nn.Linear;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * The noise-level classifier of ambient diffusion (c): the logit of P(corrupt | x_t, t [, obs]) for a noisy action
 * chunk x_t at diffusion step t. A small MLP, forward and backward composed from the nn layers:
 * <pre>
 *   h1    = GELU(chunk_in(x_t) + time_in(SinusoidalPosEmb(t)) [+ obs_in(obs)])     (B, hidden)
 *   h2    = GELU(hidden(h1))                                                       (B, hidden)
 *   logit = out(h2)                                                                (B, 1)
 * </pre>
 * The first layer is a sum of three linear maps instead of one map of a concatenation: the same function, without
 * a concatenation op. Trained with binary cross-entropy ({@link Ops#bceLogitsForward}).
 */
public final class NoiseLevelClassifier implements AutoCloseable {
    /** Width of the sinusoidal step embedding, as the denoiser's step token uses it (DP's SinusoidalPosEmb). */
    public static final int TIME_EMBEDDING = 64;

    private final Backend backend;
    private final int chunkDim;
    private final int obsDim;
    private final Linear chunkIn;
    private final Linear timeIn;
    private final Linear obsIn;       // null without observations
    private final Linear hidden;
    private final Linear out;
    private final List<Parameter> parameters;
    // activations (B, ...)
    private final Buffer timeEmb;     // (B, E)
    private final Buffer pre1;        // (B, hidden)
    private final Buffer act1;
    private final Buffer act2;
    private final Buffer dAct2;
    private final Buffer dPre2;
    private final Buffer dAct1;
    private final Buffer dPre1;
    private Tensor lastPre2;

    /**
     * @param chunkDim H * Da, the flattened action chunk
     * @param obsDim   To * Do of the flattened observations, or 0 not to look at them
     */
    public NoiseLevelClassifier(Backend backend, int chunkDim, int obsDim, int hiddenWidth) {
        this.backend = backend;
        this.chunkDim = chunkDim;
        this.obsDim = obsDim;
        this.chunkIn = new Linear(backend, "chunk_in", chunkDim, hiddenWidth);
        this.timeIn = new Linear(backend, "time_in", TIME_EMBEDDING, hiddenWidth);
        this.obsIn = obsDim > 0 ? new Linear(backend, "obs_in", obsDim, hiddenWidth) : null;
        this.hidden = new Linear(backend, "hidden", hiddenWidth, hiddenWidth);
        this.out = new Linear(backend, "out", hiddenWidth, 1);
        List<Parameter> ps = new ArrayList<>(chunkIn.parameters());
        ps.addAll(timeIn.parameters());
        if (obsIn != null) {
            ps.addAll(obsIn.parameters());
        }
        ps.addAll(hidden.parameters());
        ps.addAll(out.parameters());
        this.parameters = List.copyOf(ps);
        this.timeEmb = new Buffer(backend);
        this.pre1 = new Buffer(backend);
        this.act1 = new Buffer(backend);
        this.act2 = new Buffer(backend);
        this.dAct2 = new Buffer(backend);
        this.dPre2 = new Buffer(backend);
        this.dAct1 = new Buffer(backend);
        this.dPre1 = new Buffer(backend);
    }

    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * LeCun-normal weights N(0, 1 / fan_in) and zero biases, from Philox at (seed, running offset). Not the
     * denoiser's N(0, 0.02): in this shallow MLP that leaves the GELUs in their linear range, where the quadratic
     * statistics that tell noise levels apart (the energy of a chunk off the clean data) are slow to learn.
     */
    public void initialize(long seed) {
        long offset = 0;
        for (Parameter p : parameters) {
            p.initialize(seed, offset);
            offset += p.numel();
            if (p.init() == Parameter.Init.NORMAL) {
                int fanIn = p.shape()[1];
                Ops.scale(p.value(), (float) (1 / Math.sqrt(fanIn) / Parameter.INIT_STD), p.value());
            }
        }
    }

    public void zeroGrad() {
        for (Parameter p : parameters) {
            p.zeroGrad();
        }
    }

    /**
     * The logits (B, 1), a buffer valid until the next forward. chunk (B, H * Da) noisy normalised chunks; t (B)
     * float diffusion steps; obs (B, To * Do) or null when the classifier has no observation input. The inputs must
     * stay unchanged until {@link #backward}.
     */
    public Tensor forward(Tensor chunk, Tensor t, Tensor obs) {
        int b = chunk.dim(0);
        if (!chunk.hasShape(b, chunkDim) || !t.hasShape(b) || (obsIn != null) != (obs != null)
                || (obs != null && !obs.hasShape(b, obsDim))) {
            throw new IllegalArgumentException("noise-level classifier: chunk " + chunk.shapeString() + ", t "
                    + t.shapeString() + ", obs " + (obs == null ? "null" : obs.shapeString()) + "; expected (B, "
                    + chunkDim + "), (B) and " + (obsIn == null ? "null" : "(B, " + obsDim + ")"));
        }
        Tensor temb = timeEmb.get(b, TIME_EMBEDDING);
        Ops.sinusoidalEmbedding(t, temb);
        Tensor h = pre1.get(b, hidden.weight().shape()[1]);
        Ops.add(chunkIn.forward(chunk), timeIn.forward(temb), h);
        if (obsIn != null) {
            Ops.add(h, obsIn.forward(obs), h);
        }
        Tensor a1 = act1.get(h.shape());
        Ops.geluForward(h, a1);
        Tensor h2 = hidden.forward(a1);
        Tensor a2 = act2.get(h2.shape());
        Ops.geluForward(h2, a2);
        lastPre2 = h2;
        return out.forward(a2);
    }

    /** Accumulates every parameter's gradient from dlogits (B, 1), the gradient of the loss at the last forward. */
    public void backward(Tensor dlogits) {
        if (lastPre2 == null) {
            throw new IllegalStateException("noise-level classifier: backward before forward");
        }
        Tensor da2 = dAct2.get(lastPre2.shape());
        out.backward(dlogits, da2, false);
        Tensor dh2 = dPre2.zeros(lastPre2.shape());
        Ops.geluBackward(lastPre2, da2, dh2);
        Tensor da1 = dAct1.get(lastPre2.shape());
        hidden.backward(dh2, da1, false);
        Tensor h1 = pre1.get(lastPre2.shape());
        Tensor dh1 = dPre1.zeros(lastPre2.shape());
        Ops.geluBackward(h1, da1, dh1);
        chunkIn.backward(dh1, null, false);
        timeIn.backward(dh1, null, false);
        if (obsIn != null) {
            obsIn.backward(dh1, null, false);
        }
    }

    public Backend backend() {
        return backend;
    }

    @Override
    public void close() {
        for (Linear l : new Linear[] {chunkIn, timeIn, obsIn, hidden, out}) {
            if (l != null) {
                l.close();
            }
        }
        for (Buffer buf : new Buffer[] {timeEmb, pre1, act1, act2, dAct2, dPre2, dAct1, dPre1}) {
            buf.close();
        }
    }
}
