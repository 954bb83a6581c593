/**
 * Diffusion Policy's DP-T policies: the transformer denoiser, the low-dim and image policies (training loss,
 * conditioning, sampling, receding-horizon execution) and their adapters to the sandbox. May import sim, data, config,
 * diffusion, nn, ops, io, random, tensor.
 */
package org.cotrain.policy;
