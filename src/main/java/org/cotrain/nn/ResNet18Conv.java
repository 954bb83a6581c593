package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.nn.Conv2d.WeightInit;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * robomimic's ResNet18Conv with Diffusion Policy's GroupNorm swap: torchvision's resnet18 without its avgpool and
 * fc, i.e. nn.Sequential(conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4) stored as "nets":
 * <pre>
 *   nets.0  conv1    3 -> 64, 7x7, stride 2, padding 3, no bias       (B, 64, H/2, W/2)
 *   nets.1  bn1      GroupNorm(4, 64)
 *   nets.2  relu                                                       (no parameters)
 *   nets.3  maxpool  3x3, stride 2, padding 1                           (B, 64, H/4, W/4)
 *   nets.4  layer1   BasicBlock(64, 64) x 2                             nets.4.0, nets.4.1
 *   nets.5  layer2   BasicBlock(64, 128, stride 2, downsample), (128)   (B, 128, H/8, W/8)
 *   nets.6  layer3   ... 256                                            (B, 256, H/16, W/16)
 *   nets.7  layer4   ... 512                                            (B, 512, H/32, W/32), 3x3 for an 84x84 crop
 * </pre>
 * (sizes rounded up at each stride-2 step). Parameter names are prefix + "nets.0.weight", "nets.1.weight", ...,
 * "nets.4.0.conv1.weight", ..., "nets.5.0.downsample.0.weight". 11,176,512 parameters.
 */
public final class ResNet18Conv implements AutoCloseable {
    /** Output channels of the trunk. */
    public static final int OUT_CHANNELS = 512;

    private final Conv2d conv1;
    private final GroupNorm bn1;
    private final MaxPool2d maxpool;
    private final List<BasicBlock> blocks = new ArrayList<>();
    private final Buffer dStem;  // gradient at the stem's output (the max pool's input)
    private final Buffer dBn1;   // at bn1's output, before the ReLU
    private final Buffer dConv1; // at conv1's output
    private Tensor stem;         // relu(bn1(conv1(x))), bn1's buffer with the ReLU in place

    public ResNet18Conv(Backend backend, String prefix, int inChannels) {
        this.conv1 = new Conv2d(backend, prefix + "nets.0", inChannels, 64, 7, 2, 3, false,
                WeightInit.KAIMING_NORMAL_FAN_OUT);
        this.bn1 = GroupNorm.replacingBatchNorm(backend, prefix + "nets.1", 64);
        this.maxpool = new MaxPool2d(backend, 3, 2, 1);
        int[] widths = {64, 128, 256, 512};
        int in = 64;
        for (int layer = 0; layer < 4; layer++) {
            int out = widths[layer];
            String p = prefix + "nets." + (4 + layer) + ".";
            blocks.add(new BasicBlock(backend, p + "0.", in, out, layer == 0 ? 1 : 2));
            blocks.add(new BasicBlock(backend, p + "1.", out, out, 1));
            in = out;
        }
        this.dStem = new Buffer(backend);
        this.dBn1 = new Buffer(backend);
        this.dConv1 = new Buffer(backend);
    }

    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(conv1.parameters());
        ps.addAll(bn1.parameters());
        for (BasicBlock b : blocks) {
            ps.addAll(b.parameters());
        }
        return ps;
    }

    /** The (H, W) of the feature map for an input of (h, w). */
    public int[] outputSize(int h, int w) {
        int[] s = {maxpool.outputSize(conv1.outputSize(h)), maxpool.outputSize(conv1.outputSize(w))};
        for (BasicBlock b : blocks) {
            s[0] = b.outputSize(s[0]);
            s[1] = b.outputSize(s[1]);
        }
        return s;
    }

    /** x (B, C, H, W) -> (B, 512, H', W'), a buffer of the last block. */
    public Tensor forward(Tensor x) {
        stem = bn1.forward(conv1.forward(x));
        Ops.reluForward(stem, stem);
        Tensor t = maxpool.forward(stem);
        for (BasicBlock b : blocks) {
            t = b.forward(t);
        }
        return t;
    }

    /** Accumulates every parameter gradient from dOut (B, 512, H', W'); the input (an image) gets no gradient. */
    public void backward(Tensor dOut) {
        if (stem == null) {
            throw new IllegalStateException("ResNet18Conv: backward before forward");
        }
        Tensor d = dOut;
        for (int i = blocks.size() - 1; i >= 0; i--) {
            d = blocks.get(i).backward(d);
        }
        Tensor ds = dStem.zeros(stem.shape());
        maxpool.backward(d, ds);
        Tensor db = dBn1.zeros(stem.shape());
        Ops.reluBackward(stem, ds, db); // stem > 0 exactly where bn1's output was > 0
        Tensor dc = dConv1.zeros(stem.shape());
        bn1.backward(db, dc);
        conv1.backward(dc, null);
    }

    @Override
    public void close() {
        conv1.close();
        bn1.close();
        maxpool.close();
        for (BasicBlock b : blocks) {
            b.close();
        }
        dStem.close();
        dBn1.close();
        dConv1.close();
    }
}
