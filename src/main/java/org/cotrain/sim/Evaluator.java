package org.cotrain.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import org.cotrain.io.Json;

/**
 * Evaluates a policy on an environment: trials 0..N-1 of a seed start from the same initial conditions for every
 * policy (matched initial conditions), run in lock-step batches, and give the success rate with its Wilson 95%
 * interval, the mean of each episode's maximum coverage, and per-episode results.
 */
public final class Evaluator {

    /** One evaluation. */
    public record Result(String policy, EnvConfig env, long seed, List<Rollouts.Episode> episodes, double seconds) {

        public int trials() {
            return episodes.size();
        }

        public int successes() {
            return (int) episodes.stream().filter(Rollouts.Episode::success).count();
        }

        public double successRate() {
            return successes() / (double) trials();
        }

        public double[] wilson95() {
            return Wilson.interval95(successes(), trials());
        }

        public double meanMaxCoverage() {
            return episodes.stream().mapToDouble(Rollouts.Episode::maxCoverage).average().orElse(0);
        }

        /**
         * Diffusion Policy's score: the mean over episodes of the best clip(coverage / c, 0, 1), c the success
         * coverage (0.95): 1 for a success, partial credit for coming close.
         */
        public double dpScore() {
            double c = env.number("success.coverage");
            return episodes.stream().mapToDouble(e -> Math.min(1, Math.max(0, e.maxCoverage() / c))).average()
                    .orElse(0);
        }

        /** Mean commands to success over the successful episodes (NaN when none succeeded). */
        public double meanStepsToSuccess() {
            return episodes.stream().filter(Rollouts.Episode::success).mapToInt(Rollouts.Episode::steps).average()
                    .orElse(Double.NaN);
        }

        /** One line for people: "target: 93/100 = 0.930 [0.863, 0.966], DP score 0.985, mean max coverage 0.981". */
        public String summary() {
            double[] w = wilson95();
            return String.format(Locale.ROOT, "%s on %s: %d/%d = %.3f [%.3f, %.3f] (Wilson 95%%), DP score %.3f,"
                    + " mean max coverage %.3f, %.1f s", policy, env.name(), successes(), trials(), successRate(),
                    w[0], w[1], dpScore(), meanMaxCoverage(), seconds);
        }

        public String toJson() {
            double[] w = wilson95();
            StringBuilder sb = new StringBuilder();
            sb.append("{\n  \"policy\": ").append(Json.quote(policy))
                    .append(",\n  \"env\": ").append(env.toJson())
                    .append(",\n  \"seed\": ").append(seed)
                    .append(",\n  \"trials\": ").append(trials())
                    .append(",\n  \"successes\": ").append(successes())
                    .append(",\n  \"success_rate\": ").append(num(successRate()))
                    .append(",\n  \"wilson95\": [").append(num(w[0])).append(", ").append(num(w[1])).append(']')
                    .append(",\n  \"dp_score\": ").append(num(dpScore()))
                    .append(",\n  \"mean_max_coverage\": ").append(num(meanMaxCoverage()))
                    .append(",\n  \"mean_steps_to_success\": ").append(Double.isNaN(meanStepsToSuccess()) ? "null"
                            : num(meanStepsToSuccess()))
                    .append(",\n  \"seconds\": ").append(num(seconds))
                    .append(",\n  \"episodes\": [");
            for (int i = 0; i < episodes.size(); i++) {
                Rollouts.Episode e = episodes.get(i);
                sb.append(i == 0 ? "\n" : ",\n").append("    {\"episode\": ").append(e.index())
                        .append(", \"success\": ").append(e.success())
                        .append(", \"steps\": ").append(e.steps())
                        .append(", \"max_coverage\": ").append(num(e.maxCoverage()))
                        .append(", \"final_coverage\": ").append(num(e.finalCoverage())).append('}');
            }
            return sb.append("\n  ]\n}\n").toString();
        }

        private static String num(double v) {
            return String.format(Locale.ROOT, "%.6g", v);
        }
    }

    private Evaluator() {}

    /**
     * Runs {@code trials} episodes in batches of at most {@code batch} (a neural policy denoises one batch at a
     * time); videos of the first {@code videos} trials go to {@code videoDir}.
     */
    public static Result evaluate(String policyName, EnvConfig config, BatchPolicy policy, int trials, long seed,
                                  int batch, boolean images, int videos, Path videoDir, ForkJoinPool pool,
                                  IntConsumer onEpisode) throws IOException {
        if (trials <= 0) throw new IllegalArgumentException("--trials must be > 0, got " + trials);
        long start = System.nanoTime();
        List<Rollouts.Episode> all = new ArrayList<>();
        for (int first = 0; first < trials; first += batch) {
            int count = Math.min(batch, trials - first);
            List<InitialCondition> ics = new ArrayList<>();
            long[] seeds = new long[count];
            for (int i = 0; i < count; i++) {
                ics.add(InitialConditions.sample(config, seed, first + i));
                seeds[i] = InitialConditions.episodeSeed(seed, first + i);
            }
            int offset = first;
            int batchVideos = Math.max(0, Math.min(count, videos - first));
            List<Rollouts.Episode> episodes = Rollouts.run(config, policy, ics, seeds,
                    new Rollouts.Options(images, false, batchVideos, 256, videoDir, offset), pool, onEpisode);
            for (Rollouts.Episode e : episodes) {
                all.add(new Rollouts.Episode(offset + e.index(), e.success(), e.steps(), e.maxCoverage(),
                        e.finalCoverage(), null));
            }
        }
        return new Result(policyName, config, seed, all, (System.nanoTime() - start) / 1e9);
    }
}
