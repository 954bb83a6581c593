package org.cotrain.benchmarks;

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
 * forward + backward (zeroed gradients, random crops). The napkin FLOPs are the convolutions' (Work.encoder).
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
}
