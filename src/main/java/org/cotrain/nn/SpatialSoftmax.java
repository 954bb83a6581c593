package org.cotrain.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cotrain.nn.Conv2d.WeightInit;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * robomimic's SpatialSoftmax as Diffusion Policy configures it (num_kp 32, temperature 1, not learnable, no noise,
 * no variance output): a 1x1 convolution with bias to K keypoint maps ("nets"), a softmax over each map's H W
 * positions, and the expected (x, y) on a [-1, 1] grid, flattened to (B, 2K) as (x, y) per keypoint, i.e. robomimic's
 * (B, K, 2) followed by VisualCore's Flatten. The softmax is spatial_softmax.h.
 *
 * <p>State dict: robomimic registers the temperature (1,) and the grids pos_x, pos_y (1, H W) as buffers, before
 * the convolution's parameters: prefix + "temperature", "pos_x", "pos_y", "nets.weight", "nets.bias".
 * {@link #buffers()} has them, so that a checkpoint opens in PyTorch; only the convolution learns.
 *
 * <p>Not fused with its 1x1 convolution: at DP's sizes the convolution (a (32, 512) x (512, B H W) GEMM) costs
 * far more than the softmax over 3x3 maps, so a fused kernel would gain little (benchmarks/RESULTS.md).
 */
public final class SpatialSoftmax implements AutoCloseable {
    /** robomimic's temperature, fixed. */
    public static final float TEMPERATURE = 1f;

    private final int keypoints;
    private final int h;
    private final int w;
    private final Conv2d conv;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Buffer keypointsOut;
    private final Buffer dMaps;
    private Tensor maps; // the convolution's output (B, K, H, W), for the backward

    /** in channels of an (h, w) feature map, to numKp keypoints. */
    public SpatialSoftmax(Backend backend, String prefix, int in, int numKp, int h, int w) {
        this.keypoints = numKp;
        this.h = h;
        this.w = w;
        this.conv = new Conv2d(backend, prefix + "nets", in, numKp, 1, 1, 0, true, WeightInit.TORCH_DEFAULT);
        // np.meshgrid(np.linspace(-1, 1, W), np.linspace(-1, 1, H)) flattened row-major, as float32
        float[] posX = new float[h * w];
        float[] posY = new float[h * w];
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                posX[r * w + c] = (float) linspace(c, w);
                posY[r * w + c] = (float) linspace(r, h);
            }
        }
        buffers.put(prefix + "temperature", backend.of(new float[] {TEMPERATURE}, 1));
        buffers.put(prefix + "pos_x", backend.of(posX, 1, h * w));
        buffers.put(prefix + "pos_y", backend.of(posY, 1, h * w));
        this.keypointsOut = new Buffer(backend);
        this.dMaps = new Buffer(backend);
    }

    /** numpy's linspace(-1, 1, n)[i] in float64 (a single point is -1). */
    static double linspace(int i, int n) {
        return n == 1 ? -1.0 : -1.0 + 2.0 * i / (n - 1);
    }

    public List<Parameter> parameters() {
        return conv.parameters();
    }

    /** The state_dict buffers (temperature, pos_x, pos_y), in robomimic's order. */
    public Map<String, Tensor> buffers() {
        return buffers;
    }

    /** Output features: 2 per keypoint. */
    public int outFeatures() {
        return 2 * keypoints;
    }

    /** x (B, in, H, W) -> (B, 2K), a buffer of this layer: (x, y) of keypoint 0, then of keypoint 1, ... */
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(2) != h || x.dim(3) != w) {
            throw new IllegalArgumentException(conv.weight().name() + ": input " + x.shapeString()
                    + " is not (B, C, " + h + ", " + w + ")");
        }
        maps = conv.forward(x);
        int b = x.dim(0);
        Tensor kp = keypointsOut.get(b, keypoints, 2);
        Ops.spatialSoftmaxForward(maps, kp, TEMPERATURE);
        return kp.view(b, 2 * keypoints);
    }

    /** dx += the input gradient from dOut (B, 2K); the convolution's gradients accumulate. */
    public void backward(Tensor dOut, Tensor dx) {
        if (maps == null) {
            throw new IllegalStateException(conv.weight().name() + ": backward before forward");
        }
        int b = maps.dim(0);
        if (!dOut.hasShape(b, 2 * keypoints)) {
            throw new IllegalArgumentException(conv.weight().name() + ": gradient " + dOut.shapeString()
                    + " is not (" + b + ", " + 2 * keypoints + ")");
        }
        Tensor kp = keypointsOut.get(b, keypoints, 2);
        Tensor dm = dMaps.zeros(b, keypoints, h, w);
        Ops.spatialSoftmaxBackward(maps, kp, dOut.view(b, keypoints, 2), dm, TEMPERATURE);
        conv.backward(dm, dx);
    }

    @Override
    public void close() {
        conv.close();
        for (Tensor t : buffers.values()) {
            t.close();
        }
        keypointsOut.close();
        dMaps.close();
    }
}
