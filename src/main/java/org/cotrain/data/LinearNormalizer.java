package org.cotrain.data;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's LinearNormalizer in "limits" mode with output range [-1, 1]: one field per key ("obs",
 * "action"), each a per-dimension affine map y = x * scale + offset, fit on the training data.
 *
 * <p>The fit is DP's {@code _fit(mode='limits', output_min=-1, output_max=1, range_eps=1e-4, fit_offset=True)} in
 * float32: range = max - min; where range &lt; range_eps (a constant dimension, "ignore_dim") scale = 1 and
 * offset = -min, so that the constant maps to 0 (the middle of the output range); elsewhere
 * scale = 2 / range and offset = -1 - scale * min. The input stats (min, max, mean, std; std with Bessel's
 * correction as torch.std) are kept as DP does. Differences: mean and std are summed in float64 (torch sums in
 * float32; they do not enter the map), and one row gives std 0 where torch gives NaN.
 *
 * <p>{@link #stateDict()} names the parameters as DP's state_dict does ("normalizer.params_dict.action.scale",
 * "normalizer.params_dict.obs.input_stats.min", ...), so that checkpoints carry them under the same names.
 */
public final class LinearNormalizer {
    /** DP's range_eps: dimensions whose range is below it are treated as constant. */
    public static final float RANGE_EPS = 1e-4f;
    public static final float OUTPUT_MIN = -1f;
    public static final float OUTPUT_MAX = 1f;

    /** One key's parameters, each (D). */
    public record Field(float[] scale, float[] offset, float[] min, float[] max, float[] mean, float[] std) {
        public Field {
            int d = scale.length;
            for (float[] a : new float[][] {offset, min, max, mean, std}) {
                if (a.length != d) {
                    throw new IllegalArgumentException("normalizer field arrays of different lengths: " + d + " and "
                            + a.length);
                }
            }
        }

        public int dim() {
            return scale.length;
        }
    }

    private final Map<String, Field> fields = new LinkedHashMap<>();

    /** Fits key's field on rows of {@code dim} values: data is (rows, dim), rows >= 1. */
    public void fit(String key, float[] data, int dim) {
        if (dim <= 0 || data.length == 0 || data.length % dim != 0) {
            throw new IllegalArgumentException("normalizer " + key + ": cannot fit " + data.length
                    + " values as rows of " + dim);
        }
        int rows = data.length / dim;
        float[] min = new float[dim];
        float[] max = new float[dim];
        float[] mean = new float[dim];
        float[] std = new float[dim];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        double[] sum = new double[dim];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dim; j++) {
                float x = data[r * dim + j];
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("normalizer " + key + ": non-finite value " + x + " at row "
                            + r + ", dimension " + j);
                }
                min[j] = Math.min(min[j], x);
                max[j] = Math.max(max[j], x);
                sum[j] += x;
            }
        }
        double[] squares = new double[dim];
        for (int j = 0; j < dim; j++) {
            mean[j] = (float) (sum[j] / rows);
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dim; j++) {
                double dev = data[r * dim + j] - sum[j] / rows;
                squares[j] += dev * dev;
            }
        }
        for (int j = 0; j < dim; j++) {
            std[j] = rows > 1 ? (float) Math.sqrt(squares[j] / (rows - 1)) : 0f;
        }

        // DP's limits mode, in float32 as torch computes it.
        float[] scale = new float[dim];
        float[] offset = new float[dim];
        for (int j = 0; j < dim; j++) {
            float range = max[j] - min[j];
            boolean ignore = range < RANGE_EPS;
            if (ignore) {
                range = OUTPUT_MAX - OUTPUT_MIN;
            }
            scale[j] = (OUTPUT_MAX - OUTPUT_MIN) / range;
            offset[j] = ignore ? (OUTPUT_MAX + OUTPUT_MIN) / 2 - min[j] : OUTPUT_MIN - scale[j] * min[j];
        }
        fields.put(key, new Field(scale, offset, min, max, mean, std));
    }

    /**
     * The fields of several keys side by side, as one field over their concatenated rows (the low-dim keys of an image
     * policy, which DP normalises key by key, as one observation vector); no keys gives a field of width 0.
     */
    public Field concat(java.util.List<String> keys) {
        int d = 0;
        for (String k : keys) {
            d += field(k).dim();
        }
        float[][] parts = new float[6][d];
        int at = 0;
        for (String k : keys) {
            Field f = field(k);
            float[][] src = {f.scale, f.offset, f.min, f.max, f.mean, f.std};
            for (int j = 0; j < 6; j++) {
                System.arraycopy(src[j], 0, parts[j], at, f.dim());
            }
            at += f.dim();
        }
        return new Field(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
    }

    /** The columns [from, from + dim) of a key's field, as a field of its own (one key of a concatenated fit). */
    public Field slice(String key, int from, int dim) {
        Field f = field(key);
        if (from < 0 || dim < 0 || from + dim > f.dim()) {
            throw new IllegalArgumentException("normalizer " + key + ": columns [" + from + ", " + (from + dim)
                    + ") outside its " + f.dim());
        }
        return new Field(java.util.Arrays.copyOfRange(f.scale, from, from + dim),
                java.util.Arrays.copyOfRange(f.offset, from, from + dim),
                java.util.Arrays.copyOfRange(f.min, from, from + dim), java.util.Arrays.copyOfRange(f.max, from, from + dim),
                java.util.Arrays.copyOfRange(f.mean, from, from + dim), java.util.Arrays.copyOfRange(f.std, from, from + dim));
    }

    /**
     * DP's image range normaliser (get_image_range_normalizer): x in [0, 1] (uint8 / 255) to [-1, 1], scale 2 and
     * offset -1, with the stats of a uniform [0, 1] (min 0, max 1, mean 0.5, std sqrt(1/12)); one value per field, as
     * DP stores it (shape (1,)). The crop kernel applies it (image.h); the field is in the state dict so that a
     * checkpoint opens in PyTorch.
     */
    public static Field imageRange() {
        return new Field(new float[] {2f}, new float[] {-1f}, new float[] {0f}, new float[] {1f}, new float[] {0.5f},
                new float[] {(float) Math.sqrt(1.0 / 12.0)});
    }

    /** Sets a key's field directly (from a checkpoint). */
    public void put(String key, Field field) {
        fields.put(key, field);
    }

    public Field field(String key) {
        Field f = fields.get(key);
        if (f == null) {
            throw new IllegalArgumentException("normalizer has no key '" + key + "' (keys: " + fields.keySet() + ")");
        }
        return f;
    }

    public Set<String> keys() {
        return fields.keySet();
    }

    public boolean has(String key) {
        return fields.containsKey(key);
    }

    // ---- host arrays ----------------------------------------------------------------------------------------------

    /** out = x * scale + offset per dimension; x is (..., D) flattened; out may be x. */
    public void normalize(String key, float[] x, float[] out) {
        Field f = checkHost(key, x, out);
        int d = f.dim();
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * f.scale[i % d] + f.offset[i % d];
        }
    }

    /** out = (x - offset) / scale per dimension, DP's unnormalize; out may be x. */
    public void unnormalize(String key, float[] x, float[] out) {
        Field f = checkHost(key, x, out);
        int d = f.dim();
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - f.offset[i % d]) / f.scale[i % d];
        }
    }

    public float[] normalize(String key, float[] x) {
        float[] out = new float[x.length];
        normalize(key, x, out);
        return out;
    }

    public float[] unnormalize(String key, float[] x) {
        float[] out = new float[x.length];
        unnormalize(key, x, out);
        return out;
    }

    private Field checkHost(String key, float[] x, float[] out) {
        Field f = field(key);
        // a field of width 0 (an image policy without low-dim keys) normalises empty rows
        if ((f.dim() == 0 ? x.length != 0 : x.length % f.dim() != 0) || out.length != x.length) {
            throw new IllegalArgumentException("normalizer " + key + ": " + x.length + " values are not rows of "
                    + f.dim() + (out.length != x.length ? ", or the output has " + out.length : ""));
        }
        return f;
    }

    // ---- tensors --------------------------------------------------------------------------------------------------

    /**
     * out = x * scale + offset on x's backend, x (..., D); out may be x. Scale is broadcast over the rows by filling
     * a scratch tensor of x's shape (Ops.mul takes equal shapes), offset by Ops.addBroadcast. Small host-to-device
     * copies and one scratch tensor per call: meant for observations and action chunks at inference, not inner loops.
     */
    public void normalize(String key, Tensor x, Tensor out) {
        Field f = checkTensor(key, x, out);
        try (Tensor scale = x.backend().of(f.scale, f.dim());
                Tensor offset = x.backend().of(f.offset, f.dim());
                Tensor tiled = x.backend().zeros(x.shape())) {
            Ops.addBroadcast(tiled, scale, tiled); // (..., D): scale on every row
            Ops.mul(x, tiled, out);
            Ops.addBroadcast(out, offset, out);
        }
    }

    /**
     * out = (x - offset) * (1 / scale) on x's backend; out may be x. Multiplying by the reciprocal can differ from
     * DP's division in the last bit.
     */
    public void unnormalize(String key, Tensor x, Tensor out) {
        Field f = checkTensor(key, x, out);
        float[] inverse = new float[f.dim()];
        float[] negOffset = new float[f.dim()];
        for (int j = 0; j < f.dim(); j++) {
            inverse[j] = 1f / f.scale[j];
            negOffset[j] = -f.offset[j];
        }
        try (Tensor inv = x.backend().of(inverse, f.dim());
                Tensor neg = x.backend().of(negOffset, f.dim());
                Tensor tiled = x.backend().zeros(x.shape())) {
            Ops.addBroadcast(tiled, inv, tiled);
            Ops.addBroadcast(x, neg, out);
            Ops.mul(out, tiled, out);
        }
    }

    private Field checkTensor(String key, Tensor x, Tensor out) {
        Field f = field(key);
        if (x.rank() == 0 || x.dim(-1) != f.dim()) {
            throw new IllegalArgumentException("normalizer " + key + ": tensor " + x.shapeString()
                    + " does not end in the field's dimension " + f.dim());
        }
        if (!out.hasShape(x.shape())) {
            throw new IllegalArgumentException("normalizer " + key + ": output " + out.shapeString()
                    + " differs from input " + x.shapeString());
        }
        return f;
    }

    // ---- state dict -----------------------------------------------------------------------------------------------

    /**
     * The parameters under DP's names: normalizer.params_dict.{key}.scale, .offset, .input_stats.min, .max, .mean,
     * .std, each (D) float32.
     */
    public Map<String, float[]> stateDict() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Field> e : fields.entrySet()) {
            String p = Checkpoint.NORMALIZER_PREFIX + e.getKey() + ".";
            Field f = e.getValue();
            out.put(p + "scale", f.scale.clone());
            out.put(p + "offset", f.offset.clone());
            out.put(p + "input_stats.min", f.min.clone());
            out.put(p + "input_stats.max", f.max.clone());
            out.put(p + "input_stats.mean", f.mean.clone());
            out.put(p + "input_stats.std", f.std.clone());
        }
        return out;
    }

    /** The normaliser stored in a checkpoint or saved policy (DP's normalizer.params_dict.* entries). */
    public static LinearNormalizer read(Safetensors file) {
        return fromStateDict(Checkpoint.tensorsWithPrefix(file, Checkpoint.NORMALIZER_PREFIX));
    }

    /** The normaliser in a state dict (other entries, e.g. the model's, are ignored); every field must be complete. */
    public static LinearNormalizer fromStateDict(Map<String, float[]> state) {
        Set<String> keys = new java.util.LinkedHashSet<>();
        for (String name : state.keySet()) {
            if (name.startsWith(Checkpoint.NORMALIZER_PREFIX) && name.endsWith(".scale")) {
                keys.add(name.substring(Checkpoint.NORMALIZER_PREFIX.length(), name.length() - ".scale".length()));
            }
        }
        LinearNormalizer n = new LinearNormalizer();
        for (String key : keys) {
            String p = Checkpoint.NORMALIZER_PREFIX + key + ".";
            String[] names = {"scale", "offset", "input_stats.min", "input_stats.max", "input_stats.mean",
                "input_stats.std"};
            float[][] values = new float[names.length][];
            for (int i = 0; i < names.length; i++) {
                values[i] = state.get(p + names[i]);
                if (values[i] == null) {
                    throw new IllegalArgumentException("state dict has " + p + "scale but no " + p + names[i]);
                }
            }
            n.put(key, new Field(values[0].clone(), values[1].clone(), values[2].clone(), values[3].clone(),
                    values[4].clone(), values[5].clone()));
        }
        return n;
    }
}
