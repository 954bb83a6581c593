/**
 * Ambient diffusion for corrupt data: per-dataset noise levels t_n, the noise-level classifier and its annotations,
 * and the mixing that draws t before the dataset. May import data, config, optim, nn, ops, io, random, tensor.
 */
package org.cotrain.ambient;
