package org.cotrain.optim;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.OpProfile;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Tensor;

/**
 * torch.optim.AdamW over a model's parameters with Diffusion Policy's groups: {@code weightDecay} on the
 * parameters whose {@link Parameter#weightDecay()} is true (Linear and attention weights), none on the rest (biases,
 * LayerNorm, position embeddings); or a weight decay per parameter (an image policy's groups: the transformer's two
 * and the encoder's, {@code TrainablePolicy.weightDecays}). Each step is one fused {@link Ops#adamwStep} per
 * parameter.
 *
 * <p>The moments are allocated with the optimizer (two floats per parameter value) and saved in checkpoints under
 * "optimizer.{parameter name}.exp_avg" / ".exp_avg_sq", torch's names for them, with the step count.
 */
public final class AdamW implements AutoCloseable {

    private final List<Parameter> params;
    private final List<Tensor> expAvg = new ArrayList<>();
    private final List<Tensor> expAvgSq = new ArrayList<>();
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float[] weightDecay; // per parameter
    private long steps;

    /** weightDecay on the parameters flagged for it ({@link Parameter#weightDecay()}), none on the rest. */
    public AdamW(List<Parameter> params, float beta1, float beta2, float eps, float weightDecay) {
        this(params, flagged(params, weightDecay), beta1, beta2, eps);
    }

    private static float[] flagged(List<Parameter> params, float weightDecay) {
        float[] d = new float[params.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = params.get(i).weightDecay() ? weightDecay : 0f;
        }
        return d;
    }

    /** weightDecay[i] on parameter i. */
    public AdamW(List<Parameter> params, float[] weightDecay, float beta1, float beta2, float eps) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("optimizer.betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (weightDecay.length != params.size()) {
            throw new IllegalArgumentException(weightDecay.length + " weight decays for " + params.size()
                    + " parameters");
        }
        for (float wd : weightDecay) {
            if (!(eps > 0) || !(wd >= 0) || Float.isInfinite(wd)) {
                throw new IllegalArgumentException("AdamW needs eps > 0 and a finite weight_decay >= 0, got eps " + eps
                        + ", weight_decay " + wd);
            }
        }
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay.clone();
        for (Parameter p : this.params) {
            expAvg.add(p.value().backend().zeros(p.shape()));
            expAvgSq.add(p.value().backend().zeros(p.shape()));
        }
    }

    /** Optimizer steps taken so far (torch's per-parameter "step"). */
    public long steps() {
        return steps;
    }

    public void step(float lr) {
        step(lr, 1f);
    }

    /** One step at learning rate lr, with every gradient multiplied by gradScale first (gradient-norm clipping). */
    public void step(float lr, float gradScale) {
        steps++;
        if (params.isEmpty()) {
            return;
        }
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.OPTIMIZER, params.get(0).value().backend())) {
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                Ops.adamwStep(p.value(), p.grad(), expAvg.get(i), expAvgSq.get(i), lr, beta1, beta2, eps,
                        weightDecay[i], steps, gradScale);
            }
        }
    }

    /** Adds the moments and the step count to a checkpoint. */
    public void addTo(Safetensors.Writer writer) {
        for (int i = 0; i < params.size(); i++) {
            String name = Checkpoint.OPTIMIZER_PREFIX + params.get(i).name();
            writer.add(name + ".exp_avg", expAvg.get(i));
            writer.add(name + ".exp_avg_sq", expAvgSq.get(i));
        }
        writer.metadata(Checkpoint.OPTIMIZER_STEP, Long.toString(steps));
    }

    /** Restores the moments and the step count from a checkpoint; every parameter's state must be there. */
    public void load(Safetensors file) {
        String step = file.metadata().get(Checkpoint.OPTIMIZER_STEP);
        if (step == null) {
            throw new IllegalArgumentException(file.source() + ": no optimizer state (metadata "
                    + Checkpoint.OPTIMIZER_STEP + " is missing)");
        }
        for (int i = 0; i < params.size(); i++) {
            String name = Checkpoint.OPTIMIZER_PREFIX + params.get(i).name();
            for (String suffix : new String[] {".exp_avg", ".exp_avg_sq"}) {
                if (!file.contains(name + suffix)) {
                    throw new IllegalArgumentException(file.source() + ": missing optimizer state " + name + suffix);
                }
            }
            file.copyInto(name + ".exp_avg", expAvg.get(i));
            file.copyInto(name + ".exp_avg_sq", expAvgSq.get(i));
        }
        this.steps = Long.parseLong(step);
    }

    @Override
    public void close() {
        expAvg.forEach(Tensor::close);
        expAvgSq.forEach(Tensor::close);
    }
}
