/**
 * Counter-based random numbers: Philox 4x32 and the named streams ({@code Streams}) that make every draw of a run
 * (noise, timesteps, dropout, data order) a pure function of the seed, on every backend. Imports nothing of cotrain.
 */
package org.cotrain.random;
