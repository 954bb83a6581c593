package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ambient diffusion as a config choice of the one training loop: with t_n = 0 it is ordinary training, it resumes
 * exactly, and the classifier's noise levels are cached next to the data and checked on resume.
 */
class AmbientTrainingTest {

    private static Config run(Path real, Path sim, String... overrides) {
        List<String> all = new ArrayList<>(List.of("task.dataset.path=[" + real + "," + sim + "]",
                "task.dataset.weights=[0.5,0.5]", "training.num_epochs=2", "training.max_train_steps=4",
                "training.checkpoint_every=1", "training.lr_warmup_steps=2", "dataloader.batch_size=8",
                "val_dataloader.batch_size=8", "training.max_val_steps=1", "policy.model.n_emb=32",
                "policy.model.p_drop_attn=0.1"));
        all.addAll(List.of(overrides));
        return BimodalTask.config(real, all.toArray(new String[0]));
    }

    private static Trainer trainer(Config c, Path dir, PrintStream log) {
        return new Trainer(c, dir, Backends.cpu(), log).showProgress(false);
    }

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    private static List<Double> losses(Path runDir) throws Exception {
        Pattern p = Pattern.compile("\"train_loss\": ?([-+0-9.eE]+)");
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            Matcher m = p.matcher(line);
            assertTrue(m.find(), line);
            out.add(Double.parseDouble(m.group(1)));
        }
        return out;
    }

    @Test
    void levelZeroIsOrdinaryTraining(@TempDir Path tmp) throws Exception {
        Path real = BimodalTask.write(tmp.resolve("real.hdf5"), 12);
        Path sim = BimodalTask.write(tmp.resolve("sim.hdf5"), 16);
        Path vanilla = tmp.resolve("vanilla");
        trainer(run(real, sim), vanilla, QUIET).run();
        // t_n = 0: the corrupt data is as good as clean, trained at every step with the ordinary loss
        Path zero = tmp.resolve("zero");
        trainer(run(real, sim, "cotrain.ambient.t_n=[null,0]", "cotrain.ambient.loss=ambient",
                "cotrain.ambient.loss_weighting=false"), zero, QUIET).run();
        assertEquals(Files.readAllLines(vanilla.resolve("metrics.jsonl")),
                Files.readAllLines(zero.resolve("metrics.jsonl")), "the same losses, bit for bit");
        Safetensors a = Safetensors.read(Checkpoint.in(vanilla));
        Safetensors b = Safetensors.read(Checkpoint.in(zero));
        for (String name : a.names()) {
            if (a.dtype(name).equals("F32")) {
                assertArrayEquals(a.floats(name), b.floats(name), 0f, name);
            }
        }
        // with the loss weighting on, every weight is 1: the same losses to float rounding of the weighted sum
        Path weighted = tmp.resolve("weighted");
        trainer(run(real, sim, "cotrain.ambient.t_n=[null,0]", "cotrain.ambient.loss_weighting=true"), weighted,
                QUIET).run();
        List<Double> x = losses(vanilla);
        List<Double> y = losses(weighted);
        for (int i = 0; i < x.size(); i++) {
            assertEquals(x.get(i), y.get(i), 1e-5 * Math.abs(x.get(i)), "step " + i);
        }
    }

    @Test
    void ambientLossTrainsAndResumesExactly(@TempDir Path tmp) throws Exception {
        Path real = BimodalTask.write(tmp.resolve("real.hdf5"), 12);
        Path sim = BimodalTask.write(tmp.resolve("sim.hdf5"), 16);
        Config c = run(real, sim, "cotrain.ambient.t_n=[null,30]", "cotrain.ambient.alpha_schedule=linear",
                "cotrain.ambient.alpha_low_noise=0.9", "cotrain.ambient.alpha_high_noise=0.3");
        Path straight = tmp.resolve("straight");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        trainer(c, straight, new PrintStream(log, true)).run();
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("ambient diffusion, loss ambient, t_n [null, 30], buffer 1; P(corrupt data) at t = 0:"
                + " 0.00"), text);
        Path split = tmp.resolve("split");
        trainer(c, split, QUIET).stopAfter(3).run();
        trainer(c, split, QUIET).run();
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")),
                Files.readAllLines(split.resolve("metrics.jsonl")));
        // and the ambient run is not the vanilla one
        Path vanilla = tmp.resolve("vanilla");
        trainer(run(real, sim), vanilla, QUIET).run();
        assertNotEquals(losses(vanilla), losses(straight));
    }

    @Test
    void classifierNoiseLevelsAreCachedNextToTheDataAndCheckedOnResume(@TempDir Path tmp) throws Exception {
        Path real = BimodalTask.write(tmp.resolve("real.hdf5"), 12);
        Path sim = BimodalTask.write(tmp.resolve("sim.hdf5"), 16);
        String[] ambient = {"cotrain.ambient.t_n=[null,classifier]", "cotrain.ambient.classifier.hidden=16",
                "cotrain.ambient.classifier.train_steps=40", "cotrain.ambient.classifier.batch_size=32",
                "cotrain.ambient.classifier.noise_draws=2"};
        Config c = run(real, sim, ambient);
        Path first = tmp.resolve("first");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        trainer(c, first, new PrintStream(log, true)).stopAfter(3).run();
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("training the noise-level classifier of sim.hdf5"),
                log.toString(StandardCharsets.UTF_8));
        List<Path> sidecars;
        try (Stream<Path> files = Files.list(tmp)) {
            sidecars = files.filter(f -> f.getFileName().toString().startsWith("sim.hdf5.noise_levels.")).toList();
        }
        assertEquals(1, sidecars.size(), "one sidecar next to sim.hdf5");
        String digest = Safetensors.read(Checkpoint.in(first)).metadata()
                .get(Checkpoint.NOISE_LEVELS);
        assertTrue(digest != null && digest.length() == 64, "digest " + digest);

        // resuming reads the sidecar and continues exactly as a run that never stopped
        log.reset();
        trainer(c, first, new PrintStream(log, true)).run();
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("noise levels of sim.hdf5 from"),
                log.toString(StandardCharsets.UTF_8));
        // a lost sidecar is recomputed to the same levels: the straight run (which annotates again) is the same run
        Files.delete(sidecars.get(0));
        Path straight = tmp.resolve("straight");
        trainer(c, straight, QUIET).run();
        assertEquals(Files.readAllLines(straight.resolve("metrics.jsonl")),
                Files.readAllLines(first.resolve("metrics.jsonl")));
        assertEquals(digest, Safetensors.read(Checkpoint.in(straight)).metadata()
                .get(Checkpoint.NOISE_LEVELS));

        // a checkpoint trained with other noise levels (here: its digest altered) cannot be resumed with these
        Path third = tmp.resolve("third");
        trainer(c, third, QUIET).stopAfter(2).run();
        Safetensors ck = Safetensors.read(Checkpoint.in(third));
        Safetensors.Writer w = Safetensors.writer();
        ck.metadata().forEach((k, v) -> w.metadata(k, k.equals(Checkpoint.NOISE_LEVELS) ? "0".repeat(64) : v));
        for (String name : ck.names()) {
            if (ck.dtype(name).equals("I32")) {
                w.add(name, ck.ints(name), ck.shape(name));
            } else {
                w.add(name, ck.floats(name), ck.shape(name));
            }
        }
        w.write(Checkpoint.in(third));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> trainer(c, third, QUIET).run());
        assertTrue(e.getMessage().contains("other noise levels"), e.getMessage());
    }
}
