package org.cotrain.cotrain;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import org.cotrain.backend.Backend;
import org.cotrain.config.Config;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.Sampling;
import org.cotrain.policy.LowdimSimPolicy;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.Evaluator;

/** Evaluates a trained low-dim policy checkpoint in a sandbox environment (the wiring of {@code cotrain eval}). */
public final class PolicyEvaluation {

    private PolicyEvaluation() {}

    /**
     * @param ddimSteps sample with DDIM in this many steps, or null for the checkpoint config's DDPM steps
     * @param videos    videos of the first K trials into {@code videoDir}
     */
    public static Evaluator.Result evaluate(Path checkpoint, Backend backend, EnvConfig env, int trials, long seed,
                                            Integer ddimSteps, int batch, int videos, Path videoDir,
                                            ForkJoinPool pool, IntConsumer onEpisode) throws IOException {
        try (LowdimPolicy policy = LowdimPolicy.load(checkpoint, backend)) {
            if (ddimSteps != null) policy.setSampling(Sampling.ddim(ddimSteps));
            String yaml = Safetensors.read(checkpoint).metadata().get(LowdimPolicy.CONFIG_METADATA);
            List<String> obsKeys = Config.fromYaml(yaml, checkpoint + " metadata").toTrainConfig().task().dataset()
                    .obsKeys();
            return Evaluator.evaluate(checkpoint.toString(), env, new LowdimSimPolicy(policy, obsKeys, seed), trials,
                    seed, batch, false, videos, videoDir, pool, onEpisode);
        }
    }
}
