/**
 * Files: safetensors ({@code Safetensors}), the checkpoint's layout ({@code Checkpoint}: path, metadata keys, name
 * prefixes), writes that never leave a half-written file
 * ({@code AtomicFiles}), run-directory locks ({@code DirectoryLock}) and a small JSON writer. May import tensor.
 */
package org.cotrain.io;
