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
 * Diffusion Policy's EMAModel: an exponential moving average of the weights, updated after every optimizer step
 * with the decay of {@link EmaDecay} (0 for the first updates, so it starts as a copy; then towards 0.9999). It is
 * what DP evaluates and what a checkpoint's policy is loaded with. Saved under "ema_model." + each parameter's name.
 */
public final class EmaModel implements AutoCloseable {

    private final List<Parameter> params;
    private final List<Tensor> averages = new ArrayList<>();
    private final EmaDecay decay;
    private long updates;

    /** Starts as a copy of the parameters' current values. */
    public EmaModel(List<Parameter> params, EmaDecay decay) {
        this.params = List.copyOf(params);
        this.decay = decay;
        for (Parameter p : this.params) {
            Tensor a = p.value().backend().empty(p.shape());
            p.value().backend().copy(p.value(), a);
            averages.add(a);
        }
    }

    public long updates() {
        return updates;
    }

    /** The decay the next update will use. */
    public double nextDecay() {
        return decay.decay(updates);
    }

    /** ema = decay ema + (1 - decay) param, for every parameter. */
    public void update() {
        float d = (float) decay.decay(updates);
        if (!params.isEmpty()) {
            try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.OPTIMIZER,
                    params.get(0).value().backend())) {
                for (int i = 0; i < params.size(); i++) {
                    Ops.emaUpdate(averages.get(i), params.get(i).value(), d);
                }
            }
        }
        updates++;
    }

    /** The average of parameter i (in the order given). */
    public Tensor average(int i) {
        return averages.get(i);
    }

    /** Copies the averages into the parameters (e.g. to evaluate the EMA policy with the live model's buffers). */
    public void copyTo(List<Parameter> target) {
        for (int i = 0; i < params.size(); i++) {
            target.get(i).value().backend().copy(averages.get(i), target.get(i).value());
        }
    }

    public void addTo(Safetensors.Writer writer) {
        for (int i = 0; i < params.size(); i++) {
            writer.add(Checkpoint.EMA_PREFIX + params.get(i).name(), averages.get(i));
        }
        writer.metadata(Checkpoint.EMA_UPDATES, Long.toString(updates));
    }

    public void load(Safetensors file) {
        String n = file.metadata().get(Checkpoint.EMA_UPDATES);
        if (n == null) {
            throw new IllegalArgumentException(file.source() + ": no EMA state (metadata " + Checkpoint.EMA_UPDATES
                    + " is missing)");
        }
        for (int i = 0; i < params.size(); i++) {
            String name = Checkpoint.EMA_PREFIX + params.get(i).name();
            if (!file.contains(name)) {
                throw new IllegalArgumentException(file.source() + ": missing EMA weight " + name);
            }
            file.copyInto(name, averages.get(i));
        }
        this.updates = Long.parseLong(n);
    }

    @Override
    public void close() {
        averages.forEach(Tensor::close);
    }
}
