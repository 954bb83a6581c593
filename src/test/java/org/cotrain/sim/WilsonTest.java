package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WilsonTest {

    @Test
    void matchesPublishedValues() {
        // Reference values computed separately in Python (the same as statsmodels proportion_confint(method="wilson")).
        assertArrayEquals(new double[] {0.0, 0.27753}, Wilson.interval95(0, 10), 1e-5);
        assertArrayEquals(new double[] {0.23659, 0.76341}, Wilson.interval95(5, 10), 1e-5);
        assertArrayEquals(new double[] {0.72247, 1.0}, Wilson.interval95(10, 10), 1e-5);
        assertArrayEquals(new double[] {0.86250, 0.96568}, Wilson.interval95(93, 100), 1e-5);
    }

    @Test
    void rejectsImpossibleCounts() {
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval95(3, 2));
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval95(0, 0));
    }
}
