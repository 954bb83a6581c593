package org.cotrain.config;

/**
 * A configuration error a user can fix: an unknown or missing key, a bad value, a broken interpolation, a file that
 * is not YAML. The message names the key (and, where known, the file or override it came from) and is meant to be
 * shown as is, without a stack trace.
 */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
