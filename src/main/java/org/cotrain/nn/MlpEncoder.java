package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's token-wise condition encoder when n_cond_layers = 0: nn.Sequential(Linear(C, 4C), Mish(),
 * Linear(4C, C)), applied to each token alone. Parameters prefix + "0.weight", "0.bias", "2.weight", "2.bias"
 * (index 1 is the Mish, which has none).
 */
public final class MlpEncoder implements AutoCloseable {
    private final Linear linear0;
    private final Linear linear2;
    private final Buffer mish;
    private final Buffer dMish;
    private final Buffer dHidden;
    private Tensor hidden;

    public MlpEncoder(Backend backend, String prefix, int nEmb) {
        this.linear0 = new Linear(backend, prefix + "0", nEmb, 4 * nEmb);
        this.linear2 = new Linear(backend, prefix + "2", 4 * nEmb, nEmb);
        this.mish = new Buffer(backend);
        this.dMish = new Buffer(backend);
        this.dHidden = new Buffer(backend);
    }

    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(linear0.parameters());
        ps.addAll(linear2.parameters());
        return ps;
    }

    /** x (B, T, C) -> (B, T, C), a buffer of this encoder. */
    public Tensor forward(Tensor x) {
        hidden = linear0.forward(x);
        Tensor m = mish.get(hidden.shape());
        Ops.mishForward(hidden, m);
        return linear2.forward(m);
    }

    /** Packs both weights for {@link #forwardInference} (once per sampling call: see Linear.packForInference). */
    public void packForInference() {
        linear0.packForInference();
        linear2.packForInference();
    }

    /** The forward on the packed weights (few rows, no backward): x (B, T, C) -> (B, T, C), a buffer of this encoder. */
    public Tensor forwardInference(Tensor x) {
        Tensor h = linear0.forwardPacked(x);
        Tensor m = mish.get(h.shape());
        Ops.mishForward(h, m);
        return linear2.forwardPacked(m);
    }

    /** dx = d/dx given dout (dx is overwritten). */
    public void backward(Tensor dout, Tensor dx) {
        if (hidden == null) {
            throw new IllegalStateException("MLP encoder: backward before forward");
        }
        Tensor dm = dMish.get(hidden.shape());
        linear2.backward(dout, dm, false);
        Tensor dh = dHidden.zeros(hidden.shape());
        Ops.mishBackward(hidden, dm, dh);
        linear0.backward(dh, dx, false);
    }

    @Override
    public void close() {
        linear0.close();
        linear2.close();
        mish.close();
        dMish.close();
        dHidden.close();
    }
}
