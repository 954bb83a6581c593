package org.cotrain.nn;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cotrain.io.Safetensors;
import org.cotrain.tensor.Tensor;

/**
 * Loading a module's weights from a safetensors file by their state_dict names, as torch's
 * {@code load_state_dict(strict=True)} does for the names under the module's prefix (a file may hold other things: a
 * whole checkpoint, another module's weights under another prefix). Every check runs before anything is copied, so a
 * refused file leaves the module as it was.
 */
public final class StateDict {
    private StateDict() {}

    /**
     * Copies {@code parameters} from {@code file}. Errors, each naming the file and the tensor: a tensor under
     * {@code prefix} that is neither a parameter nor one of {@code fixed} or {@code ignored}; a missing parameter; a
     * shape that differs; a {@code fixed} buffer in the file that differs from the module's (such buffers,
     * masks or a crop's coordinates, follow from the configuration and are not loaded).
     *
     * @param owner what the module is, for messages: "this model", "this policy's encoders (cameras [...])"
     * @param fixedMeaning what a differing fixed buffer suggests, e.g. "causal_attn or sizes differ?"
     */
    public static void load(Safetensors file, String prefix, List<Parameter> parameters, Map<String, Tensor> fixed,
                            Set<String> ignored, String owner, String fixedMeaning) {
        Set<String> known = new HashSet<>(fixed.keySet());
        known.addAll(ignored);
        for (Parameter p : parameters) {
            known.add(p.name());
        }
        for (String name : file.names()) {
            if (name.startsWith(prefix) && !known.contains(name)) {
                throw new IllegalArgumentException(file.source() + ": tensor " + name + " is not a parameter of "
                        + owner + " (was it saved with another configuration?)");
            }
        }
        for (Parameter p : parameters) {
            if (!file.contains(p.name())) {
                throw new IllegalArgumentException(file.source() + ": missing parameter " + p.name());
            }
            if (!p.value().hasShape(file.shape(p.name()))) {
                throw new IllegalArgumentException(file.source() + ": tensor " + p.name() + " has shape "
                        + Tensor.shapeString(file.shape(p.name())) + ", expected " + p.value().shapeString());
            }
        }
        for (Map.Entry<String, Tensor> e : fixed.entrySet()) {
            if (file.contains(e.getKey()) && (!Arrays.equals(file.shape(e.getKey()), e.getValue().shape())
                    || !Arrays.equals(file.floats(e.getKey()), e.getValue().toFloatArray()))) {
                throw new IllegalArgumentException(file.source() + ": tensor " + e.getKey() + " differs from this"
                        + " configuration's (" + fixedMeaning + ")");
            }
        }
        for (Parameter p : parameters) {
            file.copyInto(p.name(), p.value());
        }
    }
}
