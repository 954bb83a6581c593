/**
 * Diffusion Policy's YAML configs: the reader (interpolation, {@code ${eval:...}}), the schema with its error
 * messages that name the key, the presets, and one typed record per section. May import diffusion, nn, ops.
 */
package org.cotrain.config;
