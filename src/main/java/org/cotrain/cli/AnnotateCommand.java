package org.cotrain.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cotrain.ambient.NoiseLevelAnnotations;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Datasets;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.MixtureDataset;
import org.cotrain.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain annotate --config <file|preset> [key=value ...]}: the noise-level classifier step of ambient
 * diffusion on its own. For every dataset whose cotrain.ambient.t_n is "classifier", trains the classifier and writes
 * the per-window t_n next to the dataset, exactly as {@code cotrain train} with the same config would (which then
 * reads them instead of annotating again); prints a summary of the levels. Useful to look at the levels before
 * training, or to annotate once for a sweep.
 */
@Command(name = "annotate", mixinStandardHelpOptions = true,
        description = "Ambient diffusion: give each corrupt training window its noise level t_n with the noise-level"
                + " classifier (cached next to the data, reused by train).")
final class AnnotateCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE|PRESET",
            description = "The training config (with cotrain.ambient.t_n naming 'classifier' for some dataset).")
    String config;

    @Parameters(paramLabel = "key=value", description = "Config overrides, e.g. cotrain.ambient.t_n=[null,classifier].")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() {
        TrainConfig tc = Config.load(config, overrides).toTrainConfig();
        if (!tc.cotrain().ambient().usesClassifier()) {
            throw new IllegalArgumentException("cotrain.ambient.t_n is " + (tc.cotrain().ambient().enabled()
                    ? tc.cotrain().ambient().datasets() : "null") + ": no dataset takes its t_n from the classifier"
                    + " (set e.g. cotrain.ambient.t_n=[null,classifier])");
        }
        Backend backend = Backends.forDevice(tc.training().device(), tc.cotrain().threads());
        List<DemoDataset> datasets = Datasets.load(tc.task().dataset(), tc.cotrain());
        MixtureDataset mixture = Datasets.trainingMixture(tc, datasets, MixtureDataset.fitNormalizer(datasets));
        int steps = tc.policy().noiseScheduler().numTrainTimesteps();
        Map<Integer, NoiseLevelAnnotations.Annotation> annotations = NoiseLevelAnnotations.forTraining(tc, mixture,
                backend, System.out);
        for (NoiseLevelAnnotations.Annotation a : annotations.values()) {
            System.out.printf(Locale.ROOT, "%s: %s%n  %s%s%n", a.file(), a.summary(steps), a.sidecar(),
                    a.cached() ? " (already there)" : "");
            if (a.meanCorruptByStep() != null) {
                StringBuilder curve = new StringBuilder("  mean P(corrupt) at t =");
                for (int t = 0; t < steps; t += Math.max(1, steps / 10)) {
                    curve.append(String.format(Locale.ROOT, " %d: %.2f", t, a.meanCorruptByStep()[t]));
                }
                System.out.println(curve);
            }
        }
        return 0;
    }
}
