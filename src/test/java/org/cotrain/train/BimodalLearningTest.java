package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.cotrain.backend.Backends;
import org.cotrain.io.Checkpoint;
import org.cotrain.policy.LowdimPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Learning: a small policy trained on the CPU on {@link BimodalTask} samples both modes (up and down) from the
 * shared first observation, and not their average, which a regression policy would predict. Judged on the actions
 * the policy executes (Ta = 8 from index To - 1); the far end of the 16-step chunk, never executed, is looser (this
 * small model sometimes switches modes there). Measured: 65 up, 48 down, 15 in between of 128 after 6000 steps
 * (10 s on 2 cores); a regression policy puts all 128 in between, a collapsed one all in one mode.
 */
class BimodalLearningTest {

    @Test
    void samplesBothModesAndNotTheirAverage(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 40);
        Path dir = tmp.resolve("run");
        long start = System.nanoTime();
        new Trainer(BimodalTask.config(data, "training.num_epochs=60", "training.max_train_steps=100",
                "training.lr_warmup_steps=50", "training.checkpoint_every=60", "training.val_every=60",
                "policy.model.p_drop_attn=0.0", "task.dataset.val_ratio=0.0"), dir, Backends.cpu(),
                new PrintStream(new ByteArrayOutputStream())).showProgress(false).run();
        double trainSeconds = (System.nanoTime() - start) * 1e-9;

        int n = 128;
        int up = 0;
        int down = 0;
        int between = 0;
        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(dir), Backends.cpu())) {
            policy.setSeed(7);
            float[] obs = new float[n * 2 * 2]; // every history at the origin: (n, To=2, 2)
            float[] chunks = policy.predictActionChunk(obs, n); // (n, 16, 2)
            for (int b = 0; b < n; b++) {
                // the executed actions (chunk indices To - 1 = 1 .. 8; index k is demo step k - 1), against three
                // references: the up mode, the down mode, and their average (y = 0)
                double dUp = 0;
                double dDown = 0;
                double dMean = 0;
                for (int k = 1; k <= 8; k++) {
                    float x = chunks[(b * 16 + k) * 2];
                    float y = chunks[(b * 16 + k) * 2 + 1];
                    float ref = BimodalTask.STEP * Math.max(k, 1);
                    dUp += sq(x - ref) + sq(y - ref);
                    dDown += sq(x - ref) + sq(y + ref);
                    dMean += sq(x - ref) + sq(y);
                }
                if (dMean < Math.min(dUp, dDown)) {
                    between++;
                } else if (dUp < dDown) {
                    up++;
                } else {
                    down++;
                }
            }
        }
        String summary = String.format("up %d, down %d, in between %d of %d (training took %.0f s)", up, down, between,
                n, trainSeconds);
        System.out.println("BimodalLearningTest: " + summary);
        assertTrue(up >= n / 4 && down >= n / 4, "both modes should be sampled: " + summary);
        assertTrue(between <= n / 5, "samples should not collapse to the average: " + summary);
    }

    private static double sq(double v) {
        return v * v;
    }
}
