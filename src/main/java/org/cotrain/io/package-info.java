/**
 * Files: safetensors checkpoints ({@code Safetensors}), writes that never leave a half-written file
 * ({@code AtomicFiles}), run-directory locks ({@code DirectoryLock}) and a small JSON writer. May import tensor.
 */
package org.cotrain.io;
