package org.cotrain.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.cotrain.config.CotrainConfig;
import org.cotrain.config.DatasetConfig;
import org.cotrain.config.GuidanceConfig;
import org.cotrain.config.TrainConfig;

/**
 * A config's datasets as training sees them, in one place for every reader (the trainer, the noise-level annotator,
 * the sweep's demo lists and the policy analysis): which demos of each file train, and the mixture batches come from.
 */
public final class Datasets {
    private Datasets() {}

    /**
     * The datasets of a config: each file's validation split, then its first cotrain.dataset_max_train_episodes (or
     * task.dataset.max_train_episodes) training demos in file order. The low-dim arrays only (no camera frames), as
     * the noise-level classifier and the demo lists need them. A file cotrain.guidance.action_only marks is read for
     * its actions only ({@link DemoDataset#loadActionsOnly}).
     */
    public static List<DemoDataset> load(DatasetConfig d, CotrainConfig c) {
        return load(d, c, false);
    }

    /** The same, with each camera's frames (task.shape_meta's rgb keys) when {@code images}. */
    public static List<DemoDataset> load(DatasetConfig d, CotrainConfig c, boolean images) {
        List<DemoDataset> out = new ArrayList<>();
        int n = d.paths().size();
        DemoDataset[] files = new DemoDataset[n];
        int obsDim = 0; // the observed files', for the action-only files' placeholder obs
        for (int j = n - 1; j >= 0; j--) {
            if (!c.guidance().actionOnly(j)) {
                files[j] = DemoDataset.load(d.paths().get(j), d.obsKeys(), images ? d.cameras() : List.of(), -1, -1);
                obsDim = files[j].obsDim();
            }
        }
        for (int j = 0; j < n; j++) {
            if (c.guidance().actionOnly(j)) {
                files[j] = DemoDataset.loadActionsOnly(d.paths().get(j), d.obsKeys(), obsDim, -1);
            }
        }
        for (int j = 0; j < n; j++) {
            Path path = d.paths().get(j);
            DemoDataset data = files[j].withValidationSplit(d.valRatio(), d.seed());
            Integer max = c.datasetMaxTrainEpisodes() != null ? c.datasetMaxTrainEpisodes().get(j)
                    : d.maxTrainEpisodes();
            if (max != null && c.datasetMaxTrainEpisodes() != null && data.numTrainDemos() < max) {
                throw new IllegalArgumentException("cotrain.dataset_max_train_episodes asks for " + max + " training"
                        + " demos of " + path + ", which has " + data.numTrainDemos());
            }
            if (max != null && data.numTrainDemos() > max) {
                data = data.withFirstTrainDemos(max);
            }
            out.add(data);
        }
        return out;
    }

    /** The mixture training batches come from: the config's weights, window sizes, batch size, seed and labels. */
    public static MixtureDataset trainingMixture(TrainConfig config, List<DemoDataset> datasets,
                                                 LinearNormalizer normalizer) {
        return new MixtureDataset(datasets, weights(config.task().dataset(), datasets), normalizer, config.horizon(),
                config.nObsSteps(), config.nActionSteps(), config.dataloader().batchSize(), config.training().seed())
                .withDomainLabels(config.cotrain().domainConditioning())
                .withObsNoise(config.cotrain().obsNoiseStd())
                .withConditionDropout(conditionDropout(config.cotrain().guidance()));
    }

    /** The condition dropout of cotrain.guidance, or null when nothing trains the null condition. */
    public static ConditionDropout conditionDropout(GuidanceConfig g) {
        return g.trainsNullCondition() ? new ConditionDropout(g.pUncond(), g.observedFlag()) : null;
    }

    /** task.dataset.weights, or each dataset's share of the training windows when null. */
    private static double[] weights(DatasetConfig d, List<DemoDataset> datasets) {
        if (d.weights() == null) {
            return MixtureDataset.naturalWeights(datasets);
        }
        return d.weights().stream().mapToDouble(Double::doubleValue).toArray();
    }
}
