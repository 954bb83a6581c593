package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's image encoder for one camera (robomimic's VisualCore under ObservationEncoder, with DP's
 * GroupNorm swap and crop randomiser):
 * <pre>
 *   uint8 (B, H, W, 3) --crop, / 255, to [-1, 1]--> (B, 3, h, w)       CropRandomizer (no parameters)
 *   nets.0  ResNet18Conv (GroupNorm)                  (B, 512, h', w'), 3x3 for an 84x84 crop
 *   nets.1  SpatialSoftmax, 32 keypoints              (B, 32, 2)
 *   nets.2  Flatten                                   (B, 64)
 *   nets.3  Linear(64, 64)                            (B, 64)
 *   ObservationEncoder's feature activation: ReLU     (B, 64)
 * </pre>
 * Parameter names as in the DP hybrid image policy's state_dict: "obs_encoder.obs_nets.&lt;key&gt;.nets.0.nets.0.weight"
 * (conv1), ..., "obs_encoder.obs_nets.&lt;key&gt;.nets.1.nets.weight" (the keypoint convolution), ".nets.3.weight" (the
 * Linear); the SpatialSoftmax buffers (temperature, pos_x, pos_y) are in {@link #buffers()}. 11,197,088
 * parameters. Initialised as DP builds it: torchvision's kaiming_normal_(fan_out) for the ResNet convolutions,
 * GroupNorm ones and zeros, torch's layer defaults for the keypoint convolution and the Linear.
 *
 * <p>In DP every parameter here is in the optimiser's obs_encoder group, with its own weight decay (1e-6 in the
 * push-T config); {@link Parameter#weightDecay()} is true for all of them.
 */
public final class ImageEncoder implements AutoCloseable {
    /** DP's spatial-softmax keypoints. */
    public static final int KEYPOINTS = 32;
    /** DP's feature size per camera. */
    public static final int FEATURES = 64;

    private final String prefix;
    private final int cropH;
    private final int cropW;
    private final CropRandomizer crop;
    private final ResNet18Conv backbone;
    private final SpatialSoftmax pool;
    private final Linear linear;
    private final List<Parameter> parameters = new ArrayList<>();
    private final Buffer out;
    private final Buffer dLinear;
    private final Buffer dKeypoints;
    private final Buffer dFeatures;
    private Tensor features;     // the trunk's output (B, 512, h', w')
    private Tensor keypoints;    // the SpatialSoftmax's output (B, 64)
    private Tensor linearOut;

    /** The encoder of camera key ("image" in DP's push-T config), for 3-channel frames cropped to cropH x cropW. */
    public ImageEncoder(Backend backend, String key, int cropH, int cropW) {
        this.prefix = "obs_encoder.obs_nets." + key + ".";
        this.cropH = cropH;
        this.cropW = cropW;
        this.crop = new CropRandomizer(backend, cropH, cropW);
        this.backbone = new ResNet18Conv(backend, prefix + "nets.0.", 3);
        int[] feat = backbone.outputSize(cropH, cropW);
        this.pool = new SpatialSoftmax(backend, prefix + "nets.1.", ResNet18Conv.OUT_CHANNELS, KEYPOINTS, feat[0],
                feat[1]);
        this.linear = Linear.torchDefault(backend, prefix + "nets.3", pool.outFeatures(), FEATURES);
        parameters.addAll(backbone.parameters());
        parameters.addAll(pool.parameters());
        parameters.addAll(linear.parameters());
        this.out = new Buffer(backend);
        this.dLinear = new Buffer(backend);
        this.dKeypoints = new Buffer(backend);
        this.dFeatures = new Buffer(backend);
    }

    /** "obs_encoder.obs_nets.&lt;key&gt;.": the prefix of every name of this encoder. */
    public String prefix() {
        return prefix;
    }

    /** Every parameter, in the state_dict order of DP's encoder. */
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
     * Every state_dict name of this encoder in PyTorch's order: the trunk's parameters, the SpatialSoftmax's buffers
     * (a module's own parameters and buffers come before its children's), its convolution, the Linear.
     */
    public List<String> stateDictNames() {
        List<String> names = new ArrayList<>();
        for (Parameter p : backbone.parameters()) {
            names.add(p.name());
        }
        names.addAll(pool.buffers().keySet());
        for (Parameter p : pool.parameters()) {
            names.add(p.name());
        }
        for (Parameter p : linear.parameters()) {
            names.add(p.name());
        }
        return names;
    }

    /** The non-learned state_dict entries (the SpatialSoftmax's temperature and grids), by name. */
    public Map<String, Tensor> buffers() {
        return pool.buffers();
    }

    /** The crop size the encoder was built for. */
    public int[] cropSize() {
        return new int[] {cropH, cropW};
    }

    /**
     * Initialises every parameter from Philox at (seed, offset), offsets running on through the parameters in order,
     * with the distribution of its layer (see the class comment).
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

    /**
     * uint8 frames (B, H, W, 3) -> features (B, 64): random crops from (seed, offset) when training, centre crops
     * otherwise. Returns a buffer of this encoder, valid until its next forward.
     */
    public Tensor forward(Tensor images, boolean training, long seed, long offset) {
        return forwardCropped(crop.forward(images, training, seed, offset));
    }

    /** The same with given crop offsets (B, 2) int32 (top, left), or centre crops when null. */
    public Tensor forward(Tensor images, Tensor cropOffsets) {
        return forwardCropped(crop.forward(images, cropOffsets));
    }

    /** Normalised, cropped images (B, 3, cropH, cropW) -> features (B, 64). */
    public Tensor forwardCropped(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != 3 || x.dim(2) != cropH || x.dim(3) != cropW) {
            throw new IllegalArgumentException(prefix + ": input " + x.shapeString() + " is not (B, 3, " + cropH + ", "
                    + cropW + ")");
        }
        features = backbone.forward(x);
        keypoints = pool.forward(features);
        linearOut = linear.forward(keypoints);
        Tensor y = out.get(linearOut.shape());
        Ops.reluForward(linearOut, y);
        return y;
    }

    /** The trunk's output (B, 512, h', w') of the last forward: the spatial features, e.g. for embedding probes. */
    public Tensor lastFeatures() {
        return features;
    }

    /** The keypoints (B, 64) of the last forward: (x, y) in [-1, 1] per keypoint, before the Linear. */
    public Tensor lastKeypoints() {
        return keypoints;
    }

    /** Accumulates every parameter gradient from dOut (B, 64), the gradient of the last forward's output. */
    public void backward(Tensor dOut) {
        if (linearOut == null) {
            throw new IllegalStateException(prefix + ": backward before forward");
        }
        Tensor dl = dLinear.zeros(linearOut.shape());
        Ops.reluBackward(linearOut, dOut, dl);
        Tensor dk = dKeypoints.get(dl.dim(0), pool.outFeatures());
        linear.backward(dl, dk, false);
        Tensor df = dFeatures.zeros(features.shape());
        pool.backward(dk, df);
        backbone.backward(df);
    }

    @Override
    public void close() {
        crop.close();
        backbone.close();
        pool.close();
        linear.close();
        out.close();
        dLinear.close();
        dKeypoints.close();
        dFeatures.close();
    }
}
