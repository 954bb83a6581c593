package org.cotrain.ambient;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.cotrain.config.AmbientConfig;
import org.cotrain.data.MixtureDataset;
import org.cotrain.data.NoiseAwareMixing;

/**
 * From cotrain.ambient to the data pipeline's {@link NoiseAwareMixing}: which windows of which dataset may be drawn
 * at which diffusion step, and which t_n each gives the loss.
 * <ul>
 *   <li>a clean dataset (t_n null): every window at every step, the ordinary loss;</li>
 *   <li>a corrupt window with t_n = 0 (as good as clean): every step, the ordinary loss;</li>
 *   <li>a corrupt window with 1 &lt;= t_n &lt; T: steps t_n + buffer .. t_max; the ambient loss observed at t_n
 *       (loss ambient) or the ordinary loss on its x0 (loss denoise);</li>
 *   <li>a corrupt window with t_n = T (the classifier could always tell it apart): never.</li>
 * </ul>
 */
public final class AmbientMixing {

    private AmbientMixing() {}

    /**
     * @param classifierTn per dataset whose t_n is "classifier": the t_n of each training window
     */
    public static NoiseAwareMixing of(AmbientConfig ambient, int numTimesteps, MixtureDataset mixture,
                                      Map<Integer, int[]> classifierTn) {
        int n = mixture.numDatasets();
        int[] windows = new int[n];
        List<NoiseAwareMixing.CorruptWindows> corrupt = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            windows[j] = mixture.trainSampler(j).size();
            AmbientConfig.DatasetNoise d = ambient.datasets().get(j);
            switch (d.kind()) {
                case CLEAN -> corrupt.add(null);
                case FIXED -> corrupt.add(NoiseAwareMixing.CorruptWindows.uniform(windows[j],
                        minStep(d.tn(), ambient.buffer()), lossTn(d.tn(), ambient, numTimesteps)));
                case CLASSIFIER -> {
                    int[] tn = classifierTn.get(j);
                    if (tn == null || tn.length != windows[j]) {
                        throw new IllegalArgumentException("dataset " + j + " (" + mixture.dataset(j).file() + ") takes"
                                + " its t_n from the classifier, but " + (tn == null ? "has no annotation"
                                : "its annotation has " + tn.length + " windows, not " + windows[j]));
                    }
                    int[] min = new int[tn.length];
                    int[] loss = new int[tn.length];
                    for (int w = 0; w < tn.length; w++) {
                        min[w] = minStep(tn[w], ambient.buffer());
                        loss[w] = lossTn(tn[w], ambient, numTimesteps);
                    }
                    corrupt.add(new NoiseAwareMixing.CorruptWindows(min, loss));
                }
                default -> throw new IllegalStateException(d.kind().toString());
            }
        }
        return new NoiseAwareMixing(numTimesteps, mixture.weights(), windows, corrupt, ambient.tMax(),
                ambient.alphaSchedule() == AmbientConfig.AlphaSchedule.CONSTANT ? null
                        : t -> ambient.cleanProbability(t, numTimesteps));
    }

    /** The first step a window of level t_n may be drawn at: 0 for t_n = 0 (as good as clean), else t_n + buffer. */
    static int minStep(int tn, int buffer) {
        return tn == 0 ? 0 : tn + buffer;
    }

    /** The t_n a window gives the loss: its level for the ambient loss (1 <= t_n < T), else -1 (ordinary loss). */
    static int lossTn(int tn, AmbientConfig ambient, int numTimesteps) {
        return ambient.loss() == AmbientConfig.Loss.AMBIENT && tn >= 1 && tn < numTimesteps ? tn : -1;
    }

    /** One line for the training log: per dataset its role, and P(corrupt data) at a few steps. */
    public static String describe(AmbientConfig ambient, NoiseAwareMixing mixing) {
        StringBuilder sb = new StringBuilder("ambient diffusion, loss ").append(ambient.loss().name().toLowerCase(
                Locale.ROOT));
        sb.append(", t_n ").append(ambient.datasets()).append(", buffer ").append(ambient.buffer());
        if (ambient.tMax() != null) {
            sb.append(", t_max ").append(ambient.tMax());
        }
        sb.append("; P(corrupt data) at t =");
        int t0 = mixing.numTimesteps();
        for (int t : new int[] {0, t0 / 4, t0 / 2, 3 * t0 / 4, t0 - 1}) {
            double p = 0;
            for (int j = 0; j < mixing.numDatasets(); j++) {
                if (!ambient.datasets().get(j).clean()) {
                    p += mixing.probability(t, j);
                }
            }
            sb.append(String.format(Locale.ROOT, " %d: %.2f", t, p));
        }
        return sb.toString();
    }
}
