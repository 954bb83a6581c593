/**
 * The training loop: {@code Trainer} (batches, loss, AdamW, EMA, validation, checkpoints, exact resume), run
 * directories and their rules, metrics and the loss plot. May import policy, ambient and everything below.
 */
package org.cotrain.train;
