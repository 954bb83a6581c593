package org.cotrain.sim;

/**
 * The Wilson score interval for a success rate: unlike the normal approximation it stays inside [0, 1] and is
 * honest at 0 or n successes, which small evaluation budgets hit often.
 */
public final class Wilson {

    /** z for a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    private Wilson() {}

    /** {low, high} of the 95% interval for {@code successes} out of {@code trials}. */
    public static double[] interval95(int successes, int trials) {
        return interval(successes, trials, Z95);
    }

    public static double[] interval(int successes, int trials, double z) {
        if (trials <= 0 || successes < 0 || successes > trials) {
            throw new IllegalArgumentException(successes + " successes out of " + trials + " trials");
        }
        double n = trials, p = successes / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
