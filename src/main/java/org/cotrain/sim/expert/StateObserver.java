package org.cotrain.sim.expert;

import java.util.List;
import org.cotrain.sim.Observation;
import org.cotrain.sim.PhysicsModel;
import org.cotrain.sim.PushState;

/**
 * The full physical state behind an observation. Observations give positions only (pusher, block pose); the
 * look-ahead also needs velocities. Episodes start at rest and the expert knows every command it sent, so it runs
 * the environment's own (deterministic) model alongside: when its prediction matches the observation (to 1e-3
 * pixels and radians) the predicted velocities are the true ones. When it does not (the expert joined mid-episode,
 * or the environment differs), velocities fall back to finite differences over the last two observations, and
 * to rest when there is only one.
 */
final class StateObserver {

    private static final double MATCH = 1e-3;

    private final PhysicsModel model;
    private final double controlDt, comX, comY; // body-frame centre of mass, for the COM velocity
    private final PushState predicted = new PushState();
    private final PushState estimate = new PushState();
    private boolean havePrediction;
    private int matches, mismatches;

    StateObserver(PhysicsModel model, double comX, double comY) {
        this.model = model;
        this.controlDt = 1.0 / model.params().controlHz();
        this.comX = comX;
        this.comY = comY;
    }

    void reset() {
        havePrediction = false;
        matches = 0;
        mismatches = 0;
    }

    /** The state estimate for the newest observation of the history (owned by the observer; do not keep). */
    PushState update(List<Observation> history) {
        double[] s = history.get(history.size() - 1).state();
        boolean match = havePrediction && Math.abs(predicted.px - s[0]) < MATCH && Math.abs(predicted.py - s[1]) < MATCH
                && Math.abs(predicted.bx - s[2]) < MATCH && Math.abs(predicted.by - s[3]) < MATCH
                && Math.abs(org.cotrain.sim.Pose.wrapAngle(predicted.theta - s[4])) < MATCH;
        if (match) {
            estimate.copyFrom(predicted);
            matches++;
        } else {
            if (havePrediction) mismatches++;
            estimate.pvx = estimate.pvy = estimate.bvx = estimate.bvy = estimate.omega = 0;
            if (history.size() >= 2 && !history.get(history.size() - 2).equals(history.get(history.size() - 1))) {
                double[] p = history.get(history.size() - 2).state();
                estimate.pvx = (s[0] - p[0]) / controlDt;
                estimate.pvy = (s[1] - p[1]) / controlDt;
                double w = org.cotrain.sim.Pose.wrapAngle(s[4] - p[4]) / controlDt;
                // The origin's velocity minus omega x (origin - com) is the centre of mass's velocity.
                double c = Math.cos(s[4]), sn = Math.sin(s[4]);
                double ox = -(c * comX - sn * comY), oy = -(sn * comX + c * comY); // origin - com, workspace
                estimate.bvx = (s[2] - p[2]) / controlDt + w * oy;
                estimate.bvy = (s[3] - p[3]) / controlDt - w * ox;
                estimate.omega = w;
            }
        }
        // Positions always from the observation: the environment's state is the truth.
        estimate.px = s[0];
        estimate.py = s[1];
        estimate.bx = s[2];
        estimate.by = s[3];
        estimate.theta = s[4];
        havePrediction = false;
        return estimate;
    }

    /** Records the commands the expert sends next, so the next observation can be predicted. */
    void commanded(double[][] commands) {
        predicted.copyFrom(estimate);
        for (double[] c : commands) model.controlStep(predicted, c[0], c[1]);
        havePrediction = true;
    }

    int matches() {
        return matches;
    }

    int mismatches() {
        return mismatches;
    }
}
