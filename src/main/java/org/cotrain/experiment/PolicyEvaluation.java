package org.cotrain.experiment;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import org.cotrain.config.Config;
import org.cotrain.config.PolicyKind;
import org.cotrain.policy.ImagePolicy;
import org.cotrain.policy.ImageSimPolicy;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.LowdimSimPolicy;
import org.cotrain.policy.Policies;
import org.cotrain.policy.Sampling;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.Evaluator;
import org.cotrain.tensor.Backend;

/**
 * Evaluates a trained policy checkpoint in a sandbox environment (the wiring of {@code cotrain eval}): the config in
 * the checkpoint's metadata says low-dim (observed through its obs_keys) or image (the rendered 96x96 frame, obs key
 * "image", and its low-dim keys; the environment then renders every step).
 */
public final class PolicyEvaluation {

    private PolicyEvaluation() {}

    /**
     * @param ddimSteps sample with DDIM in this many steps, or null for the checkpoint config's DDPM steps
     * @param videos    videos of the first K trials into {@code videoDir}
     */
    public static Evaluator.Result evaluate(Path checkpoint, Backend backend, EnvConfig env, int trials, long seed,
                                            Integer ddimSteps, int batch, int videos, Path videoDir,
                                            ForkJoinPool pool, IntConsumer onEpisode) throws IOException {
        return evaluate(checkpoint, backend, env, trials, seed, ddimSteps, null, batch, videos, videoDir, pool,
                onEpisode);
    }

    /**
     * @param actionSteps execute this many actions of each chunk, or null for the checkpoint config's n_action_steps
     */
    public static Evaluator.Result evaluate(Path checkpoint, Backend backend, EnvConfig env, int trials, long seed,
                                            Integer ddimSteps, Integer actionSteps, int batch, int videos,
                                            Path videoDir, ForkJoinPool pool, IntConsumer onEpisode)
            throws IOException {
        return evaluate(checkpoint, backend, env, trials, seed, ddimSteps, actionSteps, null, batch, videos, videoDir,
                pool, onEpisode);
    }

    /**
     * @param guidance the classifier-free guidance weight w, or null for the checkpoint config's
     *                 cotrain.guidance.weight
     */
    public static Evaluator.Result evaluate(Path checkpoint, Backend backend, EnvConfig env, int trials, long seed,
                                            Integer ddimSteps, Integer actionSteps, Double guidance, int batch,
                                            int videos, Path videoDir, ForkJoinPool pool, IntConsumer onEpisode)
            throws IOException {
        Config config = Policies.config(checkpoint);
        if (config.kind() == PolicyKind.IMAGE) {
            try (ImagePolicy policy = ImagePolicy.load(checkpoint, backend)) {
                if (guidance != null) policy.setSampling(policy.sampling().guidance(guidance));
                if (ddimSteps != null) policy.setSampling(Sampling.ddim(ddimSteps));
                if (actionSteps != null) policy.setActionSteps(actionSteps);
                return Evaluator.evaluate(checkpoint.toString(), env, new ImageSimPolicy(policy, seed), trials, seed,
                        batch, true, videos, videoDir, pool, onEpisode);
            }
        }
        try (LowdimPolicy policy = LowdimPolicy.load(checkpoint, backend)) {
            double w = guidance != null ? guidance : policy.sampling().guidance();
            Sampling s = ddimSteps != null ? Sampling.ddim(ddimSteps) : policy.sampling();
            policy.setSampling(s.guidance(w));
            if (actionSteps != null) policy.setActionSteps(actionSteps);
            List<String> obsKeys = config.toTrainConfig().task().dataset().obsKeys();
            return Evaluator.evaluate(checkpoint.toString(), env, new LowdimSimPolicy(policy, obsKeys, seed), trials,
                    seed, batch, false, videos, videoDir, pool, onEpisode);
        }
    }
}
