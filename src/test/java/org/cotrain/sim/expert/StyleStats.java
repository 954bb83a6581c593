package org.cotrain.sim.expert;

import java.util.List;

/**
 * Style statistics over episodes, from the recorded errors (centroid distance to the goal's centroid, pixels;
 * angle error, radians). Only episodes that start far from the goal in both position and angle say anything
 * about the order in which the errors fall, so the others are left out.
 */
final class StyleStats {

    static final double ANGLE_TOLERANCE = Math.toRadians(10);
    static final double MIN_POSITION = 40, MIN_ANGLE = Math.toRadians(30);

    private StyleStats() {}

    /**
     * Orientation first: the fraction of informative episodes in which the angle error first gets within
     * {@link #ANGLE_TOLERANCE} while the position error is still above half its initial value.
     */
    static double alignFirstFraction(List<ExpertEpisode> eps) {
        int informative = 0, early = 0;
        for (ExpertEpisode e : eps) {
            double[] p = e.positionError(), a = e.angleError();
            if (p[0] < MIN_POSITION || a[0] < MIN_ANGLE) continue;
            informative++;
            for (int t = 0; t < a.length; t++) {
                if (a[t] < ANGLE_TOLERANCE) {
                    if (p[t] > 0.5 * p[0]) early++;
                    break;
                }
            }
        }
        return informative == 0 ? Double.NaN : (double) early / informative;
    }

    /**
     * Together: the fraction of informative episodes in which, at the first command where either normalised error
     * (error / initial error) has fallen below one half, the other has fallen below 0.8 as well, i.e. neither error
     * is reduced while the other stays put.
     */
    static double togetherFraction(List<ExpertEpisode> eps) {
        int informative = 0, together = 0;
        for (ExpertEpisode e : eps) {
            double[] p = e.positionError(), a = e.angleError();
            if (p[0] < MIN_POSITION || a[0] < MIN_ANGLE) continue;
            informative++;
            for (int t = 0; t < a.length; t++) {
                double np = p[t] / p[0], na = a[t] / a[0];
                if (np < 0.5 || na < 0.5) {
                    if (np < 0.8 && na < 0.8) together++;
                    break;
                }
            }
        }
        return informative == 0 ? Double.NaN : (double) together / informative;
    }
}
