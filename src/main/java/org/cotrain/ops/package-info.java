/**
 * The op stack's Java face: {@code Ops} checks shapes and dispatches every op to the tensor's backend (the one
 * path from a layer to a kernel). May import tensor.
 */
package org.cotrain.ops;
