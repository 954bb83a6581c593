package org.cotrain.analysis;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Barnes-Hut t-SNE to two dimensions (van der Maaten, "Accelerating t-SNE using tree-based algorithms", JMLR 15,
 * 2014), in float64 throughout.
 *
 * <p>Why our own: Smile has one, but Smile is GPL-3.0, and a user embedding cotrain would inherit that. The
 * permissive Java ones are not well kept: lejon/T-SNE-Java (BSD-style, derived from van der Maaten's BSD-4-clause
 * bhtsne) is released through JitPack and SciJava rather than Maven Central and pulls in EJML; de.javagl:bh-tsne,
 * derived from it, has one release (0.0.1) on Central. The algorithm fits in this file, so it is written here from
 * the paper, with no dependency.
 *
 * <p>The steps, as in the paper and its reference code (bhtsne):
 * <ol>
 *   <li>The data are centred and scaled by their largest absolute value (distances change by one factor only).</li>
 *   <li>Each point's K = floor(3 perplexity) nearest neighbours (squared Euclidean), by an <b>exact</b> search:
 *       O(N<sup>2</sup> D) work (tiled, in parallel), fine up to about 10,000 points; the paper's vantage-point tree
 *       is not used.</li>
 *   <li>Per point, a binary search on the Gaussian precision over its K neighbours until the entropy of p(j|i) is
 *       log(perplexity) within 1e-5 (at most 200 halvings); P = (p(j|i) + p(i|j)) / 2N, sparse (CSR).</li>
 *   <li>The map starts at N(0, 1e-4<sup>2</sup>) draws of a {@link SplittableRandom} with the seed. Gradient descent
 *       with the gradient without its factor 4 (as bhtsne): attraction over the sparse P (exaggerated 12x for the
 *       first 250 iterations), repulsion by a quadtree whose cells count as one body when their width / distance is
 *       below theta (0.5); momentum 0.5 for the first 250 iterations, 0.8 after; per-coordinate gains (+0.2 where
 *       the gradient changed sign against the step, x0.8 where not, at least 0.01); learning rate max(200, N/12)
 *       unless given (Belkina et al. 2019); the map is re-centred after every step.</li>
 * </ol>
 * Deterministic: every point's forces are computed on their own from a tree built in one order and summed in index
 * order, and the transcendental functions are {@link StrictMath}'s, so a seed gives the same bits whatever the
 * number of threads (the parallel parts are parallel streams: the common pool, or the fork-join pool the caller runs
 * in).
 */
public final class Tsne {

    /** Exaggeration of P in the first {@link #EARLY_ITERATIONS} iterations. */
    static final double EXAGGERATION = 12;
    /** Iterations with exaggeration and momentum 0.5. */
    static final int EARLY_ITERATIONS = 250;
    static final double EARLY_MOMENTUM = 0.5;
    static final double MOMENTUM = 0.8;
    static final double MIN_GAIN = 0.01;
    private static final double ENTROPY_TOLERANCE = 1e-5;
    private static final int MAX_HALVINGS = 200;

    /**
     * @param perplexity   the effective number of neighbours, in [1, N/3)
     * @param theta        the Barnes-Hut accuracy, in [0, 1] (0: exact repulsion, O(N^2) per iteration)
     * @param iterations   gradient steps, at least 1
     * @param learningRate the step size; 0 for max(200, N/12)
     * @param seed         the seed of the initial map
     */
    public record Options(double perplexity, double theta, int iterations, double learningRate, long seed) {

        /** Perplexity 30, theta 0.5, 1000 iterations, learning rate max(200, N/12). */
        public static Options defaults(long seed) {
            return new Options(30, 0.5, 1000, 0, seed);
        }

        public Options withPerplexity(double p) {
            return new Options(p, theta, iterations, learningRate, seed);
        }

        public Options withIterations(int n) {
            return new Options(perplexity, theta, n, learningRate, seed);
        }

        public Options withTheta(double t) {
            return new Options(perplexity, t, iterations, learningRate, seed);
        }
    }

    /**
     * @param embedding    (N, 2), the map
     * @param learningRate the step size used
     * @param kl           KL(P || Q) of the final map (without exaggeration; Q's normaliser by the same tree)
     */
    public record Result(double[][] embedding, double perplexity, int iterations, double learningRate, double kl) {}

    private Tsne() {}

    /** The 2-D map of the rows of x (N points of D values each). */
    public static Result embed(double[][] x, Options o) {
        int n = check(x, o);
        int d = x[0].length;
        double[][] z = normalised(x, n, d);
        int k = (int) (3 * o.perplexity());
        int[] nbr = new int[n * k];
        double[] nd2 = new double[n * k];
        nearest(z, n, d, k, nbr, nd2);
        Sparse p = symmetrise(conditional(nbr, nd2, n, k, o.perplexity()), nbr, n, k);
        double eta = o.learningRate() > 0 ? o.learningRate() : Math.max(200, n / 12.0);

        double[] y = new double[2 * n];
        SplittableRandom random = new SplittableRandom(o.seed());
        for (int i = 0; i < n; i++) {   // Box-Muller: one pair per point
            double u1 = 1 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = StrictMath.sqrt(-2 * StrictMath.log(u1));
            y[2 * i] = 1e-4 * r * StrictMath.cos(2 * Math.PI * u2);
            y[2 * i + 1] = 1e-4 * r * StrictMath.sin(2 * Math.PI * u2);
        }
        double[] velocity = new double[2 * n];
        double[] gains = new double[2 * n];
        Arrays.fill(gains, 1);
        double[] grad = new double[2 * n];
        for (int it = 0; it < o.iterations(); it++) {
            boolean early = it < EARLY_ITERATIONS;
            gradient(p, y, n, o.theta(), early ? EXAGGERATION : 1, grad);
            double momentum = early ? EARLY_MOMENTUM : MOMENTUM;
            for (int c = 0; c < 2 * n; c++) {
                gains[c] = Math.signum(grad[c]) != Math.signum(velocity[c]) ? gains[c] + 0.2 : gains[c] * 0.8;
                gains[c] = Math.max(gains[c], MIN_GAIN);
                velocity[c] = momentum * velocity[c] - eta * gains[c] * grad[c];
                y[c] += velocity[c];
            }
            double mx = 0, my = 0;
            for (int i = 0; i < n; i++) {
                mx += y[2 * i];
                my += y[2 * i + 1];
            }
            mx /= n;
            my /= n;
            for (int i = 0; i < n; i++) {
                y[2 * i] -= mx;
                y[2 * i + 1] -= my;
            }
        }
        double[][] map = new double[n][];
        for (int i = 0; i < n; i++) {
            map[i] = new double[] {y[2 * i], y[2 * i + 1]};
        }
        return new Result(map, o.perplexity(), o.iterations(), eta, kl(p, y, n, o.theta()));
    }

    /** N, after checking the data and options; the messages name the bad value. */
    private static int check(double[][] x, Options o) {
        if (x == null || x.length < 4) {
            throw new IllegalArgumentException("t-SNE needs at least 4 points, got " + (x == null ? 0 : x.length));
        }
        int n = x.length;
        if (x[0] == null || x[0].length == 0) {
            throw new IllegalArgumentException("t-SNE: point 0 has no values");
        }
        int d = x[0].length;
        for (int i = 0; i < n; i++) {
            if (x[i] == null || x[i].length != d) {
                throw new IllegalArgumentException("t-SNE: point " + i + " has " + (x[i] == null ? 0 : x[i].length)
                        + " values, point 0 has " + d + " (ragged data)");
            }
            for (int j = 0; j < d; j++) {
                if (!Double.isFinite(x[i][j])) {
                    throw new IllegalArgumentException("t-SNE: x[" + i + "][" + j + "] is " + x[i][j]);
                }
            }
        }
        if (!(o.perplexity() >= 1 && 3 * o.perplexity() < n)) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "t-SNE: perplexity %s must be in"
                    + " [1, N/3) = [1, %.4g) for N = %d points", o.perplexity(), n / 3.0, n));
        }
        if (!(o.theta() >= 0 && o.theta() <= 1)) {
            throw new IllegalArgumentException("t-SNE: theta " + o.theta() + " must be in [0, 1]");
        }
        if (o.iterations() < 1) {
            throw new IllegalArgumentException("t-SNE: iterations " + o.iterations() + " must be at least 1");
        }
        if (!(o.learningRate() >= 0 && Double.isFinite(o.learningRate()))) {
            throw new IllegalArgumentException("t-SNE: learning rate " + o.learningRate() + " must be finite and >= 0"
                    + " (0: max(200, N/12))");
        }
        return n;
    }

    /** The data centred per column and divided by the largest absolute value (when not all zero). */
    private static double[][] normalised(double[][] x, int n, int d) {
        double[] mean = new double[d];
        for (double[] row : x) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[][] z = new double[n][d];
        double max = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                z[i][j] = x[i][j] - mean[j];
                max = Math.max(max, Math.abs(z[i][j]));
            }
        }
        if (max > 0) {
            for (double[] row : z) {
                for (int j = 0; j < d; j++) {
                    row[j] /= max;
                }
            }
        }
        return z;
    }

    /** Rows of points per parallel task of the neighbour search (they stay in cache while all others stream by). */
    private static final int TILE = 32;

    /**
     * The k nearest neighbours of every point, exactly: nbr[i k + m] is the m-th nearest of point i and nd2 its
     * squared distance, ascending (ties by index).
     */
    static void nearest(double[][] z, int n, int d, int k, int[] nbr, double[] nd2) {
        int tiles = (n + TILE - 1) / TILE;
        IntStream.range(0, tiles).parallel().forEach(t -> {
            int i0 = t * TILE;
            int i1 = Math.min(n, i0 + TILE);
            int[] size = new int[i1 - i0];
            for (int j = 0; j < n; j++) {
                double[] b = z[j];
                int i = i0;
                for (; i + 4 <= i1; i += 4) {   // four rows at once: independent sums, row j read once
                    double[] a0 = z[i], a1 = z[i + 1], a2 = z[i + 2], a3 = z[i + 3];
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int c = 0; c < d; c++) {
                        double v = b[c];
                        double e0 = a0[c] - v, e1 = a1[c] - v, e2 = a2[c] - v, e3 = a3[c] - v;
                        s0 += e0 * e0;
                        s1 += e1 * e1;
                        s2 += e2 * e2;
                        s3 += e3 * e3;
                    }
                    offer(i, j, s0, k, nbr, nd2, size, i0);
                    offer(i + 1, j, s1, k, nbr, nd2, size, i0);
                    offer(i + 2, j, s2, k, nbr, nd2, size, i0);
                    offer(i + 3, j, s3, k, nbr, nd2, size, i0);
                }
                for (; i < i1; i++) {
                    double[] a = z[i];
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        double e = a[c] - b[c];
                        s += e * e;
                    }
                    offer(i, j, s, k, nbr, nd2, size, i0);
                }
            }
            for (int i = i0; i < i1; i++) {   // the max-heap of row i, sorted ascending (insertion sort on k)
                int base = i * k;
                for (int a = 1; a < k; a++) {
                    int ja = nbr[base + a];
                    double da = nd2[base + a];
                    int b = a - 1;
                    while (b >= 0 && worse(nd2[base + b], nbr[base + b], da, ja)) {
                        nbr[base + b + 1] = nbr[base + b];
                        nd2[base + b + 1] = nd2[base + b];
                        b--;
                    }
                    nbr[base + b + 1] = ja;
                    nd2[base + b + 1] = da;
                }
            }
        });
    }

    /** (d1, j1) after (d2, j2): farther, or as far with a larger index. */
    private static boolean worse(double d1, int j1, double d2, int j2) {
        return d1 > d2 || (d1 == d2 && j1 > j2);
    }

    /** Offers j to row i's max-heap of its k nearest (the farthest at the top). */
    private static void offer(int i, int j, double dist, int k, int[] nbr, double[] nd2, int[] size, int i0) {
        if (i == j) {
            return;
        }
        int base = i * k;
        int s = size[i - i0];
        if (s < k) {   // sift up
            int c = s;
            while (c > 0) {
                int parent = (c - 1) / 2;
                if (!worse(dist, j, nd2[base + parent], nbr[base + parent])) {
                    break;
                }
                nbr[base + c] = nbr[base + parent];
                nd2[base + c] = nd2[base + parent];
                c = parent;
            }
            nbr[base + c] = j;
            nd2[base + c] = dist;
            size[i - i0] = s + 1;
            return;
        }
        if (!worse(nd2[base], nbr[base], dist, j)) {
            return;   // not nearer than the farthest kept
        }
        int c = 0;   // replace the top, sift down
        while (true) {
            int l = 2 * c + 1;
            if (l >= k) {
                break;
            }
            int r = l + 1;
            int m = r < k && worse(nd2[base + r], nbr[base + r], nd2[base + l], nbr[base + l]) ? r : l;
            if (!worse(nd2[base + m], nbr[base + m], dist, j)) {
                break;
            }
            nbr[base + c] = nbr[base + m];
            nd2[base + c] = nd2[base + m];
            c = m;
        }
        nbr[base + c] = j;
        nd2[base + c] = dist;
    }

    /** p(j|i) over each point's k neighbours, each row's Gaussian calibrated to the perplexity (binary search). */
    static double[] conditional(int[] nbr, double[] nd2, int n, int k, double perplexity) {
        double[] p = new double[n * k];
        double target = StrictMath.log(perplexity);
        IntStream.range(0, n).parallel().forEach(i -> {
            int base = i * k;
            double dmin = nd2[base];   // ascending: shifting by the nearest keeps exp() from underflowing
            double beta = 1, lo = Double.NEGATIVE_INFINITY, hi = Double.POSITIVE_INFINITY;
            double sum = 0;
            for (int h = 0; h < MAX_HALVINGS; h++) {
                sum = 0;
                double weighted = 0;
                for (int m = 0; m < k; m++) {
                    double dm = nd2[base + m] - dmin;
                    double v = StrictMath.exp(-beta * dm);
                    p[base + m] = v;
                    sum += v;
                    weighted += dm * v;
                }
                double entropy = StrictMath.log(sum) + beta * weighted / sum;
                double diff = entropy - target;
                if (Math.abs(diff) < ENTROPY_TOLERANCE) {
                    break;
                }
                if (diff > 0) {   // too flat: sharpen
                    lo = beta;
                    beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = lo == Double.NEGATIVE_INFINITY ? beta / 2 : (beta + lo) / 2;
                }
            }
            for (int m = 0; m < k; m++) {
                p[base + m] /= sum;
            }
        });
        return p;
    }

    /** A symmetric sparse matrix, rows in CSR (columns ascending). */
    record Sparse(int[] rowStart, int[] col, double[] val) {}

    /** P = (p(j|i) + p(i|j)) / 2N over the union of the neighbour lists. */
    static Sparse symmetrise(double[] cond, int[] nbr, int n, int k) {
        int[] count = new int[n];
        for (int i = 0; i < n; i++) {
            count[i] += k;
            for (int m = 0; m < k; m++) {
                count[nbr[i * k + m]]++;
            }
        }
        int[] start = new int[n + 1];
        for (int i = 0; i < n; i++) {
            start[i + 1] = start[i] + count[i];
        }
        int[] fill = Arrays.copyOf(start, n);
        int[] cols = new int[start[n]];
        double[] vals = new double[start[n]];
        for (int i = 0; i < n; i++) {
            for (int m = 0; m < k; m++) {
                int j = nbr[i * k + m];
                double v = cond[i * k + m];
                cols[fill[i]] = j;
                vals[fill[i]++] = v;
                cols[fill[j]] = i;
                vals[fill[j]++] = v;
            }
        }
        int[] outStart = new int[n + 1];
        int[] outCol = new int[start[n]];
        double[] outVal = new double[start[n]];
        int at = 0;
        for (int i = 0; i < n; i++) {
            int len = start[i + 1] - start[i];
            long[] order = new long[len];   // column in the high bits, position in the low: sorted by column
            for (int e = 0; e < len; e++) {
                order[e] = ((long) cols[start[i] + e] << 32) | e;
            }
            Arrays.sort(order);
            outStart[i] = at;
            for (int e = 0; e < len; e++) {
                int c = (int) (order[e] >>> 32);
                double v = vals[start[i] + (int) order[e]];
                if (at > outStart[i] && outCol[at - 1] == c) {
                    outVal[at - 1] += v;
                } else {
                    outCol[at] = c;
                    outVal[at++] = v;
                }
            }
        }
        outStart[n] = at;
        for (int e = 0; e < at; e++) {
            outVal[e] /= 2.0 * n;
        }
        return new Sparse(outStart, Arrays.copyOf(outCol, at), Arrays.copyOf(outVal, at));
    }

    /** Points per parallel task of the gradient. */
    private static final int CHUNK = 64;

    /** The gradient (without its factor 4) into grad: exaggeration * attraction - repulsion / Z. */
    static void gradient(Sparse p, double[] y, int n, double theta, double exaggeration, double[] grad) {
        QuadTree tree = new QuadTree(y, n);
        double[] rep = new double[2 * n];
        double[] q = new double[n];
        int chunks = (n + CHUNK - 1) / CHUNK;
        IntStream.range(0, chunks).parallel().forEach(t -> {
            int[] stack = new int[64];
            double[] f = new double[2];
            for (int i = t * CHUNK; i < Math.min(n, (t + 1) * CHUNK); i++) {
                q[i] = tree.repulsion(i, theta, f, stack);
                rep[2 * i] = f[0];
                rep[2 * i + 1] = f[1];
                double xi = y[2 * i], yi = y[2 * i + 1], ax = 0, ay = 0;
                for (int e = p.rowStart()[i]; e < p.rowStart()[i + 1]; e++) {
                    int j = p.col()[e];
                    double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
                    double w = p.val()[e] / (1 + dx * dx + dy * dy);
                    ax += w * dx;
                    ay += w * dy;
                }
                grad[2 * i] = exaggeration * ax;
                grad[2 * i + 1] = exaggeration * ay;
            }
        });
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += q[i];
        }
        for (int c = 0; c < 2 * n; c++) {
            grad[c] -= rep[c] / z;
        }
    }

    /** KL(P || Q) of the map y, Q's normaliser Z from the tree at theta. */
    static double kl(Sparse p, double[] y, int n, double theta) {
        QuadTree tree = new QuadTree(y, n);
        int[] stack = new int[64];
        double[] f = new double[2];
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += tree.repulsion(i, theta, f, stack);
        }
        double kl = 0;
        for (int i = 0; i < n; i++) {
            for (int e = p.rowStart()[i]; e < p.rowStart()[i + 1]; e++) {
                int j = p.col()[e];
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                double qij = 1 / (1 + dx * dx + dy * dy) / z;
                double pij = p.val()[e];
                if (pij > 0) {
                    kl += pij * StrictMath.log(pij / qij);
                }
            }
        }
        return kl;
    }

    /**
     * A quadtree over the map's points, one point per leaf (points at one spot, or in a cell a trillionth of the
     * root's width, share a leaf), each cell with its count and centre of mass: the repulsive forces in
     * O(N log N).
     */
    static final class QuadTree {
        private final double[] y;
        private final int[] next;   // the chain of points in a leaf
        private double[] cx, cy, hw, sx, sy;
        private int[] count, child, point;
        private int nodes;
        private final double minHalfWidth;

        /** The tree of the n points (y[2i], y[2i + 1]). */
        QuadTree(double[] y, int n) {
            this.y = y;
            this.next = new int[n];
            int cap = Math.max(16, 2 * n);
            cx = new double[cap];
            cy = new double[cap];
            hw = new double[cap];
            sx = new double[cap];
            sy = new double[cap];
            count = new int[cap];
            child = new int[cap];
            point = new int[cap];
            double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY;
            double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                x0 = Math.min(x0, y[2 * i]);
                x1 = Math.max(x1, y[2 * i]);
                y0 = Math.min(y0, y[2 * i + 1]);
                y1 = Math.max(y1, y[2 * i + 1]);
            }
            double half = Math.max(x1 - x0, y1 - y0) / 2;
            half += half * 1e-9;
            minHalfWidth = half * 1e-12;
            node((x0 + x1) / 2, (y0 + y1) / 2, half);
            for (int i = 0; i < n; i++) {
                insert(i);
            }
        }

        private int node(double x, double yc, double half) {
            if (nodes == cx.length) {
                int cap = 2 * nodes;
                cx = Arrays.copyOf(cx, cap);
                cy = Arrays.copyOf(cy, cap);
                hw = Arrays.copyOf(hw, cap);
                sx = Arrays.copyOf(sx, cap);
                sy = Arrays.copyOf(sy, cap);
                count = Arrays.copyOf(count, cap);
                child = Arrays.copyOf(child, cap);
                point = Arrays.copyOf(point, cap);
            }
            int id = nodes++;
            cx[id] = x;
            cy[id] = yc;
            hw[id] = half;
            sx[id] = 0;
            sy[id] = 0;
            count[id] = 0;
            child[id] = -1;
            point[id] = -1;
            return id;
        }

        private int quadrant(int node, double px, double py) {
            return (px >= cx[node] ? 1 : 0) + (py >= cy[node] ? 2 : 0);
        }

        private void insert(int p) {
            double px = y[2 * p], py = y[2 * p + 1];
            int node = 0;
            while (true) {
                count[node]++;
                sx[node] += px;
                sy[node] += py;
                if (child[node] >= 0) {
                    node = child[node] + quadrant(node, px, py);
                    continue;
                }
                int q = point[node];
                if (q < 0) {
                    point[node] = p;
                    next[p] = -1;
                    return;
                }
                if ((y[2 * q] == px && y[2 * q + 1] == py) || hw[node] <= minHalfWidth) {
                    next[p] = q;
                    point[node] = p;
                    return;
                }
                // split: the leaf's points (all at q's spot: only a tiny cell holds points at several) go down
                double h = hw[node] / 2;
                int first = nodes;
                for (int c = 0; c < 4; c++) {
                    node(cx[node] + ((c & 1) != 0 ? h : -h), cy[node] + ((c & 2) != 0 ? h : -h), h);
                }
                int qc = first + quadrant(node, y[2 * q], y[2 * q + 1]);
                point[qc] = q;
                for (int m = q; m >= 0; m = next[m]) {
                    count[qc]++;
                    sx[qc] += y[2 * m];
                    sy[qc] += y[2 * m + 1];
                }
                point[node] = -1;
                child[node] = first;
                node = first + quadrant(node, px, py);
            }
        }

        /**
         * The repulsion on point i, sum over j != i of (q_ij Z)^2 (y_i - y_j), into f (x, y); returns its share of
         * Z, the sum over j != i of q_ij Z = 1 / (1 + |y_i - y_j|^2). Cells narrower than theta times their
         * distance count as one body at their centre of mass.
         */
        double repulsion(int i, double theta, double[] f, int[] stack) {
            double xi = y[2 * i], yi = y[2 * i + 1];
            double theta2 = theta * theta;
            double z = 0, fx = 0, fy = 0;
            int sp = 0;
            stack[sp++] = 0;
            while (sp > 0) {
                int node = stack[--sp];
                if (count[node] == 0) {
                    continue;
                }
                if (child[node] < 0) {
                    for (int m = point[node]; m >= 0; m = next[m]) {
                        if (m != i) {
                            double dx = xi - y[2 * m], dy = yi - y[2 * m + 1];
                            double q = 1 / (1 + dx * dx + dy * dy);
                            z += q;
                            fx += q * q * dx;
                            fy += q * q * dy;
                        }
                    }
                    continue;
                }
                double dx = xi - sx[node] / count[node], dy = yi - sy[node] / count[node];
                double d2 = dx * dx + dy * dy;
                double width = 2 * hw[node];
                if (width * width < theta2 * d2) {
                    double q = 1 / (1 + d2);
                    double mq = count[node] * q;
                    z += mq;
                    fx += mq * q * dx;
                    fy += mq * q * dy;
                    continue;
                }
                if (sp + 4 > stack.length) {
                    stack = Arrays.copyOf(stack, 2 * stack.length);
                }
                for (int c = 0; c < 4; c++) {
                    stack[sp++] = child[node] + c;
                }
            }
            f[0] = fx;
            f[1] = fy;
            return z;
        }
    }
}
