/**
 * Optimisation below the models that use it: AdamW, the EMA copy of a model and its decay, learning-rate schedules.
 * May import nn, ops, io, tensor.
 */
package org.cotrain.optim;
