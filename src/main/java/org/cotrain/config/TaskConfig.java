package org.cotrain.config;

/**
 * task: what is learned, and from which data (DP's task config, e.g. task/pusht_lowdim.yaml or task/pusht_image.yaml).
 *
 * @param name      task name (pusht_lowdim, pusht_image)
 * @param obsDim    width of one step's low-dim observation: the obs_keys arrays (image configs: the low_dim keys of
 *                  task.shape_meta) flattened and concatenated; 0 for an image config without low-dim keys
 * @param actionDim width of one action
 * @param dataset   the data
 */
public record TaskConfig(String name, int obsDim, int actionDim, DatasetConfig dataset) {

    static TaskConfig read(ConfigReader r, int horizon) {
        String name = r.text("task.name");
        int obsDim = r.integer("task.obs_dim", 1);
        int actionDim = r.integer("task.action_dim", 1);
        return new TaskConfig(name, obsDim, actionDim, DatasetConfig.read(r, horizon, null));
    }

    /** An image config's task: the sizes come from task.shape_meta. */
    static TaskConfig readImage(ConfigReader r, int horizon, ShapeMeta shapeMeta) {
        String name = r.text("task.name");
        return new TaskConfig(name, shapeMeta.lowdimDim(), shapeMeta.actionDim(), DatasetConfig.read(r, horizon,
                shapeMeta));
    }
}
