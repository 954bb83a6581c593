package org.cotrain.config;

/**
 * task: what is learned, and from which data (DP's task config, e.g. task/pusht_lowdim.yaml).
 *
 * @param name      task name (pusht_lowdim)
 * @param obsDim    width of one step's observation: the obs_keys arrays flattened and concatenated
 * @param actionDim width of one action
 * @param dataset   the data
 */
public record TaskConfig(String name, int obsDim, int actionDim, DatasetConfig dataset) {

    static TaskConfig read(ConfigReader r, int horizon) {
        String name = r.text("task.name");
        int obsDim = r.integer("task.obs_dim", 1);
        int actionDim = r.integer("task.action_dim", 1);
        return new TaskConfig(name, obsDim, actionDim, DatasetConfig.read(r, horizon));
    }
}
