/**
 * Layers with parameters and gradients, built from {@code ops}: Linear, LayerNorm, attention, the transformer
 * encoder and decoder layers, the ResNet-18 image encoder with spatial softmax, dropout. May import ops, tensor,
 * nativelib.
 */
package org.cotrain.nn;
