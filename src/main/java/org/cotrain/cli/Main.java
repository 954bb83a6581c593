package org.cotrain.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cotrain} command line (./cotrain at the repository root). */
@Command(name = "cotrain", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train and evaluate diffusion policies from mixed-quality robot data.",
        subcommands = {DemoCommand.class, InfoCommand.class, TrainCommand.class, AnnotateCommand.class, AnalyzeCommand.class,
                BenchCommand.class,
                GenerateCommand.class, EvalCommand.class,
                RenderCommand.class, SweepCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        return new CommandLine(new Main()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            // Errors a user can act on are one line on stderr, not a stack trace.
            cmd.getErr().println("cotrain: " + e.getMessage());
            return 1;
        }).execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"cotrain " + version()};
        }
    }

    /** The engine's version, from the jar manifest, or "(development build)" when run from classes. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }
}
