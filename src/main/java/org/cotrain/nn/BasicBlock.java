package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.nn.Conv2d.WeightInit;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torchvision's ResNet BasicBlock with Diffusion Policy's GroupNorm(C / 16, C) in place of each BatchNorm2d:
 * <pre>
 *   h   = relu(bn1(conv1(x)))          conv1: 3x3, stride s, padding 1, no bias
 *   out = relu(bn2(conv2(h)) + id)     conv2: 3x3, stride 1, padding 1, no bias
 *   id  = x, or downsample(x) = bn(conv 1x1, stride s) when the stride or the channel count changes
 * </pre>
 * Parameter names (torchvision's, the BatchNorm names kept): prefix + "conv1.weight", "bn1.weight", "bn1.bias",
 * "conv2.weight", "bn2.weight", "bn2.bias", then "downsample.0.weight", "downsample.1.weight", "downsample.1.bias".
 * The residual join is one fused add + ReLU; its backward is a ReLU backward on the block's output.
 */
public final class BasicBlock implements AutoCloseable {
    private final Conv2d conv1;
    private final GroupNorm bn1;
    private final Conv2d conv2;
    private final GroupNorm bn2;
    private final Conv2d downConv; // null without downsample
    private final GroupNorm downNorm;

    private final Buffer out;
    private final Buffer dSum;   // gradient at the residual join, before the ReLU: flows to both branches
    private final Buffer dBn2;   // (N, C, Ho, Wo) gradients inside the main branch
    private final Buffer dH;
    private final Buffer dBn1;
    private final Buffer dDown;
    private final Buffer dx;
    private Tensor h;            // relu(bn1(conv1(x))), bn1's buffer with the ReLU applied in place
    private Tensor x;

    public BasicBlock(Backend backend, String prefix, int in, int out, int stride) {
        this.conv1 = new Conv2d(backend, prefix + "conv1", in, out, 3, stride, 1, false,
                WeightInit.KAIMING_NORMAL_FAN_OUT);
        this.bn1 = GroupNorm.replacingBatchNorm(backend, prefix + "bn1", out);
        this.conv2 = new Conv2d(backend, prefix + "conv2", out, out, 3, 1, 1, false, WeightInit.KAIMING_NORMAL_FAN_OUT);
        this.bn2 = GroupNorm.replacingBatchNorm(backend, prefix + "bn2", out);
        if (stride != 1 || in != out) {
            this.downConv = new Conv2d(backend, prefix + "downsample.0", in, out, 1, stride, 0, false,
                    WeightInit.KAIMING_NORMAL_FAN_OUT);
            this.downNorm = GroupNorm.replacingBatchNorm(backend, prefix + "downsample.1", out);
        } else {
            this.downConv = null;
            this.downNorm = null;
        }
        this.out = new Buffer(backend);
        this.dSum = new Buffer(backend);
        this.dBn2 = new Buffer(backend);
        this.dH = new Buffer(backend);
        this.dBn1 = new Buffer(backend);
        this.dDown = new Buffer(backend);
        this.dx = new Buffer(backend);
    }

    /** The state_dict order of torchvision's block. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(conv1.parameters());
        ps.addAll(bn1.parameters());
        ps.addAll(conv2.parameters());
        ps.addAll(bn2.parameters());
        if (downConv != null) {
            ps.addAll(downConv.parameters());
            ps.addAll(downNorm.parameters());
        }
        return ps;
    }

    public int outputSize(int size) {
        return conv1.outputSize(size);
    }

    /** x (N, in, H, W) -> (N, out, Ho, Wo), a buffer of this block valid until its next forward. */
    public Tensor forward(Tensor x) {
        this.x = x;
        h = bn1.forward(conv1.forward(x));
        Ops.reluForward(h, h);
        Tensor main = bn2.forward(conv2.forward(h));
        Tensor identity = downConv == null ? x : downNorm.forward(downConv.forward(x));
        Tensor y = out.get(main.shape());
        Ops.addReluForward(main, identity, y);
        return y;
    }

    /**
     * The gradient with respect to the block's input, given dOut for its output: a buffer of this block (overwritten,
     * valid until the next backward). Parameter gradients accumulate.
     */
    public Tensor backward(Tensor dOut) {
        if (h == null) {
            throw new IllegalStateException("BasicBlock: backward before forward");
        }
        Tensor y = out.get(dOut.shape());
        Tensor ds = dSum.zeros(dOut.shape());
        Ops.reluBackward(y, dOut, ds);
        Tensor dIn = dx.zeros(x.shape());
        // main branch: bn2 <- conv2 <- relu <- bn1 <- conv1
        Tensor d2 = dBn2.zeros(dOut.shape());
        bn2.backward(ds, d2);
        Tensor dh = dH.zeros(h.shape());
        conv2.backward(d2, dh);
        Tensor d1 = dBn1.zeros(h.shape());
        Ops.reluBackward(h, dh, d1); // h > 0 exactly where bn1's output was > 0
        Tensor dc1 = dBn2.zeros(h.shape()); // reuse: d2 is consumed
        bn1.backward(d1, dc1);
        conv1.backward(dc1, dIn);
        // identity branch
        if (downConv == null) {
            Ops.axpby(ds, dIn, dIn, 1f, 1f);
        } else {
            Tensor dd = dDown.zeros(dOut.shape());
            downNorm.backward(ds, dd);
            downConv.backward(dd, dIn);
        }
        return dIn;
    }

    @Override
    public void close() {
        conv1.close();
        bn1.close();
        conv2.close();
        bn2.close();
        if (downConv != null) {
            downConv.close();
            downNorm.close();
        }
        out.close();
        dSum.close();
        dBn2.close();
        dH.close();
        dBn1.close();
        dDown.close();
        dx.close();
    }
}
