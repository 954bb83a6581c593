package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's ConditionalResidualBlock1D (diffusion_policy/model/diffusion/conditional_unet1d.py):
 * <pre>
 *   h   = blocks.0(x)                                   Conv1dBlock(in, out)     (B, out, T)
 *   e   = cond_encoder(cond) = Linear(Mish(cond))       (B, out) or (B, 2 out) with cond_predict_scale
 *   h   = h + e[:, :, None]                             or e[:, :out, None] h + e[:, out:, None] (FiLM)
 *   out = blocks.1(h) + residual_conv(x)                Conv1d(in, out, 1) when in != out, else x itself
 * </pre>
 * Parameters prefix + "blocks.0.block.{0,1}.*", "blocks.1.block.{0,1}.*", "cond_encoder.1.{weight,bias}" (index 0 is
 * the Mish), "residual_conv.{weight,bias}", in that order. The Mish of the condition is the same function of the same
 * global feature in every block of a U-Net, so the caller computes it once and passes Mish(cond) here, and sums the
 * blocks' gradients with respect to it before one Mish backward ({@link #backward}).
 */
public final class ConditionalResidualBlock1D implements AutoCloseable {
    private final int in;
    private final int out;
    private final boolean predictScale;
    private final Conv1dBlock block0;
    private final Conv1dBlock block1;
    private final Linear condEncoder;
    private final Conv1d residualConv; // null when in == out (nn.Identity)
    private final Buffer film;      // (B, out, T): the conditioned h
    private final Buffer sum;       // (B, out, T): the block's output
    private final Buffer dFilm;     // (B, out, T): d/d(conditioned h)
    private final Buffer dH;        // (B, out, T): d/dh, with cond_predict_scale (else it is dFilm itself)
    private final Buffer dEmbed;    // (B, out) or (B, 2 out): d/de
    private Tensor x;
    private Tensor h;
    private Tensor embed;           // e, the cond encoder's output (its buffer, valid until its next forward)
    private Tensor lastOut;

    public ConditionalResidualBlock1D(Backend backend, String prefix, int in, int out, int condDim, int kernel,
                                      int groups, boolean condPredictScale) {
        this.in = in;
        this.out = out;
        this.predictScale = condPredictScale;
        this.block0 = new Conv1dBlock(backend, prefix + "blocks.0.", in, out, kernel, groups);
        this.block1 = new Conv1dBlock(backend, prefix + "blocks.1.", out, out, kernel, groups);
        this.condEncoder = Linear.torchDefault(backend, prefix + "cond_encoder.1", condDim,
                condPredictScale ? 2 * out : out);
        this.residualConv = in == out ? null : new Conv1d(backend, prefix + "residual_conv", in, out, 1, 1, 0);
        this.film = new Buffer(backend);
        this.sum = new Buffer(backend);
        this.dFilm = new Buffer(backend);
        this.dH = new Buffer(backend);
        this.dEmbed = new Buffer(backend);
    }

    /** blocks.0, blocks.1, cond_encoder.1, residual_conv: the state_dict order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(block0.parameters());
        ps.addAll(block1.parameters());
        ps.addAll(condEncoder.parameters());
        if (residualConv != null) {
            ps.addAll(residualConv.parameters());
        }
        return ps;
    }

    /** The output of the last forward (a buffer of this block), or null before one. */
    public Tensor output() {
        return lastOut;
    }

    /**
     * The cond encoder's output e of the last forward, (B, 2 out) = [scale | bias] with cond_predict_scale, else
     * (B, out): a buffer of this block valid until its next forward, or null before one.
     */
    public Tensor condEmbedding() {
        return embed;
    }

    public int outChannels() {
        return out;
    }

    /**
     * x (B, in, T), mishCond (B, cond_dim) = Mish(global feature) -> (B, out, T), a buffer of this block valid until
     * its next forward. Both inputs are kept (unchanged) for the backward.
     */
    public Tensor forward(Tensor x, Tensor mishCond) {
        if (x.rank() != 3 || x.dim(1) != in) {
            throw new IllegalArgumentException(condEncoder.weight().name() + ": input " + x.shapeString()
                    + " is not (B, " + in + ", T)");
        }
        int b = x.dim(0);
        int t = x.dim(2);
        if (mishCond.rank() != 2 || mishCond.dim(0) != b) {
            throw new IllegalArgumentException(condEncoder.weight().name() + ": condition " + mishCond.shapeString()
                    + " is not (" + b + ", cond_dim)");
        }
        this.x = x;
        this.h = block0.forward(x);
        Tensor e = condEncoder.forward(mishCond);
        this.embed = e;
        Tensor f = film.get(b, out, t);
        // e (B, 2 out) = [scale | bias] per sample, as DP's reshape (B, 2, out, 1) reads it, or (B, out) = bias
        Ops.filmForward(h, e, f, predictScale);
        Tensor y = block1.forward(f);
        Tensor result = sum.get(b, out, t);
        if (residualConv != null) {
            Ops.add(y, residualConv.forward(x), result);
        } else {
            Ops.add(y, x, result);
        }
        lastOut = result;
        return result;
    }

    /**
     * dy (B, out, T): every parameter gradient accumulates, dx (B, in, T) += the input gradient and dMishCond
     * (B, cond_dim) += the gradient with respect to Mish(cond).
     */
    public void backward(Tensor dy, Tensor dx, Tensor dMishCond) {
        if (x == null) {
            throw new IllegalStateException(condEncoder.weight().name() + ": backward before forward");
        }
        int b = x.dim(0);
        int t = x.dim(2);
        if (!dy.hasShape(b, out, t) || !dx.hasShape(x.shape())) {
            throw new IllegalArgumentException(condEncoder.weight().name() + ": gradients " + dy.shapeString()
                    + " and " + dx.shapeString() + " are not (" + b + ", " + out + ", " + t + ") and "
                    + x.shapeString());
        }
        Tensor df = dFilm.zeros(b, out, t);
        block1.backward(dy, df);
        Tensor de = dEmbed.get(b, predictScale ? 2 * out : out);
        Tensor dh;
        if (predictScale) {
            dh = dH.get(b, out, t);
            Ops.filmBackward(df, h, embed, dh, de, true);
        } else {
            dh = df; // h + bias passes the gradient through unchanged
            Ops.filmBackward(df, h, embed, null, de, false);
        }
        condEncoder.backward(de, dMishCond, true);
        block0.backward(dh, dx);
        if (residualConv != null) {
            residualConv.backward(dy, dx);
        } else {
            Ops.add(dx, dy, dx);
        }
    }

    @Override
    public void close() {
        block0.close();
        block1.close();
        condEncoder.close();
        if (residualConv != null) {
            residualConv.close();
        }
        for (Buffer buf : new Buffer[] {film, sum, dFilm, dH, dEmbed}) {
            buf.close();
        }
    }
}
