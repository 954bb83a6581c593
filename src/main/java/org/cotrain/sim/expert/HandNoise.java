package org.cotrain.sim.expert;

import java.util.SplittableRandom;

/**
 * Smooth, hand-like wobble added to a teleoperator's commands: a two-dimensional Ornstein-Uhlenbeck process
 * (exponentially correlated Gaussian noise), x_{k+1} = a x_k + sigma sqrt(1 - a^2) N(0, 1) with a = exp(-dt / tau), so
 * its stationary standard deviation is sigma pixels and it drifts over about tau seconds instead of jittering at
 * the command rate. Seeded: the same seed gives the same wobble.
 */
final class HandNoise {

    private final double sigma, a, b;
    private SplittableRandom random = new SplittableRandom(0);
    private double x, y;

    /**
     * @param sigma     stationary standard deviation per axis, pixels
     * @param tau       correlation time, seconds
     * @param controlDt seconds per command
     */
    HandNoise(double sigma, double tau, double controlDt) {
        if (!(sigma >= 0)) throw new IllegalArgumentException("hand noise sigma must be >= 0, got " + sigma);
        if (!(tau > 0)) throw new IllegalArgumentException("hand noise tau must be > 0, got " + tau);
        this.sigma = sigma;
        this.a = Math.exp(-controlDt / tau);
        this.b = Math.sqrt(1 - a * a);
    }

    /** Restarts the process from its stationary distribution. */
    void reset(long seed) {
        random = new SplittableRandom(seed);
        x = sigma * random.nextGaussian();
        y = sigma * random.nextGaussian();
    }

    /** Advances one command and returns the x offset; {@link #y()} gives the matching y offset. */
    double next() {
        x = a * x + sigma * b * random.nextGaussian();
        y = a * y + sigma * b * random.nextGaussian();
        return x;
    }

    double y() {
        return y;
    }
}
