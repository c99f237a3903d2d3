// The kubetrail program: its commands, and main() as src/cli.ts runs it.
import { Command, CommanderError } from 'commander';
import { serveCommand } from './serve.ts';
import { replayCommand } from './replay.ts';
import { importCommand } from './import.ts';
import { demoCommand } from './demo.ts';
import { queryCommand } from './query.ts';
import { diagnoseCommand } from './diagnose.ts';
import { explainCommand } from './explain.ts';
import { exportCommand } from './export.ts';
import { reenactCommand } from './reenact.ts';
import { compareCommand } from './compare.ts';
import { log } from '../core/log.ts';
import { ExitError, output } from './io.ts';
import { exitsOwnWay } from './options.ts';

export function buildProgram(): Command {
  const program = new Command('kubetrail')
    .description('Control-plane tracer for Kubernetes: audit events, watch changes and Events become per-object traces')
    .version('0.1.0')
    .showHelpAfterError();
  program.addCommand(serveCommand());
  program.addCommand(replayCommand());
  program.addCommand(importCommand());
  program.addCommand(demoCommand());
  program.addCommand(queryCommand());
  program.addCommand(diagnoseCommand());
  program.addCommand(explainCommand());
  program.addCommand(exportCommand());
  program.addCommand(reenactCommand());
  program.addCommand(compareCommand());
  return program;
}

/** Edit distance (insert, delete, substitute, swap neighbours), for naming the closest command. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The error for an unknown command word (`kubetrail frobnicate --help`), naming the closest command;
 * undefined when the first word is a command, `help` or an option. Commander would print the general
 * help and exit 0 when --help follows an unknown command.
 */
export function unknownCommandError(program: Command, args: string[]): string | undefined {
  // `kubetrail help frobnicate` too
  const word = args[0] === 'help' ? args[1] : args[0];
  if (word === undefined || word.startsWith('-') || word === 'help') return undefined;
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (names.includes(word)) return undefined;
  const closest = [...names].sort((x, y) => distance(word, x) - distance(word, y))[0]!;
  return `unknown command '${word}'. The closest command is '${closest}' (commands: ${program.commands.map((c) => c.name()).join(', ')}; kubetrail --help)`;
}

/**
 * Runs the program on `args` (without node and script) and resolves with its exit code instead of
 * exiting: 0 also while a long-running command (serve, query, demo) keeps serving. Help, errors and
 * command output go through src/commands/io.ts, so tests can run it in-process.
 */
export async function run(args: string[]): Promise<number> {
  const program = buildProgram();
  const unknown = unknownCommandError(program, args);
  if (unknown) {
    output.err(`kubetrail: ${unknown}\n`);
    return 1;
  }
  const configure = (cmd: Command) => {
    // a command with its own exit mapping (diagnose: usage errors exit 2) keeps it
    if (!exitsOwnWay(cmd)) cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (t) => output.out(t),
      writeErr: (t) => output.err(t),
      // commander's "error: …" in the same words as ours: "kubetrail: …"
      outputError: (t, write) => write(t.replace(/^error: /, 'kubetrail: ')),
    });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    log.debug({ err }, 'command failed');
    output.err(`kubetrail: ${(err as Error).message}\n`);
    return err instanceof ExitError ? err.exitCode : 1;
  }
}

export async function main(argv = process.argv): Promise<void> {
  const code = await run(argv.slice(2));
  if (code !== 0) process.exit(code);
}
