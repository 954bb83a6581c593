/**
 * Diffusion: beta schedules, the DDPM and DDIM schedulers (training noise and sampling steps) and the sampler that
 * runs a denoiser from noise to an action chunk. May import ops and tensor.
 */
package org.cotrain.diffusion;
