// The shape of one `vfiokit` subcommand. Each lives in src/cli/commands/<name>.ts and exports
// `command`; main.ts finds them by file name, so adding a command touches no shared file.

export interface Command {
  /** One line for `vfiokit --help`. */
  summary: string;
  /** Usage text and examples for `vfiokit <name> --help`. */
  help: string;
  /** Runs the command; returns the process exit code (see exit-codes.ts). */
  run(argv: string[]): Promise<number>;
}
