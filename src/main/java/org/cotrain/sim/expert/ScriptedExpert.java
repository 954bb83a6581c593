package org.cotrain.sim.expert;

import java.util.List;
import java.util.SplittableRandom;
import org.cotrain.sim.BlockShape;
import org.cotrain.sim.Coverage;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.Observation;
import org.cotrain.sim.PhysicsModel;
import org.cotrain.sim.PhysicsParams;
import org.cotrain.sim.Policy;
import org.cotrain.sim.Pose;
import org.cotrain.sim.PushState;

/**
 * A scripted pushing expert: a push-primitive planner with look-ahead on the environment's own physics model,
 * closed loop at the control rate, one command per call. Shape- and goal-generic: it works from the outline, the
 * goal pose and the physics constants of its {@link EnvConfig}; the {@link ExpertStyle} makes it the target
 * (teleoperator-like) or the source (planner-like) expert.
 *
 * <p>The loop: (1) PLAN: for every candidate contact (points on the faces, the nooks) and push direction, rank by
 * the quasi-static motion cone's first-order gain per command (cheap), then simulate the best few on a copy of
 * the state with the environment's model: approach at rest at the pre-contact point, push at a constant speed,
 * release, for every push length; score = cost reduction / (approach + push commands), success reached on the way
 * beats everything. (2) APPROACH: follow a path around the block (ring of waypoints outside its bounding circle,
 * {@link ApproachPlanner}) to the pre-contact point, with feedforward commands ({@link ApproachTrajectory}); re-plan
 * if the block moved. (3) PUSH: every command re-simulate "stop now" against "go on for k more" from the exact
 * current state and stop at the best; (4) RELEASE: back off from the block for a command or two, then plan again.
 * Near the goal the cost is small, so pushes are slow and short: the last pixels and degrees are where pushing
 * is hard, and the look-ahead picks the push length that lands inside the success region (the episode ends at the
 * first command that reaches it).
 *
 * <p>Velocities are not observed; {@link StateObserver} reconstructs them by running the same model on the sent
 * commands. Not thread-safe: one instance per episode at a time.
 */
public final class ScriptedExpert implements Policy {

    private enum Mode { PLAN, APPROACH, SETTLE, PUSH, RELEASE }

    private static final double WORKSPACE = 512;
    private static final double GAP = 3;            // pixels between the pusher and the face at the pre-contact point
    private static final double CLEARANCE_MARGIN = 8; // pixels beyond the pusher radius kept on approach moves
    private static final double RING_MARGIN = 14;   // pixels beyond the bounding circle for the ring of waypoints
    private static final double ENTRY = 45;         // pixels out along the contact normal for the last straight leg
    private static final int TOP_K = 10;            // candidates simulated per plan
    private static final int PATIENCE = 4;          // push commands without improvement before a look-ahead stops
    private static final int OVERHEAD = 3;          // commands a plan costs beyond approach and push (settle, release)
    private static final double MOVED_POS = 1.0, MOVED_ANGLE = 0.012; // block motion that invalidates an approach
    private static final double EDGE_WEIGHT = 3;    // cost per pixel the centroid strays beyond edgeMargin
    private static final double REST_SPEED = 3, REST_OMEGA = 0.03;   // px/s and rad/s: the block is at rest

    private final EnvConfig config;
    private final ExpertStyle style;
    private final BlockShape shape;
    private final PhysicsParams params;
    private final PhysicsModel model;
    private final Coverage coverage;
    private final ContactCandidates contacts;
    private final ApproachPlanner planner;
    private final ApproachTrajectory trajectory;
    private final StateObserver observer;
    private final HandNoise noise;
    private final double[] nookOffsets; // radians

    // Constants of the scene.
    private final double gx, gy, gTheta, gcx, gcy;  // goal pose and goal centroid (workspace)
    private final double cbx, cby;                  // area centroid, body frame (the cost's reference point)
    private final double comX, comY;                // centre of mass, body frame
    private final double rho;                       // radius of gyration about the centroid, pixels
    private final double lsLever;                   // limit surface c = m_max / f_max, pixels
    private final double radius, mu, cone, ringRadius, controlDt;
    private final double edgeMargin;                // pixels from the edges the centroid should keep
    private final boolean poseCriterion;
    private final double successCoverage, positionTolerance, angleTolerance;
    private final int releaseCommands;

    // Scratch, reused across calls.
    private final PushState sim = new PushState(), fork = new PushState();
    private final double[] worldOutline, path, twist = new double[3], cmd = new double[2], rel = new double[2];
    private final int outlineN;
    private final double[] releaseOutline, near = new double[2];
    private final int[] topContact = new int[TOP_K];
    private final double[] topDirX = new double[TOP_K], topDirY = new double[TOP_K], topPre = new double[TOP_K];
    private final double[] topApproach = new double[TOP_K], topScore = new double[TOP_K];
    private final int[] topLength = new int[TOP_K];
    private int topCount;

    // Episode state.
    private SplittableRandom random = new SplittableRandom(0);
    private Mode mode = Mode.PLAN;
    private boolean rotating;                 // alignFirst styles: still in the rotation phase
    private double anchorX, anchorY;          // where the centroid is held while rotating
    private boolean started;
    private double p0x, p0y, dirX, dirY, speed; // the current push: pre-contact point, unit direction, px/command
    private int pushStep, plannedPush, settleCount, releaseCount;
    private double planBx, planBy, planTheta;   // block pose the current plan was made for
    private double lastPlanCost = Double.POSITIVE_INFINITY;
    private int lastContact = -1, stalls;
    private double evalBestCost;
    private int evalSuccessAt;

    // Statistics of the episode (for tests and the measurement).
    private int plans, nookPushes, slidingPushes, pushes;
    private final int[] modeCommands = new int[Mode.values().length];

    public ScriptedExpert(EnvConfig config, ExpertStyle style) {
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (style == null) throw new IllegalArgumentException("style must not be null");
        this.config = config;
        this.style = style;
        this.shape = config.shape();
        this.params = config.physics();
        this.model = PhysicsModel.create(shape, params);
        this.coverage = new Coverage(shape);
        Pose goal = config.goal();
        gx = goal.x();
        gy = goal.y();
        gTheta = goal.theta();
        cbx = shape.centroidX();
        cby = shape.centroidY();
        gcx = gx + Math.cos(gTheta) * cbx - Math.sin(gTheta) * cby;
        gcy = gy + Math.sin(gTheta) * cbx + Math.cos(gTheta) * cby;
        comX = cbx;
        comY = cby + params.comOffset();
        rho = Math.sqrt(shape.inertiaAboutCentroid(1));
        lsLever = shape.meanDistanceFrom(comX, comY);
        radius = params.pusherRadius();
        mu = params.pusherFriction();
        cone = Math.atan(mu);
        controlDt = 1.0 / params.controlHz();
        ringRadius = shape.radiusAbout(cbx, cby) + radius + RING_MARGIN;
        edgeMargin = shape.radiusAbout(cbx, cby) + radius;
        poseCriterion = config.string("success.criterion").equals("pose");
        successCoverage = config.number("success.coverage");
        positionTolerance = config.number("success.position_tolerance");
        angleTolerance = Math.toRadians(config.number("success.angle_tolerance_deg"));
        // The quasi-static block stops with the pusher; the dynamic one coasts a little (table friction
        // decelerates it at mu g), so its look-ahead follows the release a command longer.
        releaseCommands = params.model().equals(PhysicsParams.QUASI_STATIC) ? 1 : 2;
        contacts = new ContactCandidates(shape, radius, style.contactSpacing(), style.cornerMargin(),
                style.nookAnglesDeg().length > 0);
        outlineN = shape.outline().length;
        worldOutline = new double[2 * outlineN];
        releaseOutline = new double[2 * outlineN];
        planner = new ApproachPlanner(16, radius + CLEARANCE_MARGIN, 0, WORKSPACE);
        path = new double[2 * planner.maxPoints()];
        trajectory = new ApproachTrajectory(planner.maxPoints(), style.approachSpeed(), style.approachAccel(),
                params.kp(), params.kv(), controlDt);
        observer = new StateObserver(model, comX, comY);
        noise = new HandNoise(style.noiseSigma(), style.noiseTau(), controlDt);
        nookOffsets = new double[style.nookAnglesDeg().length];
        for (int i = 0; i < nookOffsets.length; i++) nookOffsets[i] = Math.toRadians(style.nookAnglesDeg()[i]);
    }

    public ExpertStyle style() {
        return style;
    }

    public EnvConfig config() {
        return config;
    }

    @Override
    public int historyLength() {
        return 2;
    }

    @Override
    public void reset(long seed) {
        random = new SplittableRandom(seed);
        noise.reset(seed ^ 0x6A09E667F3BCC909L);
        observer.reset();
        mode = Mode.PLAN;
        started = false;
        lastPlanCost = Double.POSITIVE_INFINITY;
        lastContact = -1;
        stalls = 0;
        plans = nookPushes = slidingPushes = pushes = 0;
        java.util.Arrays.fill(modeCommands, 0);
    }

    @Override
    public double[][] act(List<Observation> history) {
        if (history == null || history.isEmpty()) throw new IllegalArgumentException("history must not be empty");
        PushState est = observer.update(history);
        if (!started) {
            started = true;
            rotating = style.alignFirst();
            setAnchor(est);
        }
        updatePhase(est);
        decide(est);
        modeCommands[mode.ordinal()]++;
        double x = cmd[0], y = cmd[1];
        if (style.noiseSigma() > 0) {
            // Careful near the goal, like a person: the wobble shrinks with the remaining error.
            double scale = Math.max(0.25, Math.min(1, fullCost(est.bx, est.by, est.theta) / 40));
            x += scale * noise.next();
            y += scale * noise.y();
        }
        double[][] out = {{clamp(x), clamp(y)}};
        observer.commanded(out);
        return out;
    }

    /** Plans made in this episode. */
    public int plans() {
        return plans;
    }

    /** Pushes started in this episode, and how many of them went into a nook or slid along a face. */
    public int pushes() {
        return pushes;
    }

    public int nookPushes() {
        return nookPushes;
    }

    public int slidingPushes() {
        return slidingPushes;
    }

    /** Commands sent in each mode so far: plan (waiting for the block to settle), approach, settle, push, release. */
    public int[] modeCommands() {
        return modeCommands.clone();
    }

    /** Observations whose state the observer predicted exactly (velocities known), and those it did not. */
    public int observerMatches() {
        return observer.matches();
    }

    public int observerMismatches() {
        return observer.mismatches();
    }

    // ---- the mode machine ---------------------------------------------------------------------------------------

    private void decide(PushState est) {
        for (int guard = 0; guard < 6; guard++) {
            switch (mode) {
                case APPROACH -> {
                    if (blockMoved(est)) {
                        mode = Mode.PLAN;
                        continue;
                    }
                    if (!trajectory.finished()) {
                        trajectory.next(cmd);
                        return;
                    }
                    mode = Mode.SETTLE;
                    settleCount = 0;
                }
                case SETTLE -> {
                    if (blockMoved(est)) {
                        mode = Mode.PLAN;
                        continue;
                    }
                    double off = Math.hypot(est.px - p0x, est.py - p0y), v = Math.hypot(est.pvx, est.pvy);
                    if ((off < 1.5 && v < 20) || settleCount >= 4) {
                        mode = Mode.PUSH;
                        pushStep = 0;
                        continue;
                    }
                    settleCount++;
                    cmd[0] = p0x;
                    cmd[1] = p0y;
                    return;
                }
                case PUSH -> {
                    int horizon = Math.max(3, plannedPush - pushStep + PATIENCE);
                    int k = evaluatePush(est, false, p0x, p0y, dirX, dirY, speed, pushStep,
                            Math.min(horizon, style.maxPushCommands() - pushStep));
                    if (k == 0) {
                        mode = Mode.RELEASE;
                        releaseCount = 0;
                        continue;
                    }
                    plannedPush = pushStep + k;
                    pushStep++;
                    pushCommand(pushStep, cmd);
                    return;
                }
                case RELEASE -> {
                    if (releaseCount < releaseCommands) {
                        releaseCount++;
                        releaseCommand(est, cmd);
                        return;
                    }
                    mode = Mode.PLAN;
                }
                case PLAN -> {
                    if (Math.hypot(est.bvx, est.bvy) > REST_SPEED || Math.abs(est.omega) > REST_OMEGA) {
                        // The (dynamic) block still coasts: back off and wait for it to settle before planning.
                        releaseCommand(est, cmd);
                        return;
                    }
                    if (!plan(est)) {
                        releaseCommand(est, cmd);
                        return;
                    }
                    mode = Mode.APPROACH;
                }
            }
        }
        cmd[0] = est.px;
        cmd[1] = est.py;
    }

    private boolean blockMoved(PushState est) {
        return Math.hypot(est.bx - planBx, est.by - planBy) > MOVED_POS
                || Math.abs(Pose.wrapAngle(est.theta - planTheta)) > MOVED_ANGLE;
    }

    /** The k-th command of the current push: ahead of the pre-contact point by k pushes and a two-push lead. */
    private void pushCommand(int k, double[] out) {
        double along = speed * (k + 2);
        out[0] = p0x + dirX * along;
        out[1] = p0y + dirY * along;
    }

    /**
     * Backs off from the block: a few pixels straight away from the nearest point of its outline (not simply
     * against the last push, which could press on another face, e.g. in a nook).
     */
    private void releaseCommand(PushState s, double[] out) {
        double c = Math.cos(s.theta), sn = Math.sin(s.theta);
        for (int i = 0; i < outlineN; i++) {
            double[] v = shape.outline()[i];
            releaseOutline[2 * i] = s.bx + c * v[0] - sn * v[1];
            releaseOutline[2 * i + 1] = s.by + sn * v[0] + c * v[1];
        }
        Clearance.nearestBoundaryPoint(releaseOutline, outlineN, s.px, s.py, near);
        double bx = s.px - near[0], by = s.py - near[1];
        double l = Math.hypot(bx, by);
        if (l < 1e-9 || Clearance.inside(releaseOutline, outlineN, s.px, s.py)) {
            bx = -bx;
            by = -by;
            if (l < 1e-9) { // on the outline exactly: away from the body origin
                bx = s.px - s.bx;
                by = s.py - s.by;
            }
            l = Math.max(1e-9, Math.hypot(bx, by));
        }
        out[0] = s.px + bx / l * 6;
        out[1] = s.py + by / l * 6;
    }

    // ---- costs --------------------------------------------------------------------------------------------------

    private void setAnchor(PushState est) {
        // Where the block is held while it rotates: its centroid, kept off the workspace edges so there is room
        // for the pusher all around it.
        double c = Math.cos(est.theta), s = Math.sin(est.theta);
        double lo = ringRadius + radius, hi = WORKSPACE - lo;
        anchorX = Math.max(lo, Math.min(hi, est.bx + c * cbx - s * cby));
        anchorY = Math.max(lo, Math.min(hi, est.by + s * cbx + c * cby));
    }

    private void updatePhase(PushState est) {
        if (!style.alignFirst()) return;
        double dTheta = Math.abs(Pose.wrapAngle(est.theta - gTheta));
        if (rotating && dTheta < Math.toRadians(style.alignEnterDeg())) {
            rotating = false;
        } else if (!rotating && dTheta > Math.toRadians(style.alignExitDeg())) {
            rotating = true;
            setAnchor(est);
        }
    }

    /** The style's cost of a block pose (pixels): what the planner reduces. */
    private double cost(double bx, double by, double theta) {
        double c = Math.cos(theta), s = Math.sin(theta);
        double cx = bx + c * cbx - s * cby, cy = by + s * cbx + c * cby;
        double dTheta = Math.abs(Pose.wrapAngle(theta - gTheta));
        // A block pushed against the workspace edge cannot be reached from behind (commands are clamped), so
        // leaving the box where the pusher fits all around it costs more than any progress it buys.
        double out = Math.max(0, edgeMargin - cx) + Math.max(0, cx - (WORKSPACE - edgeMargin))
                + Math.max(0, edgeMargin - cy) + Math.max(0, cy - (WORKSPACE - edgeMargin));
        return EDGE_WEIGHT * out + poseCost(cx, cy, dTheta);
    }

    private double poseCost(double cx, double cy, double dTheta) {
        if (rotating) return rho * dTheta + style.anchorWeight() * Math.hypot(cx - anchorX, cy - anchorY);
        // Euclidean in (centroid, rho * angle), not the sum: with the sum, a block at the goal position but turned
        // is a local minimum (every push that rotates it also moves it, and the sum gets worse); with the norm a
        // small translation costs little next to the angle it corrects, so the errors fall together.
        return Math.hypot(Math.hypot(cx - gcx, cy - gcy), style.angleWeight() * rho * dTheta);
    }

    /** The full pose error (pixels), whatever the phase. */
    private double fullCost(double bx, double by, double theta) {
        double c = Math.cos(theta), s = Math.sin(theta);
        double cx = bx + c * cbx - s * cby, cy = by + s * cbx + c * cby;
        return Math.hypot(cx - gcx, cy - gcy) + rho * Math.abs(Pose.wrapAngle(theta - gTheta));
    }

    private boolean success(PushState s) {
        if (poseCriterion) {
            return Math.hypot(s.bx - gx, s.by - gy) <= positionTolerance
                    && Math.abs(Pose.wrapAngle(s.theta - gTheta)) <= angleTolerance;
        }
        return coverage.coverage(s.bx, s.by, s.theta, gx, gy, gTheta) > successCoverage;
    }

    // ---- planning -----------------------------------------------------------------------------------------------

    /** Chooses the next push and its approach path; false when no push is possible from here. */
    private boolean plan(PushState est) {
        plans++;
        planBx = est.bx;
        planBy = est.by;
        planTheta = est.theta;
        double j0 = cost(est.bx, est.by, est.theta);
        // A push that did not help (or the block did not settle where predicted) counts as a stall; after a few,
        // the expert explores among its best candidates instead of repeating itself.
        if (j0 > lastPlanCost - 0.25) stalls++;
        else stalls = 0;
        lastPlanCost = j0;
        double c = Math.cos(est.theta), s = Math.sin(est.theta);
        double[][] o = shape.outline();
        for (int i = 0; i < outlineN; i++) {
            worldOutline[2 * i] = est.bx + c * o[i][0] - s * o[i][1];
            worldOutline[2 * i + 1] = est.by + s * o[i][0] + c * o[i][1];
        }
        double ccx = est.bx + c * cbx - s * cby, ccy = est.by + s * cbx + c * cby;
        planner.setScene(worldOutline, outlineN, ccx, ccy, ringRadius, est.px, est.py);
        double pushSpeed = Math.max(style.pushSpeedMin(),
                Math.min(style.pushSpeedMax(), style.pushSpeedGain() * j0));

        // (1) Rank every (contact, direction) by the motion cone's first-order gain per command.
        topCount = 0;
        for (int i = 0; i < contacts.count; i++) {
            if (i == lastContact && stalls > 0) continue; // a push that just failed is not retried at once
            double bnx = contacts.nx[i], bny = contacts.ny[i];
            double wnx = c * bnx - s * bny, wny = s * bnx + c * bny;
            double pbx = contacts.cx[i] + bnx * GAP, pby = contacts.cy[i] + bny * GAP;
            double px = est.bx + c * pbx - s * pby, py = est.by + s * pbx + c * pby;
            double length = planner.pathTo(px, py, wnx, wny, ENTRY, null);
            if (length == Double.POSITIVE_INFINITY) continue;
            double approach = length / (style.approachSpeed() * controlDt) + OVERHEAD;
            boolean nook = contacts.nook[i];
            int directions = nook ? nookOffsets.length : style.coneFractions().length;
            for (int j = 0; j < directions; j++) {
                double off = nook ? nookOffsets[j] : style.coneFractions()[j] * cone;
                // Push direction in the body frame: the inward normal turned by off.
                double dbx = -(bnx * Math.cos(off) - bny * Math.sin(off));
                double dby = -(bnx * Math.sin(off) + bny * Math.cos(off));
                double rx = contacts.sx[i] - comX, ry = contacts.sy[i] - comY;
                // A nook holds the pusher between two faces: treat it as one sticking contact with a wide cone.
                double effMu = nook ? Math.tan(Math.min(1.5, Math.PI / 4 + cone)) : mu;
                if (!MotionCone.push(rx, ry, -bnx, -bny, dbx, dby, effMu, lsLever, twist)) continue;
                double rate = costRate(est, twist); // cost decrease per pixel of pusher travel
                if (!(rate > 1e-4)) continue;
                double gain = Math.min(0.9 * j0, rate * pushSpeed * style.maxPushCommands());
                double pre = gain / (approach + gain / (rate * pushSpeed) + OVERHEAD);
                if (nook && rotating) pre *= style.nookBonus();
                insertTop(i, c * dbx - s * dby, s * dbx + c * dby, pre, approach);
            }
        }
        if (topCount == 0) return false;

        // (2) Simulate the best few on the environment's model; pick the best gain per command.
        int best = -1;
        double bestScore = Double.NEGATIVE_INFINITY;
        int bestLen = 0;
        for (int t = 0; t < topCount; t++) {
            int i = topContact[t];
            double bnx = contacts.nx[i], bny = contacts.ny[i];
            double pbx = contacts.cx[i] + bnx * GAP, pby = contacts.cy[i] + bny * GAP;
            double px = est.bx + c * pbx - s * pby, py = est.by + s * pbx + c * pby;
            int k = evaluatePush(est, true, px, py, topDirX[t], topDirY[t], pushSpeed, 0, style.maxPushCommands());
            double score;
            if (evalSuccessAt > 0) {
                score = 1e6 - topApproach[t] - evalSuccessAt;
            } else {
                score = (j0 - evalBestCost) / (topApproach[t] + k + OVERHEAD);
                if (score > 0 && contacts.nook[i] && rotating) score *= style.nookBonus();
            }
            topScore[t] = score;
            topLength[t] = k;
            if (score > bestScore) {
                bestScore = score;
                best = t;
                bestLen = k;
            }
        }
        if (stalls >= 3 && bestScore < 1e5) {
            // Stuck: take a random one of the candidates that still help a little, or any of them.
            int pick = random.nextInt(topCount);
            for (int tries = 0; tries < topCount && topScore[pick] <= 0; tries++) pick = random.nextInt(topCount);
            best = pick;
            bestLen = Math.max(topLength[pick], 3);
        } else if (bestScore <= 0) {
            bestLen = Math.max(bestLen, 3); // nothing helps by the look-ahead: push anyway, then look again
        }
        int i = topContact[best];
        lastContact = i;
        double bnx = contacts.nx[i], bny = contacts.ny[i];
        double wnx = c * bnx - s * bny, wny = s * bnx + c * bny;
        double pbx = contacts.cx[i] + bnx * GAP, pby = contacts.cy[i] + bny * GAP;
        p0x = est.bx + c * pbx - s * pby;
        p0y = est.by + s * pbx + c * pby;
        dirX = topDirX[best];
        dirY = topDirY[best];
        speed = pushSpeed;
        plannedPush = bestLen;
        pushes++;
        if (contacts.nook[i]) nookPushes++;
        else if (Math.abs(Math.acos(Math.max(-1, Math.min(1, -(dirX * wnx + dirY * wny))))) > cone) slidingPushes++;
        int points = (int) planner.pathTo(p0x, p0y, wnx, wny, ENTRY, path);
        if (points < 2) {
            path[0] = est.px;
            path[1] = est.py;
            path[2] = p0x;
            path[3] = p0y;
            points = 2;
        }
        trajectory.start(path, points);
        return true;
    }

    /** How fast the cost falls per pixel of pusher travel for this centre-of-mass twist (workspace frame). */
    private double costRate(PushState est, double[] bodyTwist) {
        double c = Math.cos(est.theta), s = Math.sin(est.theta);
        // Body-frame twist of the centre of mass to the workspace, then to the body origin's velocity:
        // v_origin = v_com + omega x (origin - com).
        double vx = c * bodyTwist[0] - s * bodyTwist[1], vy = s * bodyTwist[0] + c * bodyTwist[1];
        double w = bodyTwist[2];
        double ox = -(c * comX - s * comY), oy = -(s * comX + c * comY);
        double vox = vx - w * oy, voy = vy + w * ox;
        double eps = 0.5;
        double j0 = cost(est.bx, est.by, est.theta);
        return (j0 - cost(est.bx + eps * vox, est.by + eps * voy, est.theta + eps * w)) / eps;
    }

    private void insertTop(int contactIndex, double dx, double dy, double pre, double approach) {
        if (topCount == TOP_K && pre <= topPre[TOP_K - 1]) return;
        int k = topCount < TOP_K ? topCount++ : TOP_K - 1;
        while (k > 0 && topPre[k - 1] < pre) {
            topContact[k] = topContact[k - 1];
            topDirX[k] = topDirX[k - 1];
            topDirY[k] = topDirY[k - 1];
            topPre[k] = topPre[k - 1];
            topApproach[k] = topApproach[k - 1];
            k--;
        }
        topContact[k] = contactIndex;
        topDirX[k] = dx;
        topDirY[k] = dy;
        topPre[k] = pre;
        topApproach[k] = approach;
    }

    /**
     * Look-ahead of one push on the environment's model: from {@code start} (or, with {@code fromRest}, from the
     * pusher at rest at the pre-contact point and the block at rest), push commands k0+1, k0+2, ... and, after each,
     * a release on a copy. Returns how many more push commands give the lowest cost after release (0: stop now);
     * sets {@link #evalBestCost}, and {@link #evalSuccessAt} to the first command count that reaches success (0 if
     * none), in which case that count is returned.
     */
    private int evaluatePush(PushState start, boolean fromRest, double px, double py, double dx, double dy,
                             double pushSpeed, int k0, int horizon) {
        sim.copyFrom(start);
        if (fromRest) {
            sim.px = px;
            sim.py = py;
            sim.pvx = sim.pvy = sim.bvx = sim.bvy = sim.omega = 0;
        }
        evalSuccessAt = 0;
        double best = fromRest ? cost(sim.bx, sim.by, sim.theta) : releaseCost(sim);
        if (evalSuccessAt > 0) {
            evalSuccessAt = 0; // success while releasing now: stopping is right
            evalBestCost = best;
            return 0;
        }
        int bestK = 0;
        for (int k = 1; k <= horizon; k++) {
            double along = pushSpeed * (k0 + k + 2);
            model.controlStep(sim, clamp(px + dx * along), clamp(py + dy * along));
            if (success(sim)) {
                evalSuccessAt = k;
                bestK = k;
                best = -1;
                break;
            }
            double j = releaseCost(sim);
            if (evalSuccessAt > 0) {
                evalSuccessAt = k + 1;
                bestK = k;
                best = -1;
                break;
            }
            if (j < best - 1e-9) {
                best = j;
                bestK = k;
            } else if (k - bestK >= PATIENCE) {
                break;
            }
        }
        evalBestCost = best;
        return bestK;
    }

    /** The cost after releasing from s (on a copy); sets evalSuccessAt to 1 if the release reaches success. */
    private double releaseCost(PushState s) {
        fork.copyFrom(s);
        for (int r = 0; r < releaseCommands; r++) {
            releaseCommand(fork, rel);
            model.controlStep(fork, clamp(rel[0]), clamp(rel[1]));
            if (success(fork)) {
                evalSuccessAt = 1;
                return -1;
            }
        }
        return cost(fork.bx, fork.by, fork.theta);
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(WORKSPACE, v));
    }
}
