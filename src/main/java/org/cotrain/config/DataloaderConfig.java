package org.cotrain.config;

/**
 * dataloader and val_dataloader: how batches are drawn.
 *
 * @param batchSize  samples per batch, >= 1
 * @param numWorkers background threads assembling batches ahead of the training step, >= 0 (0: on the caller's)
 * @param shuffle    draw windows in random order (training) or in order (validation)
 */
public record DataloaderConfig(int batchSize, int numWorkers, boolean shuffle) {

    /** @param section "dataloader" or "val_dataloader" */
    static DataloaderConfig read(ConfigReader r, String section) {
        int batchSize = r.integer(section + ".batch_size", 1);
        int numWorkers = r.integer(section + ".num_workers", 0);
        boolean shuffle = r.bool(section + ".shuffle");
        return new DataloaderConfig(batchSize, numWorkers, shuffle);
    }
}
