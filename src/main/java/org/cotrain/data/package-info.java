/**
 * Demonstrations: robomimic-layout HDF5 reading and writing, normalisers, the sequence sampler of DP's windows,
 * mixtures of datasets (cotraining weights, domain labels, noise-aware mixing) and the prefetching batch loader.
 * May import config, ops, io, random, tensor.
 */
package org.cotrain.data;
