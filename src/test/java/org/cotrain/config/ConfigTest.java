package org.cotrain.config;

import org.cotrain.diffusion.NoiseSchedulerConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading configs from presets and files, key=value overrides, unknown keys, and the toYaml round trip. */
class ConfigTest {

    private static String preset() {
        return Presets.text(Presets.PUSHT_LOWDIM_TRANSFORMER);
    }

    private static ConfigException error(Runnable r) {
        return assertThrows(ConfigException.class, r::run);
    }

    @Test
    void everyPresetIsShippedLoadsAndValidates() {
        for (String name : Presets.NAMES) {
            Config config = Config.load(name);
            assertEquals("preset " + name, config.source());
            TrainConfig train = config.toTrainConfig();
            // DP's push-T transformer configs: horizon 16 (low-dim), 10 (image)
            assertEquals(train.isImage() ? 10 : 16, train.horizon(), name);
            assertEquals(name.contains("image") ? PolicyKind.IMAGE : name.contains("unet") ? PolicyKind.LOWDIM_UNET
                    : PolicyKind.LOWDIM, config.kind(), name);
        }
    }

    @Test
    void theFifteenMinutePresetIsSmallCpuWithTheMeasuredRecipe() {
        // docs/RESULTS.md measured small_cpu with these overrides (run c3, 34.5%): the preset must be exactly that
        assertEquals(Config.load(Presets.SMALL_CPU, List.of("exp_name=small_cpu_15min", "dataloader.batch_size=256",
                "optimizer.learning_rate=2.0e-3", "optimizer.weight_decay=1.0e-3",
                "cotrain.total_train_steps=16000")), Config.load(Presets.SMALL_CPU_15MIN));
    }

    @Test
    void pushtPresetHasDiffusionPolicyValues() {
        TrainConfig t = Config.fromPreset(Presets.PUSHT_LOWDIM_TRANSFORMER).toTrainConfig();
        assertEquals(2, t.nObsSteps());
        assertEquals(8, t.nActionSteps());
        assertEquals(20, t.obsDim());
        assertEquals(2, t.actionDim());
        TransformerForDiffusionConfig m = t.policy().model();
        assertEquals(new TransformerForDiffusionConfig(2, 2, 16, 2, 20, 8, 4, 256, 0f, 0.01f, true, true, true, 0), m);
        NoiseSchedulerConfig s = t.policy().noiseScheduler();
        assertEquals(100, s.numTrainTimesteps());
        assertEquals(org.cotrain.diffusion.BetaSchedule.SQUAREDCOS_CAP_V2, s.betaSchedule());
        assertEquals(org.cotrain.ops.Prediction.EPSILON, s.predictionType());
        assertTrue(s.clipSample());
        assertEquals(100, t.policy().numInferenceSteps());
        assertEquals(new EmaConfig(0, 1.0, 0.75, 0.0, 0.9999), t.ema());
        assertEquals(new DataloaderConfig(256, 1, true), t.dataloader());
        assertEquals(new DataloaderConfig(256, 1, false), t.valDataloader());
        assertEquals(new OptimizerConfig(1.0e-4, 1.0e-1, 0.9, 0.95, 0), t.optimizer());
        assertEquals(LrSchedulerType.COSINE, t.training().lrScheduler());
        assertEquals(1000, t.training().lrWarmupSteps());
        assertEquals(42, t.training().seed());
        DatasetConfig d = t.task().dataset();
        assertEquals(1, d.padBefore());    // ${eval:'${n_obs_steps}-1'}
        assertEquals(7, d.padAfter());     // ${eval:'${n_action_steps}-1'}
        assertEquals(List.of("keypoints", "agent_pos"), d.obsKeys());
        assertNull(d.weights());
    }

    @Test
    void smallCpuPresetIsSmall() {
        TrainConfig t = Config.load(Presets.SMALL_CPU).toTrainConfig();
        assertEquals(2, t.policy().model().nLayer());
        assertEquals(64, t.policy().model().nEmb());
        assertEquals(64, t.dataloader().batchSize());
        assertEquals("cpu", t.training().device());
        assertEquals(2, t.cotrain().threads());
        assertEquals(3000, t.training().numEpochs() * t.training().maxTrainSteps());
    }

    @Test
    void presetsHaveTheSameKeysInTheSameOrder() {
        assertEquals(List.copyOf(Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER).keys()),
                List.copyOf(Config.load(Presets.SMALL_CPU).keys()));
        assertEquals(List.copyOf(Config.load(Presets.PUSHT_IMAGE_TRANSFORMER).keys()),
                List.copyOf(Config.load(Presets.SMALL_CPU_IMAGE).keys()));
    }

    @Test
    void loadsAFileBeforeAPresetAndSaysWhenThereIsNeither(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mine.yaml");
        Files.writeString(file, preset().replace("n_layer: 8", "n_layer: 3"));
        Config config = Config.load(file.toString());
        assertEquals(3L, config.get("policy.model.n_layer"));
        assertEquals("file " + file, config.source());

        ConfigException e = error(() -> Config.load("no_such_thing"));
        assertEquals("no config file or preset named 'no_such_thing'; presets: pusht_lowdim_transformer, small_cpu,"
                + " small_cpu_15min, pusht_image_transformer, small_cpu_image, pusht_lowdim_unet, small_cpu_unet",
                e.getMessage());
    }

    @Test
    void overridesOfEachType() {
        Config c = Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER).withOverrides(
                "policy.model.n_layer=4",                 // integer
                "optimizer.learning_rate=3e-4",           // float, exponent without a dot
                "optimizer.weight_decay=1",               // an integer where a float is expected
                "training.use_ema=false",                 // boolean
                "training.resume=False",                  // boolean, Python spelling
                "exp_name=sweep 3",                       // text with a space
                "training.device=cuda:0",                 // text with a colon
                "training.max_train_steps=20",            // null -> integer
                "task.dataset.max_train_episodes=null",   // integer -> null
                "optimizer.betas=[0.9,0.99]",             // list
                "task.dataset.path=[real.hdf5, sim.hdf5]",// text -> list
                "task.dataset.weights=[1, 3]");
        TrainConfig t = c.toTrainConfig();
        assertEquals(4, t.policy().model().nLayer());
        assertEquals(3e-4, t.optimizer().learningRate());
        assertEquals(1.0, t.optimizer().weightDecay());
        assertEquals(false, t.training().useEma());
        assertEquals(false, t.training().resume());
        assertEquals("sweep 3", t.expName());
        assertEquals("cuda:0", t.training().device());
        assertEquals(20, t.training().maxTrainSteps());
        assertNull(t.task().dataset().maxTrainEpisodes());
        assertEquals(0.99, t.optimizer().beta2());
        assertEquals(List.of(Path.of("real.hdf5"), Path.of("sim.hdf5")), t.task().dataset().paths());
        assertEquals(List.of(0.25, 0.75), t.task().dataset().weights());
        assertEquals("override optimizer.betas=[0.9,0.99]", c.origin("optimizer.betas"));
        assertEquals("preset " + Presets.PUSHT_LOWDIM_TRANSFORMER, c.origin("horizon"));
    }

    @Test
    void overridesApplyInOrderAndPropagateThroughInterpolations() {
        Config c = Config.load(Presets.SMALL_CPU, List.of("horizon=10", "n_action_steps=4", "horizon=12"));
        assertEquals(List.of("horizon=10", "n_action_steps=4", "horizon=12"), c.overrides());
        assertEquals(12L, c.get("horizon"));
        assertEquals(12L, c.get("policy.model.horizon"));
        assertEquals(12L, c.get("task.dataset.horizon"));
        assertEquals(3L, c.get("task.dataset.pad_after"));
        assertEquals("${horizon}", c.rawValue("policy.horizon"));
        // The original is untouched.
        assertEquals(16L, Config.load(Presets.SMALL_CPU).get("horizon"));
    }

    @Test
    void unknownOverrideKeyNamesItAndSuggestsTheClosest() {
        Config c = Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER);
        assertEquals("override 'policy.model.n_layers=4': unknown key policy.model.n_layers; did you mean"
                + " policy.model.n_layer?", error(() -> c.withOverrides("policy.model.n_layers=4")).getMessage());
        assertEquals("override 'optimiser.learning_rate=1': unknown key optimiser.learning_rate; did you mean"
                + " optimizer.learning_rate?", error(() -> c.withOverrides("optimiser.learning_rate=1")).getMessage());
        // A key given without its section: every key it could be.
        assertEquals("override 'batch_size=8': unknown key batch_size; did you mean dataloader.batch_size or"
                + " val_dataloader.batch_size or cotrain.ambient.classifier.batch_size?",
                error(() -> c.withOverrides("batch_size=8")).getMessage());
        assertTrue(error(() -> c.withOverrides("logging.mode=offline")).getMessage()
                .contains("a Diffusion Policy key that cotrain does not use"));
        assertTrue(error(() -> c.withOverrides("task.dataset.zarr_path=x.zarr")).getMessage()
                .contains("set task.dataset.path"));
    }

    @Test
    void malformedOverridesAreErrors() {
        Config c = Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER);
        assertEquals("override 'horizon' is not key=value", error(() -> c.withOverrides("horizon")).getMessage());
        assertTrue(error(() -> c.withOverrides("optimizer=1")).getMessage()
                .contains("optimizer is a section; set its keys one by one"));
        assertTrue(error(() -> c.withOverrides("+training.foo=1")).getMessage().contains("+key"));
        assertTrue(error(() -> c.withOverrides("exp_name={a: 1}")).getMessage().contains("the value is a mapping"));
        assertTrue(error(() -> c.withOverrides("optimizer.betas=[0.9, [1]]")).getMessage()
                .contains("lists may hold only single values"));
    }

    @Test
    void unknownKeyInAFileNamesTheFileAndSuggestsTheClosest() {
        String yaml = preset().replace("    n_layer: 8", "    n_layers: 8");
        ConfigException e = error(() -> Config.fromYaml(yaml, "file x.yaml"));
        assertEquals("file x.yaml:\n  unknown key policy.model.n_layers; did you mean policy.model.n_layer?\n"
                + "  missing key policy.model.n_layer\n"
                + "  (every low-dim config has all the keys of the preset pusht_lowdim_transformer; copy a preset to start"
                + " one)", e.getMessage());

        String extra = preset() + "\nextra_key: 1\n";
        assertEquals("file y.yaml: unknown key extra_key; did you mean exp_name?",
                error(() -> Config.fromYaml(extra, "file y.yaml")).getMessage());

        String target = preset().replace("  model:\n", "  model:\n    _target_: x.TransformerForDiffusion\n");
        assertTrue(error(() -> Config.fromYaml(target, "file z.yaml")).getMessage()
                .startsWith("file z.yaml: unknown key policy.model._target_; Diffusion Policy's _target_ keys"));
    }

    @Test
    void missingSectionsAndKeysAreListed() {
        String yaml = preset().replace("ema:\n", "ema_model:\n").replace("  seed: 42\n  resume", "  resume");
        ConfigException e = error(() -> Config.fromYaml(yaml, "file x.yaml"));
        assertEquals("file x.yaml:\n  unknown key ema_model; did you mean ema?\n  missing section ema\n"
                + "  missing key training.seed\n"
                + "  (every low-dim config has all the keys of the preset pusht_lowdim_transformer; copy a preset to start"
                + " one)", e.getMessage());
    }

    @Test
    void missingCotrainKeysTakeThePresetValuesSoOlderConfigsStillLoad() {
        // a config (or a checkpoint's metadata) written before cotrain.ambient existed
        String yaml = preset();
        int at = yaml.indexOf("\n  ambient:\n");
        assertTrue(at > 0, "the preset has a cotrain.ambient section");
        int end = yaml.indexOf("\n  ", at + 1);
        while (end > 0 && yaml.startsWith("\n    ", end)) {
            end = yaml.indexOf("\n  ", end + 1);
        }
        String older = yaml.substring(0, at) + (end > 0 ? yaml.substring(end) : "\n");
        assertTrue(!older.contains("ambient:"), older);
        TrainConfig t = Config.fromYaml(older, "file old.yaml").toTrainConfig();
        assertTrue(!t.cotrain().ambient().enabled(), "the new setting defaults to the old behaviour");
        // Diffusion Policy's keys stay required
        String noSeed = older.replace("  seed: 42\n  resume", "  resume");
        assertTrue(error(() -> Config.fromYaml(noSeed, "file x.yaml")).getMessage().contains("missing key training.seed"));
    }

    @Test
    void sectionsAndValuesCannotSwap() {
        String yaml = preset().replace("horizon: 16\n", "horizon:\n  steps: 16\n");
        assertTrue(error(() -> Config.fromYaml(yaml, "f")).getMessage()
                .contains("horizon is a single value, not a section"));
    }

    @Test
    void badYamlIsAnError() {
        assertTrue(error(() -> Config.fromYaml("a: [1, 2", "file bad.yaml")).getMessage()
                .startsWith("file bad.yaml: not valid YAML"));
        assertEquals("file e.yaml: the config is empty", error(() -> Config.fromYaml("# nothing\n", "file e.yaml"))
                .getMessage());
        assertEquals("file l.yaml: a config is a mapping of keys to values, got list",
                error(() -> Config.fromYaml("- 1\n- 2\n", "file l.yaml")).getMessage());
        assertTrue(error(() -> Config.fromYaml(preset() + "\nhorizon: 10\n", "file d.yaml")).getMessage()
                .contains("duplicate key horizon"));
        assertTrue(error(() -> Config.fromYaml(preset() + "\non: 1\n", "file o.yaml")).getMessage()
                .contains("key true is not text"));
    }

    @Test
    void toYamlRoundTripsToAnEqualConfig() {
        for (String name : List.of(Presets.PUSHT_LOWDIM_TRANSFORMER, Presets.SMALL_CPU)) {
            Config c = Config.load(name, List.of("optimizer.betas=[0.8,0.9]", "exp_name='yes'", "obs_as_cond=false",
                    "task.dataset.path=[a.hdf5,b.hdf5]", "task.dataset.weights=[0.5,0.5]", "training.seed=-7",
                    "policy.noise_scheduler.beta_start=2.5e-5", "cotrain.max_grad_norm=1.0"));
            String yaml = c.toYaml();
            assertTrue(yaml.startsWith("# cotrain config, resolved from preset " + name + "\n"
                    + "#   override optimizer.betas=[0.8,0.9]\n"), yaml);
            Config back = Config.fromYaml(yaml, "saved");
            assertEquals(c, back, yaml);
            assertEquals(c.toTrainConfig(), back.toTrainConfig());
            assertEquals("yes", back.get("exp_name"));   // quoted on output, not read back as a boolean
            assertEquals("yes", back.toTrainConfig().expName());
            assertEquals(22L, back.get("policy.model.input_dim"));
            assertEquals(yaml.substring(yaml.indexOf("\nname:")), back.toYaml().substring(back.toYaml().indexOf(
                    "\nname:")));
        }
        assertNotEquals(Config.load(Presets.SMALL_CPU), Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER));
    }

    @Test
    void anEscapedInterpolationSurvivesTheRoundTrip() {
        Config c = Config.load(Presets.SMALL_CPU, List.of("exp_name=cost \\${x}"));
        assertEquals("cost ${x}", c.get("exp_name"));
        assertEquals(c, Config.fromYaml(c.toYaml(), "saved"));
    }

    @Test
    void editDistance() {
        assertEquals(0, KeySuggestion.editDistance("abc", "abc"));
        assertEquals(1, KeySuggestion.editDistance("n_layers", "n_layer"));
        assertEquals(3, KeySuggestion.editDistance("kitten", "sitting"));
        assertEquals(5, KeySuggestion.editDistance("", "horiz"));
    }
}
