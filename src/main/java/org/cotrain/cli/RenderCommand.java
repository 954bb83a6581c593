package org.cotrain.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.ImageFiles;
import org.cotrain.sim.InitialCondition;
import org.cotrain.sim.InitialConditions;
import org.cotrain.sim.PushTEnv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain render --env <preset>[,<preset>...] --out frames.png}: a grid of initial observations, one row
 * per preset, so that a person can see each shift (colours, randomisation, camera, shape, goal).
 */
@Command(name = "render", mixinStandardHelpOptions = true,
        description = "Write a PNG grid of sample observations of environment presets (one row per preset).")
final class RenderCommand implements Callable<Integer> {

    @Option(names = "--env", required = true, split = ",", paramLabel = "PRESET",
            description = "Presets, comma separated, or 'all' (target, source, source-<visual|physics|task>-<0..3>).")
    List<String> envs;

    @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "The grid image.")
    Path out;

    @Option(names = "--samples", defaultValue = "6", description = "Observations per preset (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--size", defaultValue = "96", description = "Tile size in pixels (default ${DEFAULT-VALUE}: what"
            + " the policy sees).")
    int size;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial conditions.")
    long seed;

    @Parameters(paramLabel = "key=value", description = "Environment overrides, e.g. render.shading=0.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (samples <= 0) throw new IllegalArgumentException("--samples must be > 0, got " + samples);
        List<String> names = envs.size() == 1 && envs.get(0).equals("all") ? EnvPresets.names() : envs;
        List<byte[]> frames = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (String name : names) {
            EnvConfig config = EnvPresets.get(name).withOverrides(overrides);
            try (PushTEnv env = new PushTEnv(config, false)) {
                for (int i = 0; i < samples; i++) {
                    InitialCondition ic = InitialConditions.sample(config, seed, i);
                    env.reset(ic, InitialConditions.episodeSeed(seed, i));
                    byte[] frame = new byte[size * size * 3];
                    env.renderInto(size, frame);
                    frames.add(frame);
                    labels.add(i == 0 ? name : "");
                }
            }
        }
        ImageFiles.writeGrid(frames, size, samples, labels, out);
        System.out.println("wrote " + out + ": " + names.size() + " presets x " + samples + " observations");
        return 0;
    }
}
