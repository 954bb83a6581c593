/**
 * The planar-pushing sandbox: the Push-T environment (physics, contacts, coverage, rendering, videos), its presets
 * and shifts, the evaluator with matched initial conditions and Wilson intervals, and the scripted experts
 * ({@code sim.expert}). Knows policies only through {@code Policy} and {@code BatchPolicy}. May import config, data, io.
 */
package org.cotrain.sim;
