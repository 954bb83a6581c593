/**
 * Experiments: the demo, cotraining and ambient sweeps (grids, points, results, plots; run here or as a Slurm job
 * array) and policy evaluation for them. May import train and everything below.
 */
package org.cotrain.experiment;
