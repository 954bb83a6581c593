package org.cotrain.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.analysis.PolicyAnalysis;
import org.cotrain.backend.Backends;
import org.cotrain.io.AtomicFiles;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain analyze --checkpoint C [--data real.hdf5,sim.hdf5] [--rollouts N --env target]}: how a trained
 * policy separates sim from real (logistic-regression probes on its observation embeddings and final activations)
 * and, with rollouts, whether its predicted action chunks lie nearer real or sim training chunks (kNN attribution);
 * with {@code --tsne}, t-SNE maps of both embeddings, real and sim coloured, as PNGs beside the JSON. Prints a summary
 * and writes JSON. See {@link PolicyAnalysis}.
 */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = "Probe a policy's embeddings for sim vs real, and attribute its rollouts' action chunks to real"
                + " or sim training chunks (kNN).")
final class AnalyzeCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A checkpoint or saved policy.")
    Path checkpoint;

    @Option(names = "--data", split = ",", paramLabel = "REAL,SIM[,...]",
            description = "Robomimic files, the real (target) one first (default: the checkpoint's training data and"
                    + " subsets). All their training demos are used.")
    List<Path> data;

    @Option(names = "--samples", defaultValue = "500",
            description = "Training windows per dataset for the probes (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--ddim", defaultValue = "16", paramLabel = "STEPS",
            description = "DDIM steps; the embeddings are those of the last step (default ${DEFAULT-VALUE}).")
    int ddim;

    @Option(names = "--l2", defaultValue = "0.01", description = "The probes' weight penalty (default ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--test-fraction", defaultValue = "0.3",
            description = "Held-out share of the probes' windows (default ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(names = "--rollouts", defaultValue = "0",
            description = "Episodes for the kNN attribution of predicted action chunks (default ${DEFAULT-VALUE}: none).")
    int rollouts;

    @Option(names = "--env", defaultValue = "target", paramLabel = "PRESET",
            description = "Environment of the rollouts (default ${DEFAULT-VALUE}).")
    String env;

    @Option(names = "--k", defaultValue = "10", description = "Neighbours per chunk (default ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the windows, split, noise and starts.")
    long seed;

    @Option(names = "--batch", defaultValue = "50", description = "Episodes stepped together.")
    int batch;

    @Option(names = "--threads", description = "Environment threads (default: all cores).")
    Integer threads;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Write the report as JSON.")
    Path out;

    @Option(names = "--tsne", description = "Also map both embeddings of the probes' windows to 2-D by t-SNE, real and"
            + " sim coloured: FILE_tsne_observation_embeddings.png, FILE_tsne_final_activations.png and FILE_tsne.csv"
            + " beside --out FILE.json.")
    boolean tsne;

    @Option(names = "--tsne-points", defaultValue = "2000", paramLabel = "N",
            description = "At most N windows in the maps, a seeded subsample (default ${DEFAULT-VALUE}).")
    int tsnePoints;

    @Option(names = "--tsne-perplexity", defaultValue = "30",
            description = "Perplexity of the maps (default ${DEFAULT-VALUE}; lowered for fewer than 3x+1 windows).")
    double tsnePerplexity;

    @Parameters(paramLabel = "key=value", description = "Environment overrides for the rollouts.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(checkpoint)) {
            throw new IllegalArgumentException("--checkpoint " + checkpoint + ": no such file");
        }
        if (samples < 2 || ddim < 1 || k < 1 || rollouts < 0 || batch < 1 || !(l2 >= 0)
                || !(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("need --samples >= 2, --ddim >= 1, --k >= 1, --rollouts >= 0, --batch"
                    + " >= 1, --l2 >= 0 and --test-fraction in (0, 1)");
        }
        if (tsne && (out == null || tsnePoints < 4 || !(tsnePerplexity >= 1))) {
            throw new IllegalArgumentException("--tsne writes its maps beside --out FILE.json: it needs --out, and"
                    + " --tsne-points >= 4 (got " + tsnePoints + ") and --tsne-perplexity >= 1 (got " + tsnePerplexity
                    + ")");
        }
        EnvConfig config = EnvPresets.get(env).withOverrides(overrides);
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, n));
        try {
            PolicyAnalysis.Report report = PolicyAnalysis.run(checkpoint, data, new PolicyAnalysis.Options(samples,
                    ddim, testFraction, l2, rollouts, config, k, seed, batch, tsne ? tsnePoints : 0, tsnePerplexity),
                    Backends.select(), pool, System.out);
            System.out.print(report.summary());
            if (out != null) {
                AtomicFiles.writeString(out, report.toJson());
                System.out.println("wrote " + out);
            }
            if (tsne) {
                String name = out.getFileName().toString();
                String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
                Path dir = out.toAbsolutePath().getParent();
                for (Path p : report.writeTsne(dir, stem)) {
                    System.out.println("wrote " + p);
                }
            }
        } finally {
            pool.shutdown();
        }
        return 0;
    }
}
