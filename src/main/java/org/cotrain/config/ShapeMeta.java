package org.cotrain.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * task.shape_meta of an image config (DP's shape_meta): the observation keys in order, each a camera ({@code rgb},
 * shape [3, H, W] channels first as DP writes it; the HDF5 file holds uint8 frames (N, H, W, 3)) or a low-dim array
 * ({@code low_dim}, shape [D] or e.g. [9, 2], flattened per step), and the action shape [Da].
 *
 * <p>The policy's condition per observation step is, as robomimic's ObservationEncoder builds it in shape_meta order
 * for DP's push-T config: the 64 features of each camera, then the normalised low-dim keys. cotrain puts every camera
 * before the low-dim keys whatever the order written (DP's configs list cameras first).
 *
 * @param obs       the observation keys, in the config's order
 * @param actionDim Da, task.shape_meta.action.shape[0]
 */
public record ShapeMeta(List<ObsKey> obs, int actionDim) {

    /** DP's observation types (DP's policies reject the rest of robomimic's: depth, scan). */
    public enum ObsType {
        RGB("rgb"),
        LOW_DIM("low_dim");

        private final String configName;

        ObsType(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /** One observation key: its type and DP's shape ([3, H, W] for rgb). */
    public record ObsKey(String key, ObsType type, List<Integer> shape) {
        public ObsKey {
            shape = List.copyOf(shape);
        }

        /** Frame height of a camera. */
        public int height() {
            return shape.get(1);
        }

        /** Frame width of a camera. */
        public int width() {
            return shape.get(2);
        }

        /** Values per step of a low-dim key (the product of its shape). */
        public int dim() {
            int n = 1;
            for (int d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    public ShapeMeta {
        obs = List.copyOf(obs);
    }

    /** The cameras, in order. */
    public List<ObsKey> rgb() {
        return obs.stream().filter(k -> k.type() == ObsType.RGB).toList();
    }

    /** The low-dim keys, in order. */
    public List<ObsKey> lowdim() {
        return obs.stream().filter(k -> k.type() == ObsType.LOW_DIM).toList();
    }

    /** The width of one step's low-dim observation: the low-dim keys flattened and concatenated. */
    public int lowdimDim() {
        return lowdim().stream().mapToInt(ObsKey::dim).sum();
    }

    static ShapeMeta read(ConfigReader r) {
        String section = Schema.OBS_SECTION;
        List<ObsKey> keys = new ArrayList<>();
        for (String name : r.entries(section)) {
            String p = section + "." + name + ".";
            for (String leaf : Schema.OBS_ENTRY_KEYS) {
                if (!r.has(p + leaf)) {
                    throw new ConfigException(section + "." + name + " needs the keys " + String.join(" and ",
                            Schema.OBS_ENTRY_KEYS) + "; " + p + leaf + " is missing");
                }
            }
            if (name.equals("action")) {
                throw new ConfigException(section + ".action: 'action' is not an observation key (the actions are"
                        + " task.shape_meta.action)");
            }
            Map<String, ObsType> types = new LinkedHashMap<>();
            for (ObsType t : ObsType.values()) {
                types.put(t.configName(), t);
            }
            ObsType type = r.choice(p + "type", types);
            List<Integer> shape = r.integers(p + "shape", -1, 1);
            if (type == ObsType.RGB && (shape.size() != 3 || shape.get(0) != 3)) {
                throw r.invalid(p + "shape", "[3, H, W] for an rgb key (channels first, as DP writes it; the HDF5"
                        + " file holds uint8 frames (N, H, W, 3))", r.value(p + "shape"));
            }
            keys.add(new ObsKey(name, type, shape));
        }
        if (keys.isEmpty()) {
            throw new ConfigException(section + " has no observation keys");
        }
        List<Integer> action = r.integers("task.shape_meta.action.shape", 1, 1);
        return new ShapeMeta(keys, action.get(0));
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("ShapeMeta(");
        for (ObsKey k : obs) {
            s.append(k.key()).append(' ').append(k.type().configName()).append(' ')
                    .append(Arrays.toString(k.shape().toArray())).append(", ");
        }
        return s.append("action ").append(actionDim).append(')').toString();
    }
}
