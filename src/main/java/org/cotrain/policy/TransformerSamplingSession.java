package org.cotrain.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.cotrain.diffusion.Denoiser;
import org.cotrain.nn.Buffer;
import org.cotrain.nn.MlpEncoder;
import org.cotrain.nn.TransformerDecoderLayer;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * One sampling call of {@link TransformerForDiffusion} ({@link Denoiser#beginSampling}), open from its first step to
 * its last. While it is open the model's evaluation forwards run each decoder layer as one native call on weights
 * packed once (the model packs them when it opens the session). With the token-wise condition encoder (n_cond_layers
 * 0) and the call's timesteps known, it also holds what a step would otherwise recompute, the decoder memory's keys
 * and values, split as the memory is:
 * <pre>
 *   token 0 (the diffusion step)  depends on t alone:     stepKv[l]   (N, 1, 2C), all N timesteps, made when opened
 *   tokens 1..To (observations)   depend on cond alone:   memoryKv[l] (B, Tc, 2C), made at the first step
 * </pre>
 * (memoryKv's token 0 is the first step's and is not read: the fused layer takes token 0 from stepKv). A forward is a
 * session step when all its batch entries have one of the session's timesteps and its cond is the first step's
 * tensor; any other forward computes its memory as usual. Same results as without a session, to float rounding.
 */
final class TransformerSamplingSession implements Denoiser.Session {
    private final List<TransformerDecoderLayer> decoderLayers;
    private final int condTokens;      // Tc
    private final int nEmb;            // C
    private final float[] timesteps;   // the session's timesteps (N), when the memory is hoisted; else null
    private final Tensor[] stepKv;     // per decoder layer (N, 1, 2C), or null
    private final List<Buffer> memoryKv = new ArrayList<>(); // per decoder layer (B, Tc, 2C)
    private final Consumer<TransformerSamplingSession> onClose;
    private Tensor cond;               // the cond of the session's first step, to which memoryKv belongs; else null
    private int nextStep;              // where the next step's timestep is looked for first
    private boolean closed;

    /**
     * @param hoistEncoder the token-wise condition encoder (packed) when the memory is hoisted, else null
     * @param condPosEmb   (1, Tc, C) the condition tokens' position embedding
     * @param timesteps    the call's timesteps, noisiest first; null or empty: nothing is hoisted
     * @param onClose      given this session once, when it closes
     */
    TransformerSamplingSession(Backend backend, List<TransformerDecoderLayer> decoderLayers, MlpEncoder hoistEncoder,
                               Tensor condPosEmb, int condTokens, int nEmb, float[] timesteps,
                               Consumer<TransformerSamplingSession> onClose) {
        this.decoderLayers = decoderLayers;
        this.condTokens = condTokens;
        this.nEmb = nEmb;
        this.onClose = onClose;
        boolean hoist = hoistEncoder != null && timesteps != null && timesteps.length > 0;
        this.timesteps = hoist ? timesteps.clone() : null;
        this.stepKv = hoist ? stepKeysAndValues(backend, hoistEncoder, condPosEmb, timesteps) : null;
        if (hoist) {
            decoderLayers.forEach(l -> memoryKv.add(new Buffer(backend)));
        }
    }

    /**
     * Per decoder layer, (N, 1, 2C): the keys and values of the step token at each of the N timesteps, the token as
     * the model's encode makes it (sinusoidal embedding + cond_pos_emb[0], through the MLP encoder), N rows in one
     * product.
     */
    private Tensor[] stepKeysAndValues(Backend backend, MlpEncoder encoder, Tensor condPosEmb, float[] ts) {
        int n = ts.length;
        int c = nEmb;
        Tensor[] kv = new Tensor[decoderLayers.size()];
        try (Tensor t = backend.of(ts, n);
             Tensor emb = backend.empty(n, c);
             Tensor pos0 = backend.empty(c);
             Tensor tokens0 = backend.empty(n, 1, c)) {
            Ops.sinusoidalEmbedding(t, emb);
            Ops.splitHeads(condPosEmb.view(1, 1, condTokens * c), 0, pos0.view(1, 1, 1, c), false);
            Ops.addBroadcast(emb, pos0, tokens0.view(n, c));
            Tensor memory0 = encoder.forwardInference(tokens0); // (N, 1, C)
            for (int l = 0; l < kv.length; l++) {
                kv[l] = backend.empty(n, 1, 2 * c);
                decoderLayers.get(l).projectMemory(memory0, kv[l]);
            }
        }
        return kv;
    }

    /**
     * The session step of a forward: the index of its timestep among the session's when every batch entry has that
     * one and the cond is the session's (the same tensor as at its first step); else -1.
     */
    int step(Tensor stepTimesteps, Tensor stepCond) {
        if (timesteps == null || (cond != null && stepCond != cond)) {
            return -1;
        }
        float[] ts = stepTimesteps.toFloatArray();
        for (float v : ts) {
            if (v != ts[0]) {
                return -1;
            }
        }
        int n = timesteps.length;
        for (int i = 0; i < n; i++) {
            int k = (nextStep + i) % n;
            if (timesteps[k] == ts[0]) {
                nextStep = k + 1;
                return k;
            }
        }
        return -1;
    }

    /** Whether the condition tokens' keys and values are made (after the first session step). */
    boolean hasMemory() {
        return cond != null;
    }

    /** At the first session step: the condition tokens' keys and values from its memory (B, Tc, C). */
    void projectMemory(Tensor memory, Tensor stepCond, int batch) {
        for (int l = 0; l < decoderLayers.size(); l++) {
            decoderLayers.get(l).projectMemory(memory, memoryKv(l, batch));
        }
        cond = stepCond;
    }

    /** Runs the decoder layers of session step {@code step} on x (B, T, C), in place. */
    void decode(Tensor x, int step, int batch, boolean causal, Tensor memoryMask) {
        for (int l = 0; l < decoderLayers.size(); l++) {
            decoderLayers.get(l).forwardInferenceCached(x, memoryKv(l, batch),
                    stepKv[l].view(stepKv[l].dim(0), 2 * nEmb), step, causal, memoryMask);
        }
    }

    private Tensor memoryKv(int layer, int batch) {
        return memoryKv.get(layer).get(batch, condTokens, 2 * nEmb);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (stepKv != null) {
            for (Tensor t : stepKv) {
                t.close();
            }
        }
        memoryKv.forEach(Buffer::close);
        onClose.accept(this);
    }
}
