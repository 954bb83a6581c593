package org.cotrain.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Type, range and consistency errors of TrainConfig, each naming the key, the bad value and its origin. */
class TrainConfigTest {

    private static String error(String... overrides) {
        Config c = Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER).withOverrides(overrides);
        return assertThrows(ConfigException.class, c::toTrainConfig).getMessage();
    }

    @Test
    void readsEveryKeyOfTheSchema() {
        // A key in the preset that TrainConfig does not read would be accepted and silently ignored.
        for (String name : Presets.NAMES) {
            Config config = Config.load(name);
            ConfigReader reader = new ConfigReader(config);
            TrainConfig.read(reader);
            Schema schema = Schema.of(config.kind());
            // the keys of the schema, and (image configs) the entries of task.shape_meta.obs
            List<String> open = config.keys().stream().filter(k -> k.startsWith(Schema.OBS_SECTION + ".")).toList();
            assertEquals(config.kind() == PolicyKind.IMAGE ? 4 : 0, open.size(), name);
            List<String> keys = config.keys().stream().filter(k -> !open.contains(k)).toList();
            assertEquals(schema.leaves(), keys, name);
            java.util.Set<String> expected = new java.util.TreeSet<>(schema.leaves());
            expected.addAll(open);
            assertEquals(expected, new java.util.TreeSet<>(reader.readKeys()), name);
        }
    }

    @Test
    void rangeErrors() {
        assertEquals("training.lr_warmup_steps must be an integer >= 0, got -5 (override"
                + " training.lr_warmup_steps=-5)", error("training.lr_warmup_steps=-5"));
        assertEquals("dataloader.batch_size must be an integer >= 1, got 0 (override dataloader.batch_size=0)",
                error("dataloader.batch_size=0"));
        assertEquals("policy.model.p_drop_attn must be a number in [0, 1), got 1.0 (override"
                + " policy.model.p_drop_attn=1.0)", error("policy.model.p_drop_attn=1.0"));
        assertEquals("optimizer.learning_rate must be a number > 0, got 0 (override optimizer.learning_rate=0)",
                error("optimizer.learning_rate=0"));
        assertEquals("optimizer.betas must be a list of 2 numbers in [0, 1), got [0.9, 1.5] (override"
                + " optimizer.betas=[0.9, 1.5])", error("optimizer.betas=[0.9, 1.5]"));
        assertEquals("policy.num_inference_steps must be an integer in [1, 100], got 101 (override"
                + " policy.num_inference_steps=101)", error("policy.num_inference_steps=101"));
        assertEquals("ema.max_value must be a number in [0.5, 1], got 0.25 (override ema.max_value=0.25)",
                error("ema.min_value=0.5", "ema.max_value=0.25"));
        assertEquals("task.dataset.val_ratio must be a number in [0, 1), got 1 (override task.dataset.val_ratio=1)",
                error("task.dataset.val_ratio=1"));
        assertEquals("cotrain.max_grad_norm must be null or a number > 0, got -1.0 (override"
                + " cotrain.max_grad_norm=-1.0)", error("cotrain.max_grad_norm=-1.0"));
        assertEquals("training.max_train_steps must be null or an integer >= 1, got 0 (override"
                + " training.max_train_steps=0)", error("training.max_train_steps=0"));
        assertEquals("policy.model.n_emb must be a multiple of policy.model.n_head (4), got 250 (override"
                + " policy.model.n_emb=250)", error("policy.model.n_emb=250"));
        assertEquals("n_action_steps must be <= horizon - n_obs_steps + 1 = 15 (the executed actions start at index"
                + " n_obs_steps - 1 of the predicted chunk), got 16 (override n_action_steps=16)",
                error("n_action_steps=16"));
    }

    @Test
    void typeErrors() {
        assertEquals("policy.model.n_layer must be an integer >= 1, got 2.5 (override policy.model.n_layer=2.5)",
                error("policy.model.n_layer=2.5"));
        assertEquals("horizon must be an integer >= 1, got '16 steps' (override horizon=16 steps)",
                error("horizon=16 steps"));
        assertEquals("training.use_ema must be true or false, got 3 (override training.use_ema=3)",
                error("training.use_ema=3"));
        assertEquals("optimizer.weight_decay must be a number >= 0, got true (override optimizer.weight_decay=true)",
                error("optimizer.weight_decay=true"));
        assertEquals("policy.noise_scheduler.beta_schedule must be one of linear, scaled_linear, squaredcos_cap_v2,"
                + " got 'cosine' (override policy.noise_scheduler.beta_schedule=cosine)",
                error("policy.noise_scheduler.beta_schedule=cosine"));
        assertEquals("policy.noise_scheduler.prediction_type must be one of epsilon, sample, got 'v_prediction'"
                + " (override policy.noise_scheduler.prediction_type=v_prediction)",
                error("policy.noise_scheduler.prediction_type=v_prediction"));
        assertEquals("policy.noise_scheduler.variance_type must be one of fixed_small, got 'fixed_small_log'"
                + " (override policy.noise_scheduler.variance_type=fixed_small_log)",
                error("policy.noise_scheduler.variance_type=fixed_small_log"));
        assertEquals("training.device must be auto, cpu, cuda or cuda:N, got 'gpu' (override training.device=gpu)",
                error("training.device=gpu"));
        assertEquals("training.lr_scheduler must be one of cosine, linear, constant, constant_with_warmup, got"
                + " 'step' (override training.lr_scheduler=step)", error("training.lr_scheduler=step"));
        assertEquals("task.dataset.obs_keys must be a non-empty list of distinct non-empty texts, got ['agent_pos',"
                + " 'agent_pos'] (override task.dataset.obs_keys=[agent_pos, agent_pos])",
                error("task.dataset.obs_keys=[agent_pos, agent_pos]"));
        assertEquals("exp_name must be text, got [1] (override exp_name=[1])", error("exp_name=[1]"));
        assertEquals("training.seed must be an integer, got null (override training.seed=null)",
                error("training.seed=null"));
    }

    @Test
    void repeatedKeysMustAgree() {
        assertEquals("policy.horizon must equal horizon (16), got 10 (override policy.horizon=10); the presets set"
                + " it to ${horizon}", error("policy.horizon=10"));
        assertEquals("policy.model.cond_dim must equal obs_dim (20), got 10 (override policy.model.cond_dim=10); the"
                + " presets set it to ${obs_dim}", error("policy.model.cond_dim=10"));
        assertEquals("obs_dim must equal task.obs_dim (20), got 10 (override obs_dim=10); the presets set it to"
                + " ${task.obs_dim}", error("obs_dim=10"));
        assertEquals("pred_action_steps_only must be false when obs_as_cond is false (as in DP), got true (override"
                + " pred_action_steps_only=true)", error("obs_as_cond=false", "pred_action_steps_only=true"));
        assertEquals("policy.model.time_as_cond must be true when obs_as_cond is true, got false (override"
                + " policy.model.time_as_cond=false)", error("policy.model.time_as_cond=false"));
    }

    @Test
    void datasetPathsAndWeights() {
        TrainConfig t = Config.load(Presets.SMALL_CPU, List.of("task.dataset.path=[r.hdf5, s.hdf5, t.hdf5]",
                "task.dataset.weights=[2, 1, 1]")).toTrainConfig();
        assertEquals(3, t.task().dataset().paths().size());
        assertEquals(List.of(0.5, 0.25, 0.25), t.task().dataset().weights());
        assertEquals("task.dataset.weights must be null or one number >= 0 per file of task.dataset.path (1), not"
                + " all 0, got [0.5, 0.5] (override task.dataset.weights=[0.5, 0.5])",
                error("task.dataset.weights=[0.5, 0.5]"));
        assertEquals("task.dataset.weights must be null or one number >= 0 per file of task.dataset.path (2), not"
                + " all 0, got [0, 0] (override task.dataset.weights=[0, 0])",
                error("task.dataset.path=[a.hdf5, b.hdf5]", "task.dataset.weights=[0, 0]"));
        assertEquals("task.dataset.weights must be null or a non-empty list of numbers >= 0, got [-1] (override"
                + " task.dataset.weights=[-1])", error("task.dataset.weights=[-1]"));
        assertEquals("task.dataset.path must be non-empty text or a non-empty list of distinct texts, got [] (override"
                + " task.dataset.path=[])", error("task.dataset.path=[]"));
    }

    @Test
    void ambientKeys() {
        TrainConfig off = Config.load(Presets.SMALL_CPU).toTrainConfig();
        assertEquals(false, off.cotrain().ambient().enabled());
        TrainConfig t = Config.load(Presets.SMALL_CPU, List.of("task.dataset.path=[r.hdf5, s.hdf5, u.hdf5]",
                "cotrain.ambient.t_n=[null, 30, classifier]", "cotrain.ambient.alpha_schedule=step",
                "cotrain.ambient.alpha_step_t=20")).toTrainConfig();
        AmbientConfig a = t.cotrain().ambient();
        assertEquals("[null, 30, classifier]", a.datasets().toString());
        assertEquals(true, a.usesClassifier());
        assertEquals(0.9, a.cleanProbability(19, 100));
        assertEquals(0.5, a.cleanProbability(20, 100));
        AmbientConfig linear = Config.load(Presets.SMALL_CPU, List.of("task.dataset.path=[r.hdf5, s.hdf5]",
                "cotrain.ambient.t_n=[null, 0]", "cotrain.ambient.alpha_schedule=linear",
                "cotrain.ambient.alpha_low_noise=1", "cotrain.ambient.alpha_high_noise=0")).toTrainConfig().cotrain()
                .ambient();
        assertEquals(1.0, linear.cleanProbability(0, 100));
        assertEquals(0.0, linear.cleanProbability(99, 100));
        assertEquals(Double.NaN, off.cotrain().ambient().cleanProbability(5, 100));

        String two = "task.dataset.path=[r.hdf5, s.hdf5]";
        String tnExpected = "cotrain.ambient.t_n must be null or a list of one entry per file of task.dataset.path (2),"
                + " each null (clean), a diffusion step in [0, 99] (corrupt below it) or 'classifier', with at least"
                + " one clean and one corrupt dataset, got ";
        assertEquals(tnExpected + "[null, 100] (override cotrain.ambient.t_n=[null, 100])",
                error(two, "cotrain.ambient.t_n=[null, 100]"));
        assertEquals(tnExpected + "[null] (override cotrain.ambient.t_n=[null])", error(two, "cotrain.ambient.t_n=[null]"));
        assertEquals(tnExpected + "[null, null] (override cotrain.ambient.t_n=[null, null])",
                error(two, "cotrain.ambient.t_n=[null, null]"));
        assertEquals(tnExpected + "[null, 'classify'] (override cotrain.ambient.t_n=[null, classify])",
                error(two, "cotrain.ambient.t_n=[null, classify]"));
        assertEquals("cotrain.ambient.buffer must be >= 1 with cotrain.ambient.loss=ambient (the ambient loss divides"
                + " by s_t^2 - s_tn^2, so a corrupt sample needs t > t_n), got 0 (override cotrain.ambient.buffer=0)",
                error(two, "cotrain.ambient.t_n=[null, 30]", "cotrain.ambient.buffer=0"));
        assertEquals("cotrain.ambient.loss must be one of denoise, ambient, got 'plain' (override"
                + " cotrain.ambient.loss=plain)", error("cotrain.ambient.loss=plain"));
        assertEquals("cotrain.ambient.t_max must be >= t_n + buffer = 31 of dataset 1 (else its samples are never"
                + " drawn), or null, got 20 (override cotrain.ambient.t_max=20)",
                error(two, "cotrain.ambient.t_n=[null, 30]", "cotrain.ambient.t_max=20"));
        assertEquals("cotrain.ambient.alpha_step_t must be an integer in [1, 99] (inside the 100 diffusion steps) with"
                + " alpha_schedule=step, got 0 (override cotrain.ambient.alpha_step_t=0)",
                error("cotrain.ambient.alpha_schedule=step", "cotrain.ambient.alpha_step_t=0"));
        assertEquals("cotrain.ambient.classifier.epsilon must be a number in [0, 0.5), got 0.5 (override"
                + " cotrain.ambient.classifier.epsilon=0.5)", error("cotrain.ambient.classifier.epsilon=0.5"));
        assertEquals("cotrain.ambient.alpha_high_noise must be a number in [0, 1], got 1.5 (override"
                + " cotrain.ambient.alpha_high_noise=1.5)", error("cotrain.ambient.alpha_high_noise=1.5"));
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> Config.load(Presets.SMALL_CPU).withOverrides("cotrain.ambient.tn=[null, 3]"));
        assertEquals("override 'cotrain.ambient.tn=[null, 3]': unknown key cotrain.ambient.tn; did you mean"
                + " cotrain.ambient.t_n?", unknown.getMessage());
    }
}
