package org.cotrain.sim;

/**
 * The velocity-level contact solver shared by both physics models: one rigid body (the block) against a kinematic
 * disc (the pusher, infinite mass, moving at a given velocity), by projected Gauss-Seidel over the contacts, with
 * an optional table-friction wrench bounded by an ellipse (the dynamic model's limit surface).
 *
 * <p>The body is described by its twist V = (vx, vy, omega) at the centre of mass (pixels/s, rad/s) and its
 * mobility W = diag(wLin, wLin, wAng): an impulse (Px, Py, torque) changes V by W times it. For the dynamic model
 * W = diag(1/m, 1/m, 1/I); for the quasi-static model W is the limit surface's (see {@link QuasiStaticPhysics}).
 *
 * <p>Contact k has its point on the block, r = point - COM, and the unit direction d into the block (minus the
 * outward normal) and tangent t. The pusher pushes the block with the impulse lambda_n d + lambda_t t. With
 * J_d = (dx, dy, r x d) and J_t = (tx, ty, r x t) the block point's velocity along d and t is J_d V and J_t V, and
 * the constraints relative to the pusher's velocity vp are
 * <pre>
 *   u_n = J_d V - vp.d >= target_n      (the block makes room for the pusher; see {@link #normalTarget})
 *   lambda_n >= 0, complementary with u_n - target_n
 *   |lambda_t| <= mu lambda_n; u_t = J_t V - vp.t = 0 while |lambda_t| < mu lambda_n (sticking); otherwise
 *   lambda_t = +-mu lambda_n against the block's slip u_t (sliding on the cone's edge: the pusher drags the
 *   block along the direction it slides)
 * </pre>
 * Each Gauss-Seidel sweep solves each contact's 2x2 (normal, tangent) block exactly: first the sticking impulse;
 * if it leaves the friction cone, the sliding impulse on the cone edge on the side of the sticking solution; if
 * that would pull, none. A single contact is therefore solved exactly in one sweep (the quasi-static closed form),
 * and two contacts (the T's nook) converge to the small LCP's solution over the sweeps. Scalar PGS on the normal
 * and tangent rows separately would converge slowly here, because a push far from the centre of mass couples
 * them strongly through the rotation.
 *
 * <p>The table friction (dynamic model) is the impulse that would stop the twist, P = -M V with M = W^-1, clipped
 * by scaling onto the ellipse (Px^2 + Py^2) / Fmax^2 + Ptau^2 / Tmax^2 <= 1 (Fmax, Tmax: the largest force and
 * torque impulses over the step). It is solved as one more block in the same sweeps, accumulated so that it can
 * be relaxed when the contacts change the twist: together they reach the state where the table holds the block
 * still (static friction) when the pusher's force stays inside the limit surface.
 *
 * <p>No allocation after construction. One instance per thread.
 */
final class ContactSolver {

    /** Overlap tolerated without correction (pixels): keeps resting contacts from jittering. */
    static final double SLOP = 0.05;
    /** Position-correction passes per step (each re-detects the contacts and pushes out the deepest). */
    static final int POSITION_ITERATIONS = 4;

    private final int max;
    private int count;
    // Per contact: Jacobian rows, the 2x2 block's entries, target, friction and accumulated impulses.
    private final double[] dX, dY, dW, tX, tY, tW;      // J_d = (dX, dY, dW), J_t = (tX, tY, tW)
    private final double[] ann, ant, att, det;          // block A = [J_d; J_t] W [J_d; J_t]^T and its determinant
    private final double[] target, mu, lamN, lamT;

    private double comX, comY, wLin, wAng;
    private boolean table;
    private double tableFmax, tableTmax, massLin, massAng;
    private double tabX, tabY, tabW;                    // accumulated table impulse

    /** The twist of the body at its centre of mass, read and written by {@link #solve}. */
    double vx, vy, omega;

    ContactSolver(int maxContacts) {
        if (maxContacts <= 0) throw new IllegalArgumentException("maxContacts must be > 0, got " + maxContacts);
        max = maxContacts;
        dX = new double[max];
        dY = new double[max];
        dW = new double[max];
        tX = new double[max];
        tY = new double[max];
        tW = new double[max];
        ann = new double[max];
        ant = new double[max];
        att = new double[max];
        det = new double[max];
        target = new double[max];
        mu = new double[max];
        lamN = new double[max];
        lamT = new double[max];
    }

    /**
     * Starts a solve: the body's centre of mass (workspace pixels), its mobility diag(wLin, wLin, wAng) and its
     * twist. No contacts, no table friction.
     */
    void begin(double comX, double comY, double wLin, double wAng, double vx, double vy, double omega) {
        this.comX = comX;
        this.comY = comY;
        this.wLin = wLin;
        this.wAng = wAng;
        this.vx = vx;
        this.vy = vy;
        this.omega = omega;
        count = 0;
        table = false;
        tabX = tabY = tabW = 0;
    }

    /**
     * Adds the table's friction: the largest force impulse fMaxImpulse and torque impulse tMaxImpulse over the step
     * (the limit surface's semi-axes times dt). Mobility must be the inverse of the mass matrix for "stop the
     * twist" to be -M V.
     */
    void tableFriction(double fMaxImpulse, double tMaxImpulse) {
        if (fMaxImpulse <= 0 || tMaxImpulse <= 0) return; // a frictionless table: nothing to add
        table = true;
        tableFmax = fMaxImpulse;
        tableTmax = tMaxImpulse;
        massLin = 1 / wLin;
        massAng = 1 / wAng;
    }

    /**
     * Adds a contact: point on the block (workspace pixels), unit normal from the block toward the pusher, the
     * normal velocity target (from {@link #normalTarget}) and the Coulomb coefficient.
     */
    void addContact(double px, double py, double nx, double ny, double normalTarget, double friction) {
        if (count == max) throw new IllegalStateException("more than " + max + " contacts");
        int k = count++;
        double rx = px - comX, ry = py - comY;
        double ddx = -nx, ddy = -ny;           // into the block: the direction the pusher pushes
        double ttx = -ddy, tty = ddx;          // tangent: d turned by +90 degrees
        dX[k] = ddx;
        dY[k] = ddy;
        dW[k] = rx * ddy - ry * ddx;
        tX[k] = ttx;
        tY[k] = tty;
        tW[k] = rx * tty - ry * ttx;
        // J W J^T with W diagonal: d and t are orthonormal, so the linear parts give wLin and 0.
        ann[k] = wLin + wAng * dW[k] * dW[k];
        ant[k] = wAng * dW[k] * tW[k];
        att[k] = wLin + wAng * tW[k] * tW[k];
        det[k] = ann[k] * att[k] - ant[k] * ant[k]; // > 0: W is positive definite and J_d, J_t independent
        target[k] = normalTarget;
        mu[k] = friction;
        lamN[k] = 0;
        lamT[k] = 0;
    }

    int count() {
        return count;
    }

    /** Normal impulse of contact k accumulated by the last solve. */
    double normalImpulse(int k) {
        return lamN[k];
    }

    /** Tangential impulse of contact k accumulated by the last solve. */
    double tangentImpulse(int k) {
        return lamT[k];
    }

    /**
     * The normal velocity target of a contact found with the pusher at its end-of-step position (the pusher is
     * kinematic: where it will be is known before the solve). depthAtEnd is the overlap there if the block stayed
     * put (pixels; negative is a gap), approach = vp.d the pusher's speed into the block along the contact (px/s),
     * dt the step (s). The block must make room: its point recedes by J_d V dt >= depthAtEnd, i.e.
     * u_n = J_d V - vp.d >= depthAtEnd / dt - vp.d. Testing the end position, not the start, is what keeps a
     * speculative contact from pushing when the disc only sweeps past a corner. The target is capped at 0: an
     * overlap that was there at the start of the step is not removed by velocity (that would add energy) but by
     * {@link #separate}.
     */
    static double normalTarget(double depthAtEnd, double approach, double dt) {
        return Math.min(0, depthAtEnd / dt - approach);
    }

    /**
     * Position correction after the step has been integrated (non-linear Gauss-Seidel, as in Box2D's position
     * solver): the velocity constraints hold the contacts only to first order in dt, and a disc sliding fast along
     * a turning face drifts in by about omega * slip speed * dt^2 per step (a Coriolis term). Each pass re-detects
     * the contacts at the new pose and moves the block out along the deepest one's normal by its overlap beyond
     * the slop, distributing the move over translation and rotation by the mobility W (the direction an impulse
     * there would move the body), so that the contact point moves by exactly that much to first order. Velocities
     * are not changed. The block's pose in s is updated; (cx, cy) is the centre of mass in the body frame.
     * The passes only run when an overlap beyond the slop is found, so a step costs one more detection.
     */
    static void separate(PushState s, BlockContacts contacts, double cx, double cy, double wLin, double wAng) {
        for (int pass = 0; pass < POSITION_ITERATIONS; pass++) {
            int n = contacts.find(s.bx, s.by, s.theta, s.px, s.py, 0);
            int k = -1;
            double deepest = SLOP;
            for (int i = 0; i < n; i++) {
                if (contacts.depth(i) > deepest) {
                    deepest = contacts.depth(i);
                    k = i;
                }
            }
            if (k < 0) return;
            double c = Math.cos(s.theta), sn = Math.sin(s.theta);
            double comX = s.bx + c * cx - sn * cy, comY = s.by + sn * cx + c * cy;
            double rx = contacts.pointX(k) - comX, ry = contacts.pointY(k) - comY;
            double ddx = -contacts.normalX(k), ddy = -contacts.normalY(k);
            double rd = rx * ddy - ry * ddx;
            double lambda = (deepest - SLOP) / (wLin + wAng * rd * rd);
            comX += wLin * ddx * lambda;
            comY += wLin * ddy * lambda;
            s.theta += wAng * rd * lambda;
            c = Math.cos(s.theta);
            sn = Math.sin(s.theta);
            s.bx = comX - (c * cx - sn * cy);
            s.by = comY - (sn * cx + c * cy);
        }
    }

    /** Runs the sweeps with the pusher moving at (pvx, pvy); the result is in (vx, vy, omega). */
    void solve(double pvx, double pvy, int iterations) {
        if (count == 0) {
            if (table) solveTable(); // alone, the table block is exact in one pass
            return;
        }
        for (int it = 0; it < iterations; it++) {
            if (table) solveTable();
            for (int k = 0; k < count; k++) solveContact(k, pvx, pvy);
        }
    }

    private void solveTable() {
        // The total impulse that would stop the twist, given the others: the accumulated one minus M V.
        double jx = tabX - massLin * vx, jy = tabY - massLin * vy, jw = tabW - massAng * omega;
        double e = (jx * jx + jy * jy) / (tableFmax * tableFmax) + jw * jw / (tableTmax * tableTmax);
        if (e <= 1) {
            // Inside the limit surface: the table holds the body; the twist is exactly zero.
            tabX = jx;
            tabY = jy;
            tabW = jw;
            vx = vy = omega = 0;
            return;
        }
        // Outside: the largest wrench in that direction (sliding). Scaling onto the ellipse keeps the direction of
        // the stopping impulse, which is the exact maximum-dissipation wrench for a pure translation or rotation.
        double f = 1 / Math.sqrt(e);
        jx *= f;
        jy *= f;
        jw *= f;
        vx += wLin * (jx - tabX);
        vy += wLin * (jy - tabY);
        omega += wAng * (jw - tabW);
        tabX = jx;
        tabY = jy;
        tabW = jw;
    }

    private void solveContact(int k, double pvx, double pvy) {
        double un = dX[k] * vx + dY[k] * vy + dW[k] * omega - (pvx * dX[k] + pvy * dY[k]) - target[k];
        double ut = tX[k] * vx + tY[k] * vy + tW[k] * omega - (pvx * tX[k] + pvy * tY[k]);
        double ln = lamN[k], lt = lamT[k];
        // Sticking: the impulse change that zeroes both residuals, A^-1 (-u).
        double inv = 1 / det[k];
        double newN = ln + (-att[k] * un + ant[k] * ut) * inv;
        double newT = lt + (ant[k] * un - ann[k] * ut) * inv;
        double m = mu[k];
        if (!(newN >= 0 && Math.abs(newT) <= m * newN)) {
            // Sliding on the cone edge lambda_t = s mu lambda_n, on the side the sticking impulse wanted; the
            // normal residual alone fixes lambda_n: un + ann (x - ln) + ant (s mu x - lt) = 0.
            double s = newT >= 0 ? 1 : -1;
            double den = ann[k] + s * m * ant[k];
            double x = den > 0 ? (ann[k] * ln + ant[k] * lt - un) / den : 0;
            if (x > 0) {
                newN = x;
                newT = s * m * x;
            } else {
                newN = 0; // separating: the pusher does not pull
                newT = 0;
            }
        }
        double cn = newN - ln, ct = newT - lt;
        lamN[k] = newN;
        lamT[k] = newT;
        vx += wLin * (dX[k] * cn + tX[k] * ct);
        vy += wLin * (dY[k] * cn + tY[k] * ct);
        omega += wAng * (dW[k] * cn + tW[k] * ct);
    }
}
