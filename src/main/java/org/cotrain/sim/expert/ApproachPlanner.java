package org.cotrain.sim.expert;

import java.util.Arrays;

/**
 * Paths for the pusher to a pre-contact point that go AROUND the block, never through it, so the approach does
 * not disturb the block before the push. A small visibility graph: the start (with a retreat step when it is
 * closer to the block than the clearance), a ring of nodes around the block's centroid outside its bounding
 * circle (clamped to the workspace), and the goal with an entry point on the goal's outward normal. An edge is
 * usable when the pusher's centre stays {@code clearance} pixels from the outline along it (the pusher radius plus
 * a margin for the tracking error of the PD law). Shortest paths by Dijkstra over the dense graph (about 20
 * nodes). Not thread-safe; allocation-free after construction.
 */
final class ApproachPlanner {

    private static final double INF = Double.POSITIVE_INFINITY;

    private final int ringCount;
    private final double lo, hi;       // workspace bounds for the pusher centre (pixels)
    private final double clearance;    // pixels between the pusher centre and the outline on free edges

    private double[] outline;
    private int n;
    // Nodes: 0 = start, 1 = retreat point (equal to start when no retreat is needed), 2.. = ring.
    private final double[] nx, ny, dist;
    private final int[] prev;
    private final boolean[] usable, done;
    private final double[] near = new double[2];
    private int nodeCount;

    ApproachPlanner(int ringCount, double clearance, double lo, double hi) {
        this.ringCount = ringCount;
        this.clearance = clearance;
        this.lo = lo;
        this.hi = hi;
        int m = ringCount + 2;
        nx = new double[m];
        ny = new double[m];
        dist = new double[m];
        prev = new int[m];
        usable = new boolean[m];
        done = new boolean[m];
    }

    /**
     * Sets the block (its outline in the workspace, centroid and ring radius) and the pusher's position, and finds
     * the shortest free paths from the pusher to every ring node.
     */
    void setScene(double[] worldOutline, int vertices, double cx, double cy, double ringRadius, double sx,
                  double sy) {
        this.outline = worldOutline;
        this.n = vertices;
        nodeCount = ringCount + 2;
        nx[0] = sx;
        ny[0] = sy;
        // Retreat: a pusher closer than the clearance (just after a push) first backs away from the nearest
        // boundary point, straight out, before any other motion.
        double d = Math.sqrt(Clearance.nearestBoundaryPoint(outline, n, sx, sy, near));
        boolean in = Clearance.inside(outline, n, sx, sy);
        if (d < clearance || in) {
            double ux = sx - near[0], uy = sy - near[1];
            double len = Math.hypot(ux, uy);
            if (len < 1e-9) {
                ux = sx - cx;
                uy = sy - cy;
                len = Math.max(1e-9, Math.hypot(ux, uy));
            }
            double sign = in ? -1 : 1;
            double step = (in ? d : -d) + clearance + 2;
            nx[1] = clamp(sx + sign * ux / len * step);
            ny[1] = clamp(sy + sign * uy / len * step);
        } else {
            nx[1] = sx;
            ny[1] = sy;
        }
        for (int i = 0; i < ringCount; i++) {
            double a = 2 * Math.PI * i / ringCount;
            nx[i + 2] = clamp(cx + ringRadius * Math.cos(a));
            ny[i + 2] = clamp(cy + ringRadius * Math.sin(a));
            usable[i + 2] = Clearance.signedDistance(outline, n, nx[i + 2], ny[i + 2]) >= clearance;
        }
        usable[0] = true;
        usable[1] = true;
        // Dijkstra from the retreat node over the dense graph.
        Arrays.fill(dist, 0, nodeCount, INF);
        Arrays.fill(done, 0, nodeCount, false);
        Arrays.fill(prev, 0, nodeCount, -1);
        dist[0] = 0;
        dist[1] = Math.hypot(nx[1] - sx, ny[1] - sy);
        prev[1] = 0;
        done[0] = true;
        double startClear = Math.min(clearance, Clearance.signedDistance(outline, n, nx[1], ny[1]) - 0.5);
        while (true) {
            int u = -1;
            for (int i = 1; i < nodeCount; i++) if (!done[i] && dist[i] < INF && (u < 0 || dist[i] < dist[u])) u = i;
            if (u < 0) break;
            done[u] = true;
            double need = u == 1 ? startClear : clearance;
            for (int v = 2; v < nodeCount; v++) {
                if (done[v] || !usable[v]) continue;
                double w = Math.hypot(nx[v] - nx[u], ny[v] - ny[u]);
                if (dist[u] + w >= dist[v]) continue;
                if (Clearance.segmentDistance(outline, n, nx[u], ny[u], nx[v], ny[v]) < need) continue;
                dist[v] = dist[u] + w;
                prev[v] = u;
            }
        }
    }

    /**
     * Length (pixels) of the shortest free path to the pre-contact point (gx, gy), entering along the outward
     * direction (ex, ey) (unit) through the entry point {@code entry} pixels out; infinite when unreachable.
     * With {@code out} non-null the path's points (start first, goal last) go to out as x0, y0, ...; the return is
     * then the number of points instead (0 when unreachable).
     */
    double pathTo(double gx, double gy, double ex, double ey, double entry, double[] out) {
        if (gx < lo || gx > hi || gy < lo || gy > hi) return out == null ? INF : 0;
        double goalClear = Math.min(clearance, Clearance.signedDistance(outline, n, gx, gy) - 0.5);
        double qx = clamp(gx + ex * entry), qy = clamp(gy + ey * entry);
        boolean entryOk = Clearance.segmentDistance(outline, n, qx, qy, gx, gy) >= goalClear;
        double entryLen = Math.hypot(qx - gx, qy - gy);
        double entryClear = Math.min(clearance, Clearance.signedDistance(outline, n, qx, qy) - 0.5);
        double best = INF;
        int bestNode = -1;
        boolean viaEntry = false;
        double startClear = Math.min(clearance, Clearance.signedDistance(outline, n, nx[1], ny[1]) - 0.5);
        for (int u = 1; u < nodeCount; u++) {
            if (dist[u] == INF) continue;
            double need = u == 1 ? startClear : clearance;
            double direct = dist[u] + Math.hypot(gx - nx[u], gy - ny[u]);
            if (direct < best
                    && Clearance.segmentDistance(outline, n, nx[u], ny[u], gx, gy) >= Math.min(need, goalClear)) {
                best = direct;
                bestNode = u;
                viaEntry = false;
            }
            if (entryOk) {
                double via = dist[u] + Math.hypot(qx - nx[u], qy - ny[u]) + entryLen;
                if (via < best && Clearance.segmentDistance(outline, n, nx[u], ny[u], qx, qy)
                        >= Math.min(need, entryClear)) {
                    best = via;
                    bestNode = u;
                    viaEntry = true;
                }
            }
        }
        if (out == null) return best;
        if (bestNode < 0) return 0;
        int count = 0;
        for (int u = bestNode; u >= 0; u = prev[u]) count++;
        int points = count + (viaEntry ? 2 : 1);
        int k = count - 1;
        for (int u = bestNode; u >= 0; u = prev[u], k--) {
            out[2 * k] = nx[u];
            out[2 * k + 1] = ny[u];
        }
        k = count;
        if (viaEntry) {
            out[2 * k] = qx;
            out[2 * k + 1] = qy;
            k++;
        }
        out[2 * k] = gx;
        out[2 * k + 1] = gy;
        return points;
    }

    /** The most points {@link #pathTo} can write. */
    int maxPoints() {
        return ringCount + 4;
    }

    private double clamp(double v) {
        return Math.max(lo, Math.min(hi, v));
    }
}
