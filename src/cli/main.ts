/**
 * The `firefly` command line: a registry of subcommands.
 */
import { bootCommand } from "./boot-command.js";
import { poolCommand } from "./pool-command.js";
import { runCommand } from "./run-command.js";

export interface Command {
  name: string;
  summary: string;
  /** What `firefly <name> --help` prints: a usage line and every option. */
  usage: string;
  run(args: string[]): Promise<number>;
}

/**
 * `--help` or `-h` among the options before the first positional argument
 * (`firefly run file.mjs --help` passes `--help` on to the pipeline).
 */
function asksForHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === "--help" || arg === "-h") return true;
    if (arg === "--") return false;
    if (!arg.startsWith("-")) return false;
  }
  return false;
}

const commands = new Map<string, Command>();

export function registerCommand(command: Command): void {
  commands.set(command.name, command);
}

registerCommand(bootCommand);
registerCommand(poolCommand);
registerCommand(runCommand);
registerCommand((await import("./jobserver-command.js")).jobserverCommand);

function usage(): string {
  const lines = [
    "usage: firefly <command> [options]   (firefly <command> --help for its options)",
    "",
    "commands:",
  ];
  for (const command of [...commands.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`  ${command.name.padEnd(10)} ${command.summary}`);
  }
  return lines.join("\n");
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands.get(name);
  if (!command) {
    console.error(`firefly: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  if (asksForHelp(rest)) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}
