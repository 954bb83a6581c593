package org.cotrain.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Image configs (DP's hybrid image policy workspace): the preset's values, task.shape_meta, the encoder's keys, and
 * the errors of each, naming the key, the value and where it came from.
 */
class ImageConfigTest {

    private static String preset() {
        return Presets.text(Presets.PUSHT_IMAGE_TRANSFORMER);
    }

    private static ConfigException error(Runnable r) {
        return assertThrows(ConfigException.class, r::run);
    }

    private static String trainError(String... overrides) {
        Config c = Config.load(Presets.PUSHT_IMAGE_TRANSFORMER).withOverrides(overrides);
        return assertThrows(ConfigException.class, c::toTrainConfig).getMessage();
    }

    @Test
    void pushtImagePresetHasDiffusionPolicyValues() {
        TrainConfig t = Config.load(Presets.PUSHT_IMAGE_TRANSFORMER).toTrainConfig();
        assertTrue(t.isImage());
        assertEquals(PolicyKind.IMAGE, t.kind());
        assertEquals(10, t.horizon());
        assertEquals(2, t.nObsSteps());
        assertEquals(8, t.nActionSteps());
        assertEquals(2, t.actionDim());
        assertEquals(2, t.obsDim()); // agent_pos
        ShapeMeta m = t.shapeMeta();
        assertEquals(List.of("image"), m.rgb().stream().map(ShapeMeta.ObsKey::key).toList());
        assertEquals(List.of(3, 96, 96), m.rgb().get(0).shape());
        assertEquals(96, m.rgb().get(0).height());
        assertEquals(List.of("agent_pos"), m.lowdim().stream().map(ShapeMeta.ObsKey::key).toList());
        // DP's obs_feature_dim: 64 per camera + agent_pos
        assertEquals(new TransformerForDiffusionConfig(2, 2, 10, 2, 66, 8, 4, 256, 0f, 0.3f, true, true, true, 0), t.policy().model());
        assertEquals(new ObsEncoderConfig(List.of(84, 84), true, true), t.obsEncoder());
        assertEquals(new OptimizerConfig(1.0e-4, 1.0e-3, 0.9, 0.95, 1.0e-6), t.optimizer());
        assertEquals(new DataloaderConfig(64, 1, true), t.dataloader());
        assertEquals(1000, t.training().lrWarmupSteps());
        assertEquals(3050, t.training().numEpochs());
        assertEquals(List.of("agent_pos"), t.task().dataset().obsKeys());
        assertEquals(List.of("image"), t.task().dataset().cameraKeys());
        assertEquals(1, t.task().dataset().padBefore());
        assertEquals(7, t.task().dataset().padAfter());
        assertEquals(90, t.task().dataset().maxTrainEpisodes());
        assertNull(Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER).toTrainConfig().shapeMeta());
    }

    @Test
    void smallCpuImagePresetHasTheSameEncoderAndASmallTransformer() {
        TrainConfig t = Config.load(Presets.SMALL_CPU_IMAGE).toTrainConfig();
        assertEquals(new ObsEncoderConfig(List.of(84, 84), true, true), t.obsEncoder());
        assertEquals(2, t.policy().model().nLayer());
        assertEquals(64, t.policy().model().nEmb());
        assertEquals(16, t.dataloader().batchSize());
        assertEquals("cpu", t.training().device());
        assertEquals(600, t.training().numEpochs() * t.training().maxTrainSteps());
    }

    @Test
    void moreCamerasAndLowdimKeysWidenTheCondition() {
        String yaml = preset().replace("      agent_pos:\n", "      wrist:\n        shape: [3, 64, 80]\n"
                + "        type: rgb\n      keypoints:\n        shape: [9, 2]\n        type: low_dim\n"
                + "      agent_pos:\n");
        TrainConfig t = Config.fromYaml(yaml, "file two.yaml").withOverrides("policy.crop_shape=[60,76]")
                .toTrainConfig();
        assertEquals(List.of("image", "wrist"), t.task().dataset().cameraKeys());
        assertEquals(List.of("keypoints", "agent_pos"), t.task().dataset().obsKeys());
        assertEquals(20, t.obsDim());
        assertEquals(2 * 64 + 20, t.policy().model().condDim());
        // no crop: the encoder sees whole frames
        TrainConfig none = Config.load(Presets.PUSHT_IMAGE_TRANSFORMER, List.of("policy.crop_shape=null"))
                .toTrainConfig();
        assertNull(none.obsEncoder().cropShape());
        assertEquals(96, none.obsEncoder().crop(96, 96)[0]);
    }

    @Test
    void toYamlRoundTripsToAnEqualConfig() {
        for (String name : List.of(Presets.PUSHT_IMAGE_TRANSFORMER, Presets.SMALL_CPU_IMAGE)) {
            Config c = Config.load(name, List.of("optimizer.obs_encoder_weight_decay=1e-5", "policy.crop_shape=[80,80]",
                    "task.dataset.path=[a.hdf5,b.hdf5]", "task.shape_meta.obs.image.shape=[3,90,90]"));
            Config back = Config.fromYaml(c.toYaml(), "saved");
            assertEquals(PolicyKind.IMAGE, back.kind());
            assertEquals(c, back);
            assertEquals(c.toTrainConfig(), back.toTrainConfig());
            assertEquals(90, back.toTrainConfig().shapeMeta().rgb().get(0).height());
        }
    }

    @Test
    void keysOfTheOtherKindOfConfigSaySo() {
        Config image = Config.load(Presets.PUSHT_IMAGE_TRANSFORMER);
        assertEquals("override 'policy.model.n_layer=4': unknown key policy.model.n_layer; policy.model.n_layer is a key"
                + " of low-dim configs (preset pusht_lowdim_transformer); this is an image config (it has"
                + " task.shape_meta), with the keys of the preset pusht_image_transformer; did you mean policy.n_layer?",
                error(() -> image.withOverrides("policy.model.n_layer=4")).getMessage());
        assertTrue(error(() -> image.withOverrides("optimizer.weight_decay=0.1")).getMessage()
                .contains("is a key of low-dim configs"));
        Config lowdim = Config.load(Presets.PUSHT_LOWDIM_TRANSFORMER);
        assertTrue(error(() -> lowdim.withOverrides("policy.crop_shape=[84,84]")).getMessage()
                .contains("policy.crop_shape is a key of image configs (preset pusht_image_transformer); this is a"
                        + " low-dim config (no task.shape_meta)"));
        assertEquals("override 'policy.n_layers=4': unknown key policy.n_layers; did you mean policy.n_layer?",
                error(() -> image.withOverrides("policy.n_layers=4")).getMessage());
        assertTrue(error(() -> Config.fromYaml(preset() + "\nshape_meta: 1\n", "file s.yaml")).getMessage()
                .contains("cotrain reads task.shape_meta only"));
        assertTrue(error(() -> image.withOverrides("task.dataset.obs_keys=[agent_pos]")).getMessage()
                .contains("is a key of low-dim configs"));
        String topLevel = Presets.text(Presets.PUSHT_LOWDIM_TRANSFORMER) + "\nshape_meta: {obs: {}}\n";
        assertTrue(error(() -> Config.fromYaml(topLevel, "file t.yaml")).getMessage()
                .contains("an image config has its shape_meta under task (task.shape_meta"));
    }

    @Test
    void shapeMetaEntriesNeedShapeAndType() {
        String noType = preset().replace("        shape: [2]\n        type: low_dim\n", "        shape: [2]\n");
        assertEquals("file x.yaml:\n  missing key task.shape_meta.obs.agent_pos.type\n  (every image config has all"
                + " the keys of the preset pusht_image_transformer; copy a preset to start one)",
                error(() -> Config.fromYaml(noType, "file x.yaml")).getMessage());
        String typo = preset().replace("        type: rgb\n", "        typ: rgb\n");
        assertTrue(error(() -> Config.fromYaml(typo, "file y.yaml")).getMessage().contains("unknown key"
                + " task.shape_meta.obs.image.typ; an entry of task.shape_meta.obs has the keys shape and type; did"
                + " you mean task.shape_meta.obs.image.type?"));
        String empty = preset().replace("    obs:\n      image:", "    obs: {}\n    unused:\n      image:");
        assertTrue(error(() -> Config.fromYaml(empty, "file z.yaml")).getMessage().contains("unknown key"));
        // an override can add an entry, but not half of one
        assertEquals("task.shape_meta.obs.wrist needs the keys shape and type; task.shape_meta.obs.wrist.type is"
                + " missing", trainError("task.shape_meta.obs.wrist.shape=[3,96,96]"));
    }

    @Test
    void shapeMetaValuesAreChecked() {
        assertEquals("task.shape_meta.obs.image.type must be one of rgb, low_dim, got 'depth' (override"
                + " task.shape_meta.obs.image.type=depth)", trainError("task.shape_meta.obs.image.type=depth"));
        assertEquals("task.shape_meta.obs.image.shape must be [3, H, W] for an rgb key (channels first, as DP writes"
                + " it; the HDF5 file holds uint8 frames (N, H, W, 3)), got [96, 96, 3] (override"
                + " task.shape_meta.obs.image.shape=[96,96,3])", trainError("task.shape_meta.obs.image.shape=[96,96,3]"));
        assertEquals("task.shape_meta.obs.agent_pos.shape must be a non-empty list of integers >= 1, got [2.5]"
                + " (override task.shape_meta.obs.agent_pos.shape=[2.5])",
                trainError("task.shape_meta.obs.agent_pos.shape=[2.5]"));
        assertEquals("task.shape_meta.action.shape must be a list of 1 integers >= 1, got [2, 2] (override"
                + " task.shape_meta.action.shape=[2,2])", trainError("task.shape_meta.action.shape=[2,2]"));
    }

    @Test
    void encoderKeysAreChecked() {
        assertEquals("policy.crop_shape [100, 84] is larger than the frames of camera 'image'"
                + " (task.shape_meta.obs.image.shape [3, 96, 96]: 96x96); a crop must fit in the frame (override"
                + " policy.crop_shape=[100,84])", trainError("policy.crop_shape=[100,84]"));
        assertEquals("policy.crop_shape must be a list of 2 integers >= 1, got [84] (override policy.crop_shape=[84])",
                trainError("policy.crop_shape=[84]"));
        assertTrue(trainError("policy.obs_encoder_group_norm=false").startsWith("policy.obs_encoder_group_norm must"
                + " be true (cotrain's image encoder is DP's ResNet18 with GroupNorm(C/16, C)"));
        assertEquals("policy.horizon must equal horizon (10), got 12 (override policy.horizon=12); the presets set it"
                + " to ${horizon}", trainError("policy.horizon=12"));
        assertEquals("optimizer.obs_encoder_weight_decay must be a number >= 0, got -1 (override"
                + " optimizer.obs_encoder_weight_decay=-1)", trainError("optimizer.obs_encoder_weight_decay=-1"));
        assertEquals("policy.n_emb must be a multiple of policy.n_head (4), got 250 (override policy.n_emb=250)",
                trainError("policy.n_emb=250"));
    }
}
