package org.cotrain.benchmarks;

import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.cotrain.nn.ImageEncoder;
import org.cotrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * DP's whole image encoder for one camera (nn.ImageEncoder: random 84x84 crops of 96x96 uint8 frames, ResNet18 with
 * GroupNorm, spatial softmax, Linear, ReLU) at batch 64: the forward alone (evaluation, centre crops) and a training
 * forward + backward (zeroed gradients, random crops). The napkin FLOPs are the convolutions' ({@link #work}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class EncoderBenchmarks extends KernelState {

    private ImageEncoder encoder;
    private Tensor images;
    private Tensor dOut;
    private long step;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int n = DpSizes.IMAGE_BATCH;
        int s = DpSizes.IMAGE_SIZE;
        encoder = new ImageEncoder(be, "image", DpSizes.CROP, DpSizes.CROP);
        encoder.initialize(1L);
        byte[] frames = new byte[n * s * s * 3];
        new Random(2).nextBytes(frames);
        images = own(be.of(frames, n, s, s, 3));
        dOut = randn(3, n, ImageEncoder.FEATURES);
        trainStep();
        ready();
    }

    @TearDown(Level.Trial)
    public void closeEncoder() {
        encoder.close();
    }

    @Benchmark
    public Tensor forward() {
        Tensor y = encoder.forward(images, false, 0L, 0L);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor trainStep() {
        encoder.zeroGrad();
        Tensor y = encoder.forward(images, true, 5L, 2 * DpSizes.IMAGE_BATCH * step++);
        encoder.backward(dOut);
        be.synchronize();
        return y;
    }

    /**
     * The image encoder at batch 64 on 84x84 crops: the FLOPs of its convolutions (DpSizes.encoderConvs; the
     * GroupNorms, pooling, softmax and Linear add under 1%). Forward: sum of 2 N CO Ho Wo CI K^2; training step: three
     * times that (forward, data and weight gradients) less the stem's data gradient (the image needs none). Bytes are
     * not counted: the step is GEMM-bound.
     *
     * @param method "forward" or "trainStep"
     * @param params the JMH parameters of the run (none used)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        if (!method.equals("forward") && !method.equals("trainStep")) {
            throw Work.noNapkinMath("EncoderBenchmarks." + method);
        }
        double total = 0;
        double stem = 0;
        for (int[] d : DpSizes.encoderConvs()) {
            int ho = (d[2] + 2 * d[7] - d[5]) / d[6] + 1;
            double f = 2.0 * d[0] * d[4] * ho * ho * d[1] * d[5] * d[5];
            total += f;
            if (stem == 0) {
                stem = f;
            }
        }
        String shape = String.format("%d frames %dx%d -> %dx%d crops -> (%d, 64)", DpSizes.IMAGE_BATCH,
                DpSizes.IMAGE_SIZE, DpSizes.IMAGE_SIZE, DpSizes.CROP, DpSizes.CROP, DpSizes.IMAGE_BATCH);
        if (method.equals("forward")) {
            return new Work.Amount(shape + ", evaluation", total, 0,
                    "flops = sum over convolutions of 2 N CO Ho Wo CI K^2");
        }
        return new Work.Amount(shape + ", forward + backward", 3 * total - stem, 0,
                "flops = 3 x the forward's, less the stem's data gradient");
    }
}
