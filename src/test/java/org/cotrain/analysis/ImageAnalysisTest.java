package org.cotrain.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.io.Checkpoint;
import org.cotrain.policy.ImageTask;
import org.cotrain.sim.EnvPresets;
import org.cotrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cotrain analyze on an image policy: the windows' frames through its encoder, rollouts on rendered frames. */
class ImageAnalysisTest {

    @Test
    void probesAndAttributionRunThroughTheEncoder(@TempDir Path tmp) throws Exception {
        Path real = ImageTask.write(tmp.resolve("real.hdf5"), 3, 96);
        Path sim = ImageTask.write(tmp.resolve("sim.hdf5"), 4, 96);
        Config c = ImageTask.config(real, 96, "task.dataset.path=[" + real + "," + sim + "]",
                "cotrain.domain_conditioning=true", "task.dataset.val_ratio=0.0", "training.num_epochs=1",
                "training.max_train_steps=1");
        Path run = tmp.resolve("run");
        new Trainer(c, run, Backends.cpu(), new PrintStream(new ByteArrayOutputStream())).showProgress(false).run();

        PolicyAnalysis.Options o = new PolicyAnalysis.Options(6, 2, 0.3, 0.01, 1,
                EnvPresets.get("target").withOverrides(List.of("max_steps=16")), 3, 0, 1);
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            PolicyAnalysis.Report r = PolicyAnalysis.run(Checkpoint.in(run), null, o, Backends.cpu(),
                    pool, new PrintStream(new ByteArrayOutputStream()));
            assertEquals(List.of(real, sim), r.data());
            assertEquals(2 * 16, r.observationProbe().dims(), "To = 2 observation tokens of width 16");
            assertEquals(10 * 16, r.finalActivationProbe().dims(), "H = 10 action tokens of width 16");
            PolicyAnalysis.Attribution a = r.attribution();
            assertEquals(1, a.episodes());
            assertEquals(2, a.queries(), "16 steps, 8 executed actions per chunk");
            assertEquals(3 / 7.0, a.poolRealShare(), 1e-12, "3 real and 4 sim demos of equal length");
            assertTrue(r.observationProbe().testAccuracy() >= 0 && r.observationProbe().testAccuracy() <= 1);
        } finally {
            pool.shutdown();
        }
    }
}
