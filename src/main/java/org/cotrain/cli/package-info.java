/**
 * The {@code ./cotrain} command (picocli): one class per subcommand, and {@code SelfCheck}, which runs every op
 * against its reference. The top layer: may import every package.
 */
package org.cotrain.cli;
