/**
 * The Push-T experts: a planner over contact candidates and motion cones, with styles that stand for human
 * teleoperation (target) and a planner (source). Part of the sim layer.
 */
package org.cotrain.sim.expert;
