package org.cotrain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Barnes-Hut t-SNE on Gaussian clusters, its determinism, its parts against brute force, and bad input. */
class TsneTest {

    /** clusters x perCluster points in d dims: unit Gaussians around centres drawn N(0, spread^2) per coordinate. */
    private static double[][] clusters(int clusters, int perCluster, int d, double spread, long seed, int[] label) {
        Random r = new Random(seed);
        double[][] centre = new double[clusters][d];
        for (double[] c : centre) {
            for (int j = 0; j < d; j++) {
                c[j] = spread * r.nextGaussian();
            }
        }
        double[][] x = new double[clusters * perCluster][d];
        for (int i = 0; i < x.length; i++) {
            int c = i % clusters;   // interleaved, so that no order gives the clusters away
            label[i] = c;
            for (int j = 0; j < d; j++) {
                x[i][j] = centre[c][j] + r.nextGaussian();
            }
        }
        return x;
    }

    /** Leave-one-out 1-nearest-neighbour accuracy in the map: the analysis's own measure of it. */
    private static double oneNnAccuracy(double[][] y, int[] label) {
        return PolicyAnalysis.nearestSameLabel(y, label);
    }

    /** The smallest distance between two clusters' centroids over the largest mean distance to a centroid. */
    private static double separation(double[][] y, int[] label, int clusters) {
        double[][] c = new double[clusters][2];
        int[] n = new int[clusters];
        for (int i = 0; i < y.length; i++) {
            c[label[i]][0] += y[i][0];
            c[label[i]][1] += y[i][1];
            n[label[i]]++;
        }
        for (int k = 0; k < clusters; k++) {
            c[k][0] /= n[k];
            c[k][1] /= n[k];
        }
        double[] spread = new double[clusters];
        for (int i = 0; i < y.length; i++) {
            spread[label[i]] += Math.hypot(y[i][0] - c[label[i]][0], y[i][1] - c[label[i]][1]) / n[label[i]];
        }
        double between = Double.POSITIVE_INFINITY;
        for (int a = 0; a < clusters; a++) {
            for (int b = a + 1; b < clusters; b++) {
                between = Math.min(between, Math.hypot(c[a][0] - c[b][0], c[a][1] - c[b][1]));
            }
        }
        return between / Arrays.stream(spread).max().orElseThrow();
    }

    private static void separates(int clusters, int perCluster, int d) {
        int[] label = new int[clusters * perCluster];
        double[][] x = clusters(clusters, perCluster, d, 3, 7 + clusters, label);
        long t0 = System.nanoTime();
        Tsne.Result r = Tsne.embed(x, Tsne.Options.defaults(1));
        double seconds = (System.nanoTime() - t0) / 1e9;
        double acc = oneNnAccuracy(r.embedding(), label);
        double sep = separation(r.embedding(), label, clusters);
        System.out.printf("t-SNE of %d Gaussian clusters (%d points, %d dims): 1-NN accuracy %.3f, nearest centroids"
                + " %.1f x the widest cluster's mean radius, KL %.3f, learning rate %.0f, %.2f s%n", clusters,
                x.length, d, acc, sep, r.kl(), r.learningRate(), seconds);
        assertEquals(x.length, r.embedding().length);
        assertTrue(acc > 0.95, "1-NN accuracy " + acc);
        assertTrue(sep > 3, "separation " + sep);
        assertTrue(r.kl() > 0 && r.kl() < 2, "KL " + r.kl());
    }

    @Test
    void twoGaussianClustersInThirtyDimensionsSeparate() {
        separates(2, 150, 30);
    }

    @Test
    void threeGaussianClustersInFiftyDimensionsSeparate() {
        separates(3, 100, 50);
    }

    @Test
    void oneCloudIsNotSplitIntoSeparatedHalves() {
        // the control: one Gaussian with arbitrary labels; a map that "separates" these would be an artefact
        int[] label = new int[300];
        double[][] x = clusters(1, 300, 30, 3, 5, label);
        for (int i = 0; i < label.length; i++) {
            label[i] = i % 2;
        }
        Tsne.Result r = Tsne.embed(x, Tsne.Options.defaults(1));
        double acc = oneNnAccuracy(r.embedding(), label);
        System.out.printf("t-SNE of one Gaussian, labels alternating: 1-NN accuracy %.3f%n", acc);
        assertTrue(acc < 0.65, "1-NN accuracy " + acc);
    }

    @Test
    void sameSeedSameBitsWhateverTheThreads() throws Exception {
        int[] label = new int[200];
        double[][] x = clusters(2, 100, 20, 3, 3, label);
        Tsne.Options o = Tsne.Options.defaults(42).withIterations(300);
        double[][] a = Tsne.embed(x, o).embedding();
        ForkJoinPool one = new ForkJoinPool(1);
        double[][] b;
        try {
            b = one.submit(() -> Tsne.embed(x, o).embedding()).get();
        } finally {
            one.shutdown();
        }
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i], 0.0, "point " + i);   // delta 0: the same bits
        }
        double[][] c = Tsne.embed(x, Tsne.Options.defaults(43).withIterations(300)).embedding();
        assertFalse(Arrays.deepEquals(a, c), "another seed gives another map");
    }

    @Test
    void treeRepulsionAgainstTheExactSum() {
        Random r = new Random(11);
        int n = 600;
        double[] y = new double[2 * n];
        for (int c = 0; c < 2 * n; c++) {
            y[c] = 10 * r.nextGaussian();
        }
        y[2] = y[0];   // points 0 and 1 at one spot, point 2 a hair from point 3
        y[3] = y[1];
        y[4] = y[6] + 1e-15;
        y[5] = y[7];
        Tsne.QuadTree tree = new Tsne.QuadTree(y, n);
        double worstExact = 0, worstZ = 0, errSq = 0, normSq = 0;
        int[] stack = new int[64];
        double[] f = new double[2];
        for (int i = 0; i < n; i++) {
            double z = 0, fx = 0, fy = 0;
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                    double q = 1 / (1 + dx * dx + dy * dy);
                    z += q;
                    fx += q * q * dx;
                    fy += q * q * dy;
                }
            }
            double zt = tree.repulsion(i, 0, f, stack);
            worstExact = Math.max(worstExact, Math.abs(zt - z) / z);
            worstExact = Math.max(worstExact, Math.hypot(f[0] - fx, f[1] - fy) / Math.hypot(fx, fy));
            double zb = tree.repulsion(i, 0.5, f, stack);
            worstZ = Math.max(worstZ, Math.abs(zb - z) / z);
            errSq += (f[0] - fx) * (f[0] - fx) + (f[1] - fy) * (f[1] - fy);
            normSq += fx * fx + fy * fy;
        }
        double forceErr = Math.sqrt(errSq / normSq);
        System.out.printf("quadtree repulsion, %d points: theta 0 vs exact %.2e; theta 0.5: Z within %.2e, forces"
                + " %.2e (relative, all points)%n", n, worstExact, worstZ, forceErr);
        assertTrue(worstExact < 1e-12, "theta 0 " + worstExact);
        assertTrue(worstZ < 0.05, "Z at theta 0.5 " + worstZ);
        assertTrue(forceErr < 0.05, "forces at theta 0.5 " + forceErr);
    }

    @Test
    void neighboursAndSymmetricPAgainstBruteForce() {
        Random r = new Random(2);
        int n = 77, d = 5, k = 9;
        double[][] z = new double[n][d];
        for (double[] row : z) {
            for (int j = 0; j < d; j++) {
                row[j] = r.nextInt(3);   // small integers: many ties, broken by index
            }
        }
        int[] nbr = new int[n * k];
        double[] nd2 = new double[n * k];
        Tsne.nearest(z, n, d, k, nbr, nd2);
        for (int i = 0; i < n; i++) {
            final int fi = i;
            Integer[] order = new Integer[n];
            for (int j = 0; j < n; j++) {
                order[j] = j;
            }
            double[] dist = new double[n];
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < d; c++) {
                    dist[j] += (z[i][c] - z[j][c]) * (z[i][c] - z[j][c]);
                }
            }
            Arrays.sort(order, (a, b) -> a == fi ? -1 : b == fi ? 1 : dist[a] != dist[b]
                    ? Double.compare(dist[a], dist[b]) : Integer.compare(a, b));
            for (int m = 0; m < k; m++) {
                assertEquals(order[m + 1].intValue(), nbr[i * k + m], "point " + i + ", neighbour " + m);
                assertEquals(dist[order[m + 1]], nd2[i * k + m]);
            }
        }
        for (double[] row : z) {   // continuous data for P: ties would make some rows uniform whatever the precision
            for (int j = 0; j < d; j++) {
                row[j] = r.nextGaussian();
            }
        }
        Tsne.nearest(z, n, d, k, nbr, nd2);
        double perplexity = 3;
        double[] cond = Tsne.conditional(nbr, nd2, n, k, perplexity);
        for (int i = 0; i < n; i++) {   // each row's entropy is log(perplexity)
            double h = 0, s = 0;
            for (int m = 0; m < k; m++) {
                double p = cond[i * k + m];
                s += p;
                h -= p > 0 ? p * Math.log(p) : 0;
            }
            assertEquals(1, s, 1e-12);
            assertEquals(Math.log(perplexity), h, 1e-4, "row " + i);
        }
        Tsne.Sparse p = Tsne.symmetrise(cond, nbr, n, k);
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int e = p.rowStart()[i]; e < p.rowStart()[i + 1]; e++) {
                int j = p.col()[e];
                total += p.val()[e];
                int back = Arrays.binarySearch(p.col(), p.rowStart()[j], p.rowStart()[j + 1], i);
                assertTrue(back >= 0, "P[" + j + "][" + i + "] is there");
                assertEquals(p.val()[e], p.val()[back], 0.0, "P symmetric at " + i + ", " + j);
                double expected = 0;
                for (int m = 0; m < k; m++) {
                    expected += nbr[i * k + m] == j ? cond[i * k + m] : 0;
                    expected += nbr[j * k + m] == i ? cond[j * k + m] : 0;
                }
                assertEquals(expected / (2 * n), p.val()[e], 1e-18);
            }
        }
        assertEquals(1, total, 1e-12);
    }

    @Test
    void mapsAreWrittenAsPngsAndCsv(@TempDir Path tmp) throws Exception {
        int[] label = new int[120];
        double[][] x = clusters(2, 60, 10, 3, 9, label);
        Tsne.Options o = Tsne.Options.defaults(5).withIterations(300);
        Tsne.Result a = Tsne.embed(x, o);
        int[] window = new int[x.length];
        for (int i = 0; i < window.length; i++) {
            window[i] = i / 2;
        }
        double same = PolicyAnalysis.nearestSameLabel(a.embedding(), label);
        assertEquals(1.0, same, "the two clusters are the two domains");
        PolicyAnalysis.TsneMaps maps = new PolicyAnalysis.TsneMaps(window, label, a, a, same, same, 59 / 119.0);
        assertEquals(60, maps.real());
        List<Path> files = TsnePlots.write(tmp, "analysis", maps);
        assertEquals(List.of(tmp.resolve("analysis_tsne_observation_embeddings.png"),
                tmp.resolve("analysis_tsne_final_activations.png"), tmp.resolve("analysis_tsne.csv")), files);
        for (Path png : files.subList(0, 2)) {
            BufferedImage image = ImageIO.read(png.toFile());
            assertEquals(800, image.getWidth(), png.toString());
        }
        List<String> csv = Files.readAllLines(files.get(2));
        assertEquals(1 + x.length, csv.size());
        assertEquals("window,dataset,domain,observation_x,observation_y,final_x,final_y", csv.get(0));
        assertTrue(csv.get(1).startsWith("0,0,real,") && csv.get(2).startsWith("0,1,sim,"), csv.get(2));
    }

    private static void rejects(double[][] x, Tsne.Options o, String... words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tsne.embed(x, o));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + e.getMessage() + "' names " + w);
        }
    }

    @Test
    void badInputIsRejectedByName() {
        int[] label = new int[30];
        double[][] x = clusters(2, 15, 4, 3, 1, label);
        Tsne.Options o = Tsne.Options.defaults(0);
        rejects(x, o.withPerplexity(0.5), "perplexity 0.5", "[1, N/3)", "N = 30");
        rejects(x, o.withPerplexity(10), "perplexity 10.0", "N = 30");   // N/3 exactly
        rejects(x, o.withPerplexity(Double.NaN), "perplexity NaN");
        rejects(Arrays.copyOf(x, 3), o.withPerplexity(1), "at least 4 points, got 3");
        double[][] nan = Arrays.stream(x).map(double[]::clone).toArray(double[][]::new);
        nan[4][2] = Double.NaN;
        rejects(nan, o.withPerplexity(5), "x[4][2] is NaN");
        double[][] ragged = x.clone();
        ragged[7] = new double[3];
        rejects(ragged, o.withPerplexity(5), "point 7 has 3 values", "point 0 has 4", "ragged");
        rejects(x, o.withPerplexity(5).withTheta(1.5), "theta 1.5");
        rejects(x, o.withPerplexity(5).withIterations(0), "iterations 0");
        rejects(x, new Tsne.Options(5, 0.5, 10, -1, 0), "learning rate -1.0");
        // the smallest legal problem runs: N = 4, perplexity 1
        assertEquals(4, Tsne.embed(Arrays.copyOf(x, 4), o.withPerplexity(1)).embedding().length);
    }
}
